"""Error paths a user meets in the browser, shown in the widget rather than only in the console."""

from __future__ import annotations

import re

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"
RATE = 24000
STILL_WORKS = "Typed messages and playback still work"
"""What every microphone notice says (js/audio/mic-support.ts)."""

# VS Code's notebook webview gives the widget no usable getUserMedia; this gives JupyterLab's
# page the same (before any page script runs), so the rest of the page is a real one.
NO_MEDIA_DEVICES = (
    "Object.defineProperty(Navigator.prototype, 'mediaDevices',"
    " {get: () => undefined, configurable: true});"
)


def test_a_page_without_microphone_access_says_so_and_typing_and_playback_still_work(
    open_notebook,
):
    nb = open_notebook([WIDGET_CELL], wav="silence", init_scripts=(NO_MEDIA_DEVICES,))
    view = nb.wait_widget()
    view.wait_status("connected")
    # Said at once, before anyone presses anything, and reported to the kernel.
    notice = view.alerts.filter(has_text="The microphone is not available here").first
    notice.wait_for(timeout=10 * UNIT * 1000)
    assert STILL_WORKS in notice.inner_text() and "VS Code" in notice.inner_text()
    assert notice.get_attribute("data-code") == "no_microphone"
    errors = nb.kernel.wait_for("[e for e in w.errors if e.get('source') == 'browser']")
    assert [e["code"] for e in errors] == ["no_microphone"], errors
    # No control that cannot work: Microphone is disabled and says why; the hint offers typing.
    mic = view.control("button", "Microphone")
    assert mic.is_disabled() and mic.get_attribute("aria-pressed") == "false"
    assert "not available here" in (mic.get_attribute("title") or "")
    hint = view.root.get_by_role("note", name="Getting started")
    assert hint.inner_text() == "Type a message below (answers are spoken)."
    nb.screenshot("no-microphone-here")

    # Typed input and playback work.
    view.send_message("typing still works")
    view.wait_turn("assistant", text="You said: typing still works", timeout=30 * UNIT)
    view.wait_data_at_least("played-samples", RATE // 10)
    assert nb.kernel.wait_for("sum(w.played_samples.values())") > 0
    nb.screenshot("no-microphone-typed-reply-played")


def test_denied_microphone_shows_an_error_and_text_still_works(open_notebook):
    # A real denial: no auto-accept flag and a context without the microphone permission, so
    # Chromium's getUserMedia rejects with NotAllowedError as when a user clicks "Block".
    nb = open_notebook([WIDGET_CELL], wav="question", grant_microphone=False)
    view = nb.wait_widget()
    view.wait_status("connected")
    view.set_hands_free(False)
    view.control("button", "Microphone").click()  # asking to talk asks for the microphone

    alert = view.alerts.filter(has_text=re.compile("microphone", re.IGNORECASE)).first
    alert.wait_for(timeout=15 * UNIT * 1000)
    nb.screenshot("microphone-denied")
    assert re.search(r"denied|blocked|permission|allow", alert.inner_text(), re.IGNORECASE)
    assert STILL_WORKS in alert.inner_text(), alert.inner_text()
    errors = nb.kernel.wait_for("[e for e in w.errors if e.get('source') == 'browser']")
    assert any(e.get("code") == "mic_denied" for e in errors), errors
    assert view.control("button", "Microphone").get_attribute("aria-pressed") != "true"
    assert view.data_int("captured-samples") == 0
    assert nb.page.evaluate("() => (globalThis.__rtwResources || {}).mediaStreamTracks || 0") == 0

    # Hands-free: Microphone asks again, is refused again, and the button does not stay on
    # ("● Listening…" with nothing listening would be a stuck control).
    view.set_hands_free(True)
    mic = view.control("button", "Microphone")
    mic.click()
    nb.kernel.wait_for(
        "[e for e in w.errors if e.get('code') == 'mic_denied' and e.get('count', 1) >= 2]"
    )
    view.wait_pressed(False)
    assert mic.inner_text() == "● Mic" and mic.is_enabled()  # the user may still allow it
    assert view.alerts.filter(has_text="permission was denied").count() == 1

    # The conversation goes on in text.
    view.send_message("can you still hear me")
    view.wait_turn("assistant", text="can you still hear me", timeout=30 * UNIT)
    nb.screenshot("text-after-denial")


def test_restarted_kernel_is_shown_in_the_widget_and_stops_the_controls(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    # Restart as a user does: Kernel menu, then confirm. (A restart through the REST API alone
    # never tells the page "restarting", so JupyterLab itself would not notice.)
    nb.page.evaluate("() => { window.jupyterapp.commands.execute('kernelmenu:restart'); }")
    nb.page.get_by_role("button", name="Confirm Kernel Restart").click()

    alert = view.alerts.filter(has_text=re.compile("kernel", re.IGNORECASE)).first
    alert.wait_for(timeout=20 * UNIT * 1000)
    nb.screenshot("kernel-gone")
    assert re.search(r"re-?run|restart", alert.inner_text(), re.IGNORECASE), alert.inner_text()
    assert view.control("button", "Microphone").is_disabled()


def test_pressing_connect_again_after_a_refused_key_shows_one_alert_that_counts(open_notebook):
    # The widget's own server with a key, and a widget holding the wrong one: HTTP 401 each time.
    cells = [
        "from realtime_widget import LocalRealtimeServer, RealtimeWidget\n"
        "server = LocalRealtimeServer(api_key='sk-test-right-key-for-this-test').start()\n"
        "w = RealtimeWidget(url=server.url, api_key='sk-test-wrong-key-for-this-test')\n"
        "w"
    ]
    nb = open_notebook(cells, wav="silence")
    view = nb.wait_widget()
    view.wait_status("error")
    refusals = view.alerts.filter(has_text="HTTP 401")
    refusals.first.wait_for(timeout=15 * UNIT * 1000)
    assert refusals.count() == 1
    for failures in (2, 3):
        view.control("button", "Connect").click()
        nb.kernel.wait_for(f"w.errors and w.errors[-1].get('count') == {failures}")
        counted = view.alerts.filter(has_text=f"({failures} times)")
        counted.first.wait_for(timeout=10 * UNIT * 1000)
        view.wait_status("error")
        assert refusals.count() == 1, [a.inner_text() for a in view.alerts.all()]
    nb.screenshot("one-alert-three-failures")
    alert = refusals.first
    assert alert.get_attribute("data-source") == "connection"
    assert alert.get_attribute("data-count") == "3"
    assert "wrong-key" not in alert.inner_text()
    assert nb.kernel.value("len(w.errors)") == 1


# Keeps the page's last microphone stream reachable, so the test can end its track.
KEEP_STREAM = """
(() => {
  const md = navigator.mediaDevices;
  const original = md.getUserMedia.bind(md);
  md.getUserMedia = async (constraints) => {
    const stream = await original(constraints);
    window.__rtwLastStream = stream;
    return stream;
  };
})();
"""


def test_a_microphone_lost_mid_turn_ends_the_turn_with_what_was_said_and_says_so(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="question", init_scripts=(KEEP_STREAM,))
    view = nb.wait_widget()
    view.wait_status("connected")
    view.set_hands_free(False)
    mic = view.control("button", "Microphone")
    mic.click()  # a click toggles push-to-talk on
    view.wait_pressed(True)
    view.wait_data_at_least("captured-samples", 3 * RATE, timeout=15 * UNIT)

    # Unplugged: Chromium's fake device cannot be removed, so the track gets the "ended" event a
    # real removal fires.
    nb.page.evaluate(
        "() => window.__rtwLastStream.getAudioTracks()[0].dispatchEvent(new Event('ended'))"
    )
    alert = view.alerts.filter(has_text="The microphone stopped").first
    alert.wait_for(timeout=10 * UNIT * 1000)
    view.wait_pressed(False)  # not left "● Listening…"
    assert mic.is_enabled()
    # What was said before the loss is a turn, and it is answered.
    view.wait_turn("user", timeout=20 * UNIT)
    view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    errors = nb.kernel.wait_for("[e['code'] for e in w.errors if e.get('source') == 'browser']")
    assert errors == ["mic_ended"], errors
    nb.screenshot("microphone-lost")
