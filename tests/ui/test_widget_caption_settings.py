"""The settings panel of the transcribe and translate modes in a real Chromium on JupyterLab
(issue 15): only the caption session's own fields show (no voice, model or instructions, no
token line), each applies live on the embedded server's session (echo brain), and a refused
field is marked. The kernel's caption session (the server's last ``session.updated``) is what is
checked, not the page's copy.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import UNIT
from tests.ui.test_widget_modes import open_caption_widget

pytestmark = pytest.mark.ui

CONVERSATION_ONLY = (
    ("combobox", "Voice"),
    ("combobox", "Model"),
    ("textbox", "Instructions"),
    ("checkbox", "Text-only answers"),
    ("checkbox", "Interrupt on speech"),
)


def _open_settings(view):
    view.open_settings()
    view.control("combobox", "Noise reduction").wait_for(timeout=10_000 * UNIT)


def _session(nb, path: str):
    return nb.kernel.value(f"(w.caption_session.session or {{}}){path}")


def test_transcribe_mode_settings_show_the_transcription_sessions_and_apply_live(open_notebook):
    nb, view = open_caption_widget(open_notebook, "mode='transcribe'", wav="silence")
    _open_settings(view)
    for role, name in CONVERSATION_ONLY:
        assert view.control(role, name).count() == 0, f"{name} shows in transcribe mode"
    assert view.root.get_by_label("Usage", exact=True).is_hidden(), "no usage is reported"
    model = view.control("combobox", "Transcription model")
    assert "gpt-transcribe" in model.locator("option").all_inner_texts()
    model.select_option("gpt-transcribe")
    nb.kernel.wait_for(
        "w.caption_session.session['audio']['input']['transcription']['model'] == 'gpt-transcribe'"
    )
    hint = view.control("textbox", "Language hint")
    hint.fill("de")
    hint.press("Tab")  # change fires on leaving the field
    prompt = view.control("textbox", "Transcription prompt")
    prompt.fill("A physics lecture")
    prompt.press("Tab")
    view.control("combobox", "Noise reduction").select_option("far_field")
    nb.kernel.wait_for(
        "w.caption_session.session['audio']['input']['noise_reduction'] and "
        "w.caption_session.session['audio']['input']['transcription'].get('prompt')"
    )
    transcription = _session(nb, "['audio']['input']['transcription']")
    assert transcription == {
        "model": "gpt-transcribe",
        "language": "de",
        "prompt": "A physics lecture",
    }
    assert _session(nb, "['audio']['input']['noise_reduction']['type']") == "far_field"
    badge = view.root.get_by_label("Mode", exact=True)
    nb.page.wait_for_function(
        "el => el.textContent === 'Live captions (de)'", arg=badge.element_handle()
    )
    nb.screenshot("transcribe-settings-live")

    view.refuse_vad_threshold()
    nb.screenshot("transcribe-refused-field")


def test_translate_mode_settings_change_the_target_language_live(open_notebook):
    nb, view = open_caption_widget(open_notebook, "mode='translate', language='fr'")
    _open_settings(view)
    for role, name in (*CONVERSATION_ONLY, ("spinbutton", "VAD threshold")):
        assert view.control(role, name).count() == 0, f"{name} shows in translate mode"
    assert view.root.get_by_label("Usage", exact=True).is_hidden(), "no usage is reported"
    target = view.control("combobox", "Target language")
    options = target.locator("option").all_inner_texts()
    assert len(options) == 16 and "German (de)" in options, options
    assert target.input_value() == "fr"
    target.select_option("de")
    nb.kernel.wait_for("w.caption_session.session['audio']['output']['language'] == 'de'")
    badge = view.root.get_by_label("Mode", exact=True)
    nb.page.wait_for_function(
        "el => el.textContent === 'Live translation → de'", arg=badge.element_handle()
    )
    nb.screenshot("translate-settings-live")
    # The next phrase is translated into German by the same session (no reconnect).
    view.listen_hands_free()
    translation = view.conversation.locator(".rtw-caption-translation").first
    translation.filter(has_text="[de]").wait_for(state="visible", timeout=60_000 * UNIT)
    assert re.match(r"\[de\] \[speech", translation.inner_text())
    assert nb.kernel.value("w.settings_status['notes']") == {}
    nb.screenshot("translate-german")
