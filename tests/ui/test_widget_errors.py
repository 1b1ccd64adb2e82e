"""Error paths a user meets in the browser, shown in the widget rather than only in the console."""

from __future__ import annotations

import re

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"


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
    errors = nb.kernel.wait_for("[e for e in w.errors if e.get('source') == 'browser']")
    assert any(e.get("code") == "mic_denied" for e in errors), errors
    assert view.control("button", "Microphone").get_attribute("aria-pressed") != "true"
    assert view.data_int("captured-samples") == 0
    assert nb.page.evaluate("() => (globalThis.__rtwResources || {}).mediaStreamTracks || 0") == 0

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
