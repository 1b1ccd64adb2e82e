"""The widget in marimo: ``mo.ui.anywidget(RealtimeWidget())`` in an app (issue 15 point 8).

marimo is not Jupyter: no ipykernel, no ``get_ipython()``, its own comm (``MarimoComm``) carrying
anywidget's messages, and in ``marimo run`` each session's kernel is a thread of the server
process. One test, against ``marimo run`` (app mode: the page shows outputs, not code) with no
token on loopback and the embedded server (no key): the fake microphone's question is captured and
answered, the answer's audio is played in the page and its played counts reach the kernel (the
evidence the JupyterLab voice tests use), the transcript is visible, and a ``thread="main"`` tool
runs on marimo's kernel thread, where marimo's own API works.

marimo has no second kernel client to probe with, so the app itself writes the kernel-side state
the test reads (``w.items``, ``w.played_samples``, the transcript) to a JSON file a few times a
second: test scaffolding in the app written here, not in the widget.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import UNIT
from tests.ui.front_end_servers import MarimoServer
from tests.ui.widget_view import WidgetView

pytestmark = pytest.mark.ui

RATE = 24000

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


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory: pytest.TempPathFactory, speech_wavs) -> Iterator[MarimoServer]:
    """``marimo run`` of the app above, for this module; its probe file is ``server.probe``."""
    base = tmp_path_factory.mktemp("marimo")
    probe = base / "probe.json"
    app = base / "talk.py"
    app.write_text(APP.replace("PROBE", repr(str(probe))))
    server = MarimoServer(base, app)
    server.probe = probe
    server.start()
    yield server
    server.stop()


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


def test_marimo_app_streams_the_microphone_and_plays_the_answer(
    marimo_app, chromium_for, artifacts
):
    context = chromium_for("question").new_context(
        permissions=["microphone"], viewport={"width": 1280, "height": 1000}
    )
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
    shots = iter(range(1, 100))

    def shot(label: str) -> None:
        page.screenshot(path=str(artifacts / f"{next(shots):02d}-{label}.png"), full_page=True)

    try:
        page.goto(marimo_app.url, timeout=60_000 * UNIT)
        view = WidgetView(page.locator(".rtw-root").first)
        view.root.wait_for(state="visible", timeout=60_000 * UNIT)
        view.wait_status("connected")
        # App mode shows the output only, not the cell's code.
        assert "RealtimeWidget()" not in page.locator("body").inner_text()
        shot("marimo-connected")

        # The microphone streams: the fake mic's speech is captured, sent through marimo's comm,
        # and server VAD makes it a user turn.
        view.listen_hands_free()
        view.wait_data_at_least("captured-samples", RATE // 2)
        user = view.wait_turn("user", timeout=30 * UNIT)
        reply = view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
        reply_id = reply.get_attribute("data-item-id")
        # Playback plays: the answer's audio reaches the page's player...
        view.wait_data_at_least("played-samples", RATE // 10)
        shot("marimo-answered")
        # ...and the page's played counts reach the kernel.
        state = _kernel_state(
            marimo_app.probe,
            lambda s: s["played"].get(f"{reply_id}:0", 0) > 0,
            20 * UNIT,
            marimo_app.log_tail,
        )
        ids = {i["id"]: i["role"] for i in state["items"]}
        assert ids.get(user.get_attribute("data-item-id")) == "user", state["items"]
        assert ids.get(reply_id) == "assistant", state["items"]
        assert "You said" in state["transcript"]
        assert state["errors"] == [], state["errors"]

        # A thread="main" tool runs on marimo's kernel thread (its asyncio loop), as it runs on
        # ipykernel's main thread in Jupyter: marimo's API works there, not on a worker thread.
        view.control("button", "Microphone").click()  # hands-free: the click turns the mic off
        view.wait_pressed(False)
        view.send_message("call where_am_i with {}")
        view.wait_turn("assistant", text="marimo=True", timeout=30 * UNIT)
        shot("marimo-main-thread-tool")
    finally:
        shot("teardown")
        (artifacts / "console.log").write_text("\n".join(console))
        context.close()
