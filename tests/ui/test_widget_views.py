"""The Stop button, and two views of one widget.

Stop cuts playback at once and the kernel truncates at what was played. Several views of one
widget share one audio engine (one microphone, one player: the answer is not played twice) and all
show the same conversation (docs/widget-protocol.md, UI contract).
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import UNIT
from tests.ui.page_resources import WIDGET_COUNTS_JS

pytestmark = pytest.mark.ui

RATE = 24000
PLAYED_REPORT_INTERVAL_MS = 200

WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"
# A long typed message makes a long spoken reply (EchoBrain repeats it).
LONG_TEXT = "please read this sentence back to me slowly " * 3
HINT = (
    " (anywidget passes render() a new model proxy per view, and initialize() another one, so"
    " state kept in a WeakMap keyed by the model object is not shared: each gets its own engine)"
)


def test_stop_button_cuts_playback_and_the_kernel_truncates_at_what_was_played(
    open_notebook, artifacts
):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message(LONG_TEXT.strip())
    reply = view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    reply_id = reply.get_attribute("data-item-id")
    view.wait_data_at_least("played-samples", RATE // 2, timeout=20 * UNIT)

    view.control("button", "Stop").click()
    cut = nb.kernel.wait_for("w.last_truncate", timeout=10 * UNIT)
    nb.screenshot("stopped")
    assert cut["item_id"] == reply_id
    played = nb.kernel.value(f"w.played_samples.get({reply_id + ':0'!r}, 0)")
    (artifacts / "truncate.json").write_text(json.dumps({"truncate": cut, "played": played}))
    assert played > 0
    assert abs(cut["audio_end_ms"] - played * 1000 // RATE) <= PLAYED_REPORT_INTERVAL_MS
    total = view.data_int("played-samples")
    nb.page.wait_for_timeout(1000 * UNIT)
    assert view.data_int("played-samples") == total, "playback went on after Stop"
    view.conversation.locator(f'[data-item-id="{reply_id}"][data-truncated="true"]').wait_for(
        timeout=10 * UNIT * 1000
    )


def test_two_views_of_one_widget_share_one_player_and_one_conversation(open_notebook):
    nb = open_notebook([WIDGET_CELL, "w"], wav="silence")
    first, second = nb.wait_widget(0), nb.wait_widget(1)
    first.wait_status("connected")
    second.wait_status("connected")

    second.send_message("hello to both views")
    for view in (first, second):
        view.wait_turn("user", text="hello to both views")
        view.wait_turn("assistant", text="You said: hello to both views", timeout=30 * UNIT)
    first.wait_data_at_least("played-samples", RATE // 2, timeout=20 * UNIT)
    nb.screenshot("two-views")
    counts = nb.page.evaluate(WIDGET_COUNTS_JS)
    # One engine per model: a second player would play every answer twice.
    assert counts["audioContexts"] == 1, f"two views must share one audio engine: {counts}{HINT}"
    assert counts["worklets"] <= 2, counts


def test_one_view_plays_each_answer_through_one_player(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message("just once please")
    view.wait_turn("assistant", text="You said: just once please", timeout=30 * UNIT)
    view.wait_data_at_least("played-samples", RATE // 4, timeout=20 * UNIT)
    counts = nb.page.evaluate(WIDGET_COUNTS_JS)
    assert counts["audioContexts"] == 1, (
        f"the answer is played by more than one player: {counts}{HINT}"
    )
