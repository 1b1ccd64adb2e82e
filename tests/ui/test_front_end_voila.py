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

from tests.ui.app_page import app_page, spoken_turn
from tests.ui.front_end_servers import VoilaServer
from tests.ui.kernel_probe import KernelProbe

pytestmark = pytest.mark.ui

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
    probe: KernelProbe | None = None
    try:
        with app_page(chromium_for("question"), artifacts, voila.url, height=900) as app:
            page, view = app.page, app.view
            view.wait_status("connected")
            app.shot("voila-classroom")
            # Only the widget: no code, no other output, one widget.
            body = page.locator("body").inner_text()
            assert "from realtime_widget import" not in body and "patient tutor" not in body, body
            assert page.locator(".rtw-root").count() == 1
            assert page.locator(".jp-InputArea, .jp-CodeMirrorEditor, .cm-editor").count() == 0

            _user_id, reply_id = spoken_turn(view)
            app.shot("voila-answered")

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
