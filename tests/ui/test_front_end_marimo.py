"""The widget in marimo: ``mo.ui.anywidget(RealtimeWidget())`` in an app (issue 15 point 8) and
in the editor (issue 15, ``i15modes``).

marimo is not Jupyter: no ipykernel, no ``get_ipython()``, its own comm (``MarimoComm``) carrying
anywidget's messages. In ``marimo run`` each session's kernel is a thread of the server process;
in ``marimo edit`` it is a process of its own, and the page is the editor (code and outputs).
Against each, with no token on loopback and the embedded server (no key): the fake microphone's
question is captured and answered, the answer's audio is played in the page and its played
counts reach the kernel (the evidence the JupyterLab voice tests use), the transcript is
visible; in the app, a ``thread="main"`` tool runs on marimo's kernel thread, where marimo's own
API works.

marimo has no second kernel client to probe with, so the notebook itself writes the kernel-side
state the test reads (``w.items``, ``w.played_samples``, the transcript) to a JSON file a few
times a second: test scaffolding in the notebook written here, not in the widget.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import UNIT
from tests.ui.app_page import app_page, spoken_turn
from tests.ui.front_end_servers import MarimoEditServer, MarimoServer

pytestmark = pytest.mark.ui

APP = '''
import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo
    from realtime_widget import RealtimeWidget

    w = RealtimeWidget()

    @w.tool(thread="main")
    def where_am_i() -> str:
        """Where this tool runs."""
        import threading

        return f"{threading.current_thread().name} marimo={mo.running_in_notebook()}"

    mo.ui.anywidget(w)
    return (w,)


@app.cell
def _(w):
    # Test scaffolding: the kernel-side state, for the test to read.
    import json as _json
    import pathlib as _pathlib
    import threading as _threading
    import time as _time

    def _dump():
        path = _pathlib.Path(PROBE)
        while True:
            state = {
                "status": w.status,
                "items": [
                    {k: i.get(k) for k in ("id", "role", "type", "tool", "audio_samples")}
                    for i in w.items
                ],
                "played": dict(w.played_samples),
                "transcript": w.transcript,
                "errors": list(w.errors),
            }
            path.with_suffix(".tmp").write_text(_json.dumps(state, default=str))
            path.with_suffix(".tmp").replace(path)
            _time.sleep(0.2)

    _threading.Thread(target=_dump, daemon=True).start()
    return


if __name__ == "__main__":
    app.run()
'''


def _serve(server_class, tmp_path_factory: pytest.TempPathFactory) -> Iterator[MarimoServer]:
    """A marimo server of the notebook above; its probe file is ``server.probe``."""
    base = tmp_path_factory.mktemp(server_class.subcommand)
    probe = base / "probe.json"
    app = base / "talk.py"
    app.write_text(APP.replace("PROBE", repr(str(probe))))
    server = server_class(base, app)
    server.probe = probe
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def marimo_app(tmp_path_factory: pytest.TempPathFactory, speech_wavs) -> Iterator[MarimoServer]:
    """``marimo run`` of the notebook above (function-scoped: one server at a time)."""
    yield from _serve(MarimoServer, tmp_path_factory)


@pytest.fixture
def marimo_editor(tmp_path_factory: pytest.TempPathFactory, speech_wavs) -> Iterator[MarimoServer]:
    """``marimo edit`` of the notebook above."""
    yield from _serve(MarimoEditServer, tmp_path_factory)


def _kernel_state(probe: Path, predicate, timeout: float, log_tail) -> dict[str, Any]:
    """Wait until the app's probe file satisfies ``predicate``; return that state."""
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {}
    while time.monotonic() < deadline:
        if probe.exists():
            state = json.loads(probe.read_text())
            if predicate(state):
                return state
        time.sleep(0.2)
    raise AssertionError(f"kernel state after {timeout}s: {state}\n--- log:\n{log_tail()}")


def _check_the_kernel_heard(server: MarimoServer, user_id: str, reply_id: str) -> None:
    """The page's played counts reached the kernel, which holds the same turn and transcript."""
    state = _kernel_state(
        server.probe,
        lambda s: s["played"].get(f"{reply_id}:0", 0) > 0,
        20 * UNIT,
        server.log_tail,
    )
    ids = {i["id"]: i["role"] for i in state["items"]}
    assert ids.get(user_id) == "user", state["items"]
    assert ids.get(reply_id) == "assistant", state["items"]
    assert "You said" in state["transcript"]
    assert state["errors"] == [], state["errors"]


def test_marimo_app_streams_the_microphone_and_plays_the_answer(
    marimo_app, chromium_for, artifacts
):
    with app_page(chromium_for("question"), artifacts, marimo_app.url) as app:
        view = app.view
        view.wait_status("connected")
        # App mode shows the output only, not the cell's code.
        assert "RealtimeWidget()" not in app.page.locator("body").inner_text()
        app.shot("marimo-connected")

        # The microphone streams: the fake mic's speech is captured, sent through marimo's comm,
        # server VAD makes it a user turn, the answer plays in the page...
        user_id, reply_id = spoken_turn(view)
        app.shot("marimo-answered")
        # ...and the page's played counts reach the kernel.
        _check_the_kernel_heard(marimo_app, user_id, reply_id)

        # A thread="main" tool runs on marimo's kernel thread (its asyncio loop), as it runs on
        # ipykernel's main thread in Jupyter: marimo's API works there, not on a worker thread.
        view.control("button", "Microphone").click()  # hands-free: the click turns the mic off
        view.wait_pressed(False)
        view.send_message("call where_am_i with {}")
        view.wait_turn("assistant", text="marimo=True", timeout=30 * UNIT)
        app.shot("marimo-main-thread-tool")


def test_marimo_editor_runs_the_notebook_and_a_spoken_question_gets_a_played_answer(
    marimo_editor, chromium_for, artifacts
):
    editor = marimo_editor.url
    with app_page(chromium_for("question"), artifacts, editor, wait_widget=False) as app:
        # The editor opens the notebook with its cells not run (stale): run them all, as a user
        # does with the run button (the last one: the page's own, after the cells').
        code = app.page.get_by_text("mo.ui.anywidget(w)")  # the editor shows the code
        code.first.wait_for(timeout=60_000 * UNIT)
        run_all = app.page.get_by_test_id("run-button").last
        app.shot("marimo-edit-opened")
        run_all.click()
        view = app.view
        view.root.wait_for(state="visible", timeout=60_000 * UNIT)
        view.wait_status("connected")
        app.shot("marimo-edit-connected")
        user_id, reply_id = spoken_turn(view)
        app.shot("marimo-edit-answered")
        _check_the_kernel_heard(marimo_editor, user_id, reply_id)
        assert view.conversation.get_by_text("You said").count() > 0  # the transcript shows
