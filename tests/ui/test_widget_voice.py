"""Voice end to end in JupyterLab: a fake microphone talks to the embedded server via the widget.

Chromium's fake microphone plays a speech WAV made with espeak-ng; the widget captures it, the
kernel relays it to the embedded server (no OPENAI_API_KEY in the kernel), whose EchoBrain answers
with speech that the browser plays and reports back to the kernel. Each test reads the browser
(the widget's accessible UI and ``data-*`` counters) and the kernel (``w.items``,
``w.played_samples``, ``w.last_truncate``) and keeps screenshots of each state.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

RATE = 24000

WIDGET_CELL = """
from realtime_widget import RealtimeWidget
w = RealtimeWidget()
w
"""

PLAYED_REPORT_INTERVAL_MS = 200
"""Browser -> kernel ``played`` reports come at most 5 times a second (docs/widget-protocol.md);
the kernel's figure may lag the player by one such interval."""


def test_hands_free_speech_gets_a_spoken_reply_that_the_browser_plays_and_reports(
    open_notebook, artifacts
):
    nb = open_notebook([WIDGET_CELL], wav="question")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.listen_hands_free()
    nb.screenshot("connected-hands-free")

    # The fake mic's speech is captured and sent to the kernel...
    view.wait_data_at_least("captured-samples", RATE // 2)
    # ...server VAD ends the turn: a user item appears in the view and in the kernel.
    user = view.wait_turn("user", timeout=30 * UNIT)
    nb.screenshot("user-turn")
    user_id = user.get_attribute("data-item-id")
    assert user_id, "a turn must carry data-item-id"
    kernel_user = nb.kernel.wait_for(
        f"[i for i in w.items if i['id'] == {user_id!r} and i.get('role') == 'user']"
    )[0]
    assert kernel_user["type"] == "message"

    # The assistant's reply streams into the view (EchoBrain says "You said: ...").
    reply = view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    reply_id = reply.get_attribute("data-item-id")
    nb.screenshot("assistant-streaming")

    # Its audio is played in the page and the played counts reach the kernel.
    view.wait_data_at_least("played-samples", RATE // 10)
    played = nb.kernel.wait_for(f"w.played_samples.get({reply_id + ':0'!r}, 0)")
    assert played > 0

    # With 9 s of silence after the question nobody interrupts: every sample of the reply is
    # played, and the browser's last report tells the kernel so.
    item = nb.kernel.wait_for(
        f"[i for i in w.items if i['id'] == {reply_id!r} and i.get('status') == 'completed']",
        timeout=30 * UNIT,
    )[0]
    received = item["audio_samples"]
    assert received > RATE // 2, item
    final = nb.kernel.wait_for(
        f"w.played_samples.get({reply_id + ':0'!r}, 0) >= {received}"
        f" and w.played_samples.get({reply_id + ':0'!r}, 0)",
        timeout=received / RATE + 10 * UNIT,
    )
    assert final == received, "the browser cannot have played more than the kernel sent"
    assert nb.kernel.value("w.last_truncate") is None, "nothing interrupted this reply"
    assert view.data_int("played-samples") >= final
    nb.screenshot("reply-played")
    figures = {"received_samples": received, "played_reported_to_kernel": final}
    (artifacts / "played.json").write_text(json.dumps(figures))


def test_talking_during_playback_stops_it_and_the_kernel_truncates_at_what_was_played(
    open_notebook, artifacts
):
    # "talkative" loops its sentence after 1.5 s of silence: the second loop talks over the reply.
    nb = open_notebook([WIDGET_CELL], wav="talkative")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.listen_hands_free()

    view.wait_turn("assistant", text="You said", timeout=40 * UNIT)
    view.wait_data_at_least("played-samples", 1)
    nb.screenshot("reply-playing")

    cut = nb.kernel.wait_for("w.last_truncate", timeout=40 * UNIT)
    key = f"{cut['item_id']}:{cut['content_index']}"
    nb.screenshot("interrupted")

    # The kernel truncated at what the browser reported as played for that item.
    played = nb.kernel.value(f"w.played_samples.get({key!r}, 0)")
    played_ms = played * 1000 // RATE
    assert played > 0, "a truncate is only sent when something was played"
    assert abs(cut["audio_end_ms"] - played_ms) <= PLAYED_REPORT_INTERVAL_MS, (cut, played_ms)

    # It was a real cut: the item is marked truncated where the kernel cut it, never beyond what
    # the server had sent.
    item = nb.kernel.wait_for(
        f"[i for i in w.items if i['id'] == {cut['item_id']!r}"
        " and i.get('truncated_ms') is not None]"
    )[0]
    figures = {"truncate": cut, "played_samples": played, "item": item}
    (artifacts / "truncate.json").write_text(json.dumps(figures))
    assert item["truncated_ms"] == cut["audio_end_ms"], item
    assert cut["audio_end_ms"] <= item["audio_samples"] * 1000 // RATE, (cut, item)
    # Playback of that item stopped at once: its played count does not move any more.
    time.sleep(1 * UNIT)
    assert nb.kernel.value(f"w.played_samples.get({key!r}, 0)") == played

    # The view marks the cut turn.
    truncated = view.conversation.locator(f'[data-item-id="{cut["item_id"]}"]')
    truncated.and_(view.conversation.locator('[data-truncated="true"]')).wait_for(
        timeout=10 * UNIT * 1000
    )
    nb.screenshot("truncated-turn")


def test_push_to_talk_sends_only_what_was_said_while_the_microphone_was_on(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="question")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.set_hands_free(False)
    mic = view.control("button", "Microphone")
    assert mic.get_attribute("aria-pressed") == "false"

    # Push-to-talk off: the fake mic is talking, but nothing is sent.
    before = view.data_int("captured-samples")
    time.sleep(1 * UNIT)
    assert view.data_int("captured-samples") == before
    assert view.turns("user").count() == 0

    mic.click()  # a short click toggles capture on
    view.wait_pressed(True)
    nb.screenshot("push-to-talk-on")
    captured = view.wait_data_at_least("captured-samples", before + 3 * RATE, timeout=15 * UNIT)
    mic.click()  # and off again: the kernel commits the turn and asks for a response
    view.wait_pressed(False)

    user = view.wait_turn("user", timeout=20 * UNIT)
    reply = view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    nb.screenshot("push-to-talk-reply")
    assert user.get_attribute("data-item-id") != reply.get_attribute("data-item-id")

    # Exactly one user turn, and capture stopped when the button was released.
    assert nb.kernel.value("sum(1 for i in w.items if i.get('role') == 'user')") == 1
    after_release = view.data_int("captured-samples")
    time.sleep(1 * UNIT)
    assert view.data_int("captured-samples") == after_release
    assert after_release - before >= captured - before
    view.wait_data_at_least("played-samples", 1)
    assert nb.kernel.wait_for("sum(w.played_samples.values())") > 0


def test_holding_the_microphone_during_playback_cuts_the_reply_where_it_was_heard(
    open_notebook, artifacts
):
    nb = open_notebook([WIDGET_CELL], wav="question")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.set_hands_free(False)
    mic = view.control("button", "Microphone")

    def hold(seconds: float) -> None:
        box = mic.bounding_box()
        nb.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        nb.page.mouse.down()
        view.wait_pressed(True)
        time.sleep(seconds)
        nb.page.mouse.up()

    # Hold to talk (longer than a click), release to send.
    hold(3.5 * UNIT)
    view.wait_pressed(False)
    reply = view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    reply_id = reply.get_attribute("data-item-id")
    view.wait_data_at_least("played-samples", RATE // 2)
    nb.screenshot("reply-playing")

    # Pressing again while the reply plays stops it at once; the kernel truncates at what was
    # played (the browser's ptt_start message carries the final count).
    box = mic.bounding_box()
    nb.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    nb.page.mouse.down()
    try:
        cut = nb.kernel.wait_for("w.last_truncate", timeout=10 * UNIT)
        nb.screenshot("cut-by-push-to-talk")
    finally:
        nb.page.mouse.up()
    assert cut["item_id"] == reply_id
    played = nb.kernel.value(f"w.played_samples.get({reply_id + ':0'!r}, 0)")
    (artifacts / "truncate.json").write_text(json.dumps({"truncate": cut, "played": played}))
    assert played > 0
    assert abs(cut["audio_end_ms"] - played * 1000 // RATE) <= PLAYED_REPORT_INTERVAL_MS
    item = nb.kernel.wait_for(
        f"[i for i in w.items if i['id'] == {reply_id!r} and i.get('truncated_ms') is not None]"
    )[0]
    assert item["truncated_ms"] == cut["audio_end_ms"], item


def test_space_bar_on_the_focused_microphone_is_push_to_talk(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="question")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.set_hands_free(False)
    view.control("button", "Microphone").focus()

    nb.page.keyboard.down("Space")
    view.wait_pressed(True)
    time.sleep(3.5 * UNIT)
    nb.page.keyboard.up("Space")
    view.wait_pressed(False)

    view.wait_turn("user", timeout=20 * UNIT)
    view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    nb.screenshot("keyboard-push-to-talk")
    assert nb.kernel.value("sum(1 for i in w.items if i.get('role') == 'user')") == 1
