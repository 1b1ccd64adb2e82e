"""Per-turn level strips and latency (issue 15, point 6) in a real Chromium on a real JupyterLab
kernel: the fake microphone speaks, server VAD ends the turn, the answer plays in the page; the
turn shows its level strips and latency, and ``w.turns`` has the same figure."""

from __future__ import annotations

import pytest

from tests.helpers import UNIT
from tests.ui.test_widget_theme import _theme

pytestmark = pytest.mark.ui

WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"


def test_a_spoken_turn_shows_its_level_strips_and_latency(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="question")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.listen_hands_free()
    view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    answer = view.conversation.locator('[data-role="assistant"][data-latency-ms]').first
    answer.wait_for(timeout=20_000 * UNIT)
    shown = int(answer.get_attribute("data-latency-ms"))
    assert 0 < shown < 20_000
    assert "latency" in answer.inner_text()
    turns = nb.kernel.wait_for("[t for t in w.turns if t['latency_ms']]")
    # The same figure (JavaScript rounds .5 up, Python to even).
    assert abs(turns[0]["latency_ms"] - shown) <= 0.5 and turns[0]["user_speech_s"] > 0.5
    strips = view.conversation.get_by_role("img", name="audio level", exact=False)
    user_strip = view.conversation.get_by_role("img", name="Your audio level, turn 1")
    user_strip.wait_for(timeout=20_000 * UNIT)
    view.conversation.get_by_role("img", name="Assistant audio level, turn 1").wait_for(
        timeout=30_000 * UNIT
    )
    assert strips.count() >= 2 and user_strip.locator(".rtw-bar").count() > 4
    nb.screenshot("turn-latency-and-levels")
    _theme(nb, "JupyterLab Dark")
    try:
        nb.page.wait_for_timeout(300)
        nb.screenshot("turn-latency-and-levels-dark")
    finally:
        _theme(nb, "JupyterLab Light")  # the server's settings outlive this test
