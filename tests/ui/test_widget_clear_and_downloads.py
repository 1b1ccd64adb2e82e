"""New conversation and the download buttons, in a real Chromium on a real JupyterLab kernel."""

from __future__ import annotations

import wave

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"


def test_download_buttons_save_the_transcript_and_audio_then_new_conversation_empties_it(
    open_notebook, tmp_path, leak_key
):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message("say something to download")
    view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    samples = nb.kernel.wait_for(
        "sum(i['audio_samples'] for i in w.items if i['role'] == 'assistant'"
        " and i['status'] == 'completed')"
    )
    ms = 15 * UNIT * 1000

    with nb.page.expect_download(timeout=ms) as info:
        view.root.get_by_role("button", name="Download transcript", exact=True).click()
    path = tmp_path / "transcript.md"
    info.value.save_as(path)
    assert info.value.suggested_filename.endswith(".md")
    text = path.read_text("utf-8")
    assert "**User:** say something to download" in text and "**Assistant:** You said" in text
    assert leak_key not in text

    with nb.page.expect_download(timeout=ms) as info:
        view.root.get_by_role("button", name="Download audio", exact=True).click()
    wav_path = tmp_path / "audio.wav"
    info.value.save_as(wav_path)
    with wave.open(str(wav_path)) as f:
        assert (f.getframerate(), f.getnchannels(), f.getsampwidth()) == (24000, 1, 2)
        assert f.getnframes() == samples > 0

    view.root.get_by_role("button", name="New conversation", exact=True).click()
    nb.kernel.wait_for("w.items == [] and w.client.conversation.get_items() == []")
    view.root.locator("[data-item-id]").first.wait_for(state="detached", timeout=ms)
    nb.screenshot("new-conversation")
