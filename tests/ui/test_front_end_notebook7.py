"""The widget in Notebook 7 (``jupyter notebook``), installed by the test extra (issue 15 point 8).

Notebook 7 is JupyterLab's components in a one-document shell with its own page and widget
manager set-up; a widget that works in JupyterLab can still fail to load or to receive binary
messages there. One test: open a notebook in Notebook 7, display the widget, talk to it through
Chromium's fake microphone (the embedded server, no key) and see the transcript, with the answer's
audio played in the page and reported to the kernel.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.ui.app_page import spoken_turn
from tests.ui.jupyter_lab import NotebookServer, write_notebook
from tests.ui.lab_page import LabNotebook

pytestmark = pytest.mark.ui

WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"


@pytest.fixture(scope="module")
def notebook7(tmp_path_factory: pytest.TempPathFactory, speech_wavs) -> Iterator[NotebookServer]:
    """One Notebook 7 server for this module (no OPENAI_API_KEY in its kernels' env)."""
    server = NotebookServer(tmp_path_factory.mktemp("notebook7"))
    server.start()
    yield server
    server.stop()


def test_notebook7_shows_the_widget_and_a_spoken_question_gets_a_played_answer(
    notebook7, chromium_for, artifacts
):
    write_notebook(notebook7.root / "talk.ipynb", [WIDGET_CELL])
    context = chromium_for("question").new_context(
        permissions=["microphone"], viewport={"width": 1280, "height": 1000}
    )
    nb = LabNotebook(context.new_page(), notebook7, "talk.ipynb", artifacts)
    try:
        nb.open()
        # Notebook 7's own page, not JupyterLab's.
        assert "/notebooks/talk.ipynb" in nb.page.url
        assert nb.page.locator("#main-panel, .jp-NotebookPanel").count() > 0
        nb.run_all()
        view = nb.wait_widget()
        view.wait_status("connected")
        nb.screenshot("notebook7-connected")
        _user_id, reply_id = spoken_turn(view)
        nb.screenshot("notebook7-answered")

        # The kernel has the same conversation and heard from the page what was played.
        roles = nb.kernel.wait_for("[i.get('role') for i in w.items if i.get('role')]")
        assert "user" in roles and "assistant" in roles, roles
        assert nb.kernel.wait_for(f"w.played_samples.get({reply_id + ':0'!r}, 0)") > 0
        assert "You said" in nb.kernel.value("w.transcript")
    finally:
        try:
            nb.screenshot("teardown")
        finally:
            nb.close()
            context.close()
            notebook7.shutdown_sessions()
