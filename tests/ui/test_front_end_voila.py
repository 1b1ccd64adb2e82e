"""The classroom page: ``voila notebooks/classroom.ipynb`` in Chromium (issue 15 point 8).

Voilà runs the notebook in a fresh kernel per page load, strips the code and shows the outputs:
a student sees only the widget and talks to it. One test: the page shows the widget and no code,
the fake microphone's question is captured and answered by the embedded server (no key), the
answer plays in the page and its played counts reach the kernel, the transcript is there.

Voilà's Origin rules apply to its own websockets (the page's kernel channel); the widget's
websocket to the embedded server is opened by the kernel, not the page, so the embedded server's
Origin check (loopback pages only, issue 13) never sees Voilà's page: the conversation working
here is the check, and the test also reads the kernel's URL to confirm it is the loopback server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import UNIT
from tests.ui.front_end_servers import VoilaServer
from tests.ui.kernel_probe import KernelProbe
from tests.ui.widget_view import WidgetView

pytestmark = pytest.mark.ui

RATE = 24000
CLASSROOM = Path(__file__).resolve().parents[2] / "notebooks" / "classroom.ipynb"


@pytest.fixture(scope="module")
def voila(tmp_path_factory: pytest.TempPathFactory, speech_wavs) -> Iterator[VoilaServer]:
    """``voila notebooks/classroom.ipynb`` for this module (no OPENAI_API_KEY in its env)."""
    server = VoilaServer(tmp_path_factory.mktemp("voila"), CLASSROOM)
    server.start()
    yield server
    server.stop()


def test_voila_classroom_page_shows_only_the_widget_and_a_student_talks_to_it(
    voila, chromium_for, artifacts
):
    context = chromium_for("question").new_context(
        permissions=["microphone"], viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
    shots = iter(range(1, 100))
    probe: KernelProbe | None = None

    def shot(label: str) -> None:
        page.screenshot(path=str(artifacts / f"{next(shots):02d}-{label}.png"), full_page=True)

    try:
        page.goto(voila.url, timeout=60_000 * UNIT)
        view = WidgetView(page.locator(".rtw-root").first)
        view.root.wait_for(state="visible", timeout=60_000 * UNIT)
        view.wait_status("connected")
        shot("voila-classroom")
        # Only the widget: no code, no other output, one widget.
        body = page.locator("body").inner_text()
        assert "from realtime_widget import" not in body and "patient tutor" not in body, body
        assert page.locator(".rtw-root").count() == 1
        assert page.locator(".jp-InputArea, .jp-CodeMirrorEditor, .cm-editor").count() == 0

        view.listen_hands_free()
        view.wait_data_at_least("captured-samples", RATE // 2)
        view.wait_turn("user", timeout=30 * UNIT)
        reply = view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
        reply_id = reply.get_attribute("data-item-id")
        view.wait_data_at_least("played-samples", RATE // 10)
        shot("voila-answered")

        # The kernel Voilà started for this page has the conversation and the played counts.
        files = voila.connection_files()
        assert len(files) == 1, files
        probe = KernelProbe(files[0])
        assert probe.wait_for(f"w.played_samples.get({reply_id + ':0'!r}, 0)") > 0
        assert "You said" in probe.value("w.transcript")
        # The widget's websocket is the kernel's, to the loopback embedded server.
        assert probe.value("w.server.url").startswith("ws://127.0.0.1:")
        assert probe.value("[e for e in w.errors]") == []
    finally:
        if probe is not None:
            probe.close()
        shot("teardown")
        (artifacts / "console.log").write_text("\n".join(console))
        context.close()
