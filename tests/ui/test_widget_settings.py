"""Live settings (issue 15, point 5) in a real Chromium on a real JupyterLab kernel: the voice
picker before the first audio, instructions mid-session (the server's ``session.updated`` shows
them), the voice locked after a spoken answer, a refused field marked, a microphone that is gone.
"""

from __future__ import annotations

import pytest

from tests.helpers import UNIT
from tests.ui.test_widget_theme import LUMINANCE_JS, _theme

pytestmark = pytest.mark.ui

WIDGET_CELL = (
    "from realtime_widget import RealtimeWidget\n"
    "w = RealtimeWidget()\n"
    "updated = []  # the server's session.updated, newest last\n"
    "def _keep(e):\n"
    "    if e.get('source') == 'server' and e['event'].get('type') == 'session.updated':\n"
    "        updated.append(e['event']['session'])\n"
    "w.client.on('realtime.event', _keep)\n"
    "w"
)


def test_settings_apply_live_lock_the_voice_and_mark_a_refused_field(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    summary = view.root.locator("summary", has_text="Settings")
    summary.focus()
    nb.page.keyboard.press("Enter")  # keyboard: the panel opens without a mouse
    voice = view.control("combobox", "Voice")
    assert voice.is_enabled()
    voice.select_option("cedar")
    nb.kernel.wait_for("bool(updated) and updated[-1]['audio']['output']['voice'] == 'cedar'")

    instructions = view.control("textbox", "Instructions")
    instructions.fill("Answer like a pirate.")
    instructions.press("Tab")  # change fires on leaving the field
    nb.kernel.wait_for("updated[-1]['instructions'] == 'Answer like a pirate.'")
    nb.screenshot("settings-live")

    view.send_message("say something so that the voice is heard")
    view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    nb.page.wait_for_function(
        "el => el.disabled", arg=voice.element_handle(), timeout=15_000 * UNIT
    )
    note = view.root.locator('[data-note="voice"]')
    assert "cannot change" in note.inner_text()
    assert voice.get_attribute("aria-describedby") == note.get_attribute("id")
    nb.screenshot("voice-locked")

    refused = view.refuse_vad_threshold()
    threshold = view.control("spinbutton", "VAD threshold")
    assert nb.kernel.wait_for("w.client.session_config['audio']['input']['turn_detection']")
    nb.screenshot("refused-field")

    _theme(nb, "JupyterLab Dark")
    nb.page.wait_for_timeout(300)  # let the theme's stylesheet apply before measuring
    nb.screenshot("settings-dark-theme")
    try:
        for part in (voice, note, refused, threshold):
            lum = part.evaluate(LUMINANCE_JS)
            lighter, darker = sorted((lum["text"], lum["background"]), reverse=True)
            assert lum["background"] < 0.5 and (lighter + 0.05) / (darker + 0.05) >= 3, lum
    finally:
        _theme(nb, "JupyterLab Light")  # the server's settings outlive this test


def test_a_microphone_that_is_gone_falls_back_to_the_default_with_a_notice(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    nb.kernel.run("w.settings = {**w.settings, 'mic_device': 'unplugged-usb-mic'}")
    view.root.locator("summary", has_text="Settings").click()
    mic = view.control("combobox", "Microphone")
    mic.wait_for()
    view.listen_hands_free()  # the default microphone opens instead of none
    view.alerts.filter(has_text="no longer available").wait_for(timeout=10_000 * UNIT)
    nb.kernel.wait_for("w.settings.get('mic_device') == ''")
    assert mic.input_value() == ""
    options = mic.locator("option").all_inner_texts()
    assert options[0] == "Default microphone" and len(options) >= 2, options
    nb.screenshot("microphone-fallback")
