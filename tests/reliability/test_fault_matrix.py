"""Issue 8.1: every network and protocol fault, through the fault proxy, with auto-reconnect.

The test's thread is the notebook: it only calls public sync methods. For each fault: nothing
escapes (hooks, loop handler, ERROR logs), what happened surfaces as client events, the
conversation continues with its history (the server's new session holds every earlier item) and
no item or word is lost. A few faults run again through the widget's kernel side.
"""

from __future__ import annotations

import pytest

from realtime_widget.conversation import RealtimeConversation
from realtime_widget.testing.faults import Fault
from tests.helpers import UNIT
from tests.reliability._faults import FAULTS, run_fault
from tests.reliability._harness import EscapeGuard, Rig, item_words, wait_until

QUIET_FAULTS = {"stall", "split frames", "unknown events"}


@pytest.mark.parametrize("name", list(FAULTS))
def test_client_survives_fault_without_escapes_and_keeps_every_item(name):
    outcome = run_fault(name)
    assert outcome.escaped == []
    assert outcome.recovered, f"{name}: the follow-up exchange failed"
    assert outcome.items_lost == 0, outcome.detail
    assert (outcome.calls_unanswered, outcome.calls_repeated) == (0, 0)
    for event in FAULTS[name].expect:
        assert outcome.surfaced.get(event), f"{name}: no {event!r} event ({outcome.surfaced})"
    if name in QUIET_FAULTS:  # nothing went wrong from the notebook's point of view
        assert not any(outcome.surfaced.values()), outcome.surfaced
    assert outcome.surfaced["reconnecting"] <= 4, outcome.surfaced  # bounded, and reported


@pytest.mark.parametrize(
    "name",
    [
        "drop mid-response",
        "corrupt frames",
        "malformed events",
        "close 1001",
        "drop before an output is acknowledged",
        "drop on the response.done carrying a call",
    ],
)
def test_beta_dialect_client_survives_fault_and_keeps_every_item(name):
    outcome = run_fault(name, dialect="beta")
    assert outcome.escaped == []
    assert outcome.recovered and outcome.items_lost == 0, outcome.detail
    assert (outcome.calls_unanswered, outcome.calls_repeated) == (0, 0)
    for event in FAULTS[name].expect:
        assert outcome.surfaced.get(event), f"{name}: no {event!r} event ({outcome.surfaced})"


@pytest.mark.parametrize(
    "name",
    [
        "drop mid-response",
        "close 1001",
        "malformed events",
        "error events",
        "tool done while reconnecting",
        "failed response without response.done",
    ],
)
def test_widget_status_and_errors_show_the_fault(name):
    outcome = run_fault(name, widget=True)
    assert outcome.escaped == []
    assert outcome.recovered and outcome.items_lost == 0, outcome.detail
    assert (outcome.calls_unanswered, outcome.calls_repeated) == (0, 0)
    if "reconnected" in FAULTS[name].expect:
        assert "reconnecting" in outcome.statuses, outcome.statuses
        assert outcome.statuses[-1] == "connected"
    if "error" in FAULTS[name].expect:
        assert outcome.widget_errors, "the widget's errors trait stayed empty"
        assert all(e["message"] is not None for e in outcome.widget_errors)


def _transcript_events(final: str, deltas: list[str]) -> list[dict]:
    item = {"id": "item_a", "type": "message", "role": "assistant", "content": []}
    part = {"type": "output_audio", "transcript": ""}
    events = [
        {"type": "conversation.item.added", "item": item},
        {
            "type": "response.content_part.added",
            "item_id": "item_a",
            "content_index": 0,
            "part": part,
        },
    ]
    events += [
        {
            "type": "response.output_audio_transcript.delta",
            "item_id": "item_a",
            "content_index": 0,
            "delta": d,
        }
        for d in deltas
    ]
    events.append(
        {
            "type": "response.output_audio_transcript.done",
            "item_id": "item_a",
            "content_index": 0,
            "transcript": final,
        }
    )
    return events


def test_transcript_done_repairs_a_delta_lost_to_a_corrupt_frame():
    conversation = RealtimeConversation()
    for event in _transcript_events("You said: corrupt a frame", ["You said: ", "a frame"]):
        conversation.process_event(event)
    [item] = conversation.get_items()
    assert item["formatted"]["transcript"] == "You said: corrupt a frame"
    assert item["content"][0]["transcript"] == "You said: corrupt a frame"


def test_words_said_while_reconnecting_are_held_and_sent_after_the_history():
    with EscapeGuard() as guard, Rig(reconnect_delay=0.4 * UNIT) as rig:
        rig.connect()
        rig.say("first words")
        rig.on_loop(rig.proxy.drop)
        wait_until(lambda: rig.client.is_reconnecting, 5 * UNIT, "reconnecting")
        rig.client.send_user_message_content("said while reconnecting")  # must not raise
        assert not rig.of("reconnected")  # it really was said during the gap
        wait_until(lambda: rig.completed_replies() >= 2, 10 * UNIT, "the held message's reply")
        words = [item_words(i) for i in rig.server_items()]
        assert words == [
            "first words",
            "You said: first words",
            "said while reconnecting",
            "You said: said while reconnecting",
        ]
        assert not rig.of("error")
    assert guard.escaped == []


def test_giving_up_reconnecting_says_what_was_not_sent_and_connect_resumes():
    with EscapeGuard() as guard, Rig(reconnect_delay=0.2 * UNIT, max_reconnect_attempts=2) as rig:
        rig.connect()
        rig.say("before the outage")
        upstream = rig.server.url
        rig.server.stop()  # the whole service is gone
        rig.on_loop(rig.proxy.drop)
        wait_until(lambda: rig.client.is_reconnecting, 5 * UNIT, "reconnecting")
        rig.client.send_user_message_content("lost in the outage?")
        wait_until(lambda: rig.of("close"), 10 * UNIT, "giving up")
        [error] = [e for e in rig.of("error") if e["error"]["code"] == "reconnect_failed"]
        assert "1 message/audio sends made meanwhile were dropped" in error["error"]["message"]
        assert "connect()" in error["error"]["message"]
        with pytest.raises(RuntimeError, match="connect"):  # a plain, actionable refusal
            rig.client.send_user_message_content("anyone?")
        assert upstream  # (the port is gone with the server: a new one takes over below)
        rig.server.start()
        rig.proxy.upstream_url = rig.server.url
        rig.client.connect(10 * UNIT)  # the notebook resumes: history replays
        assert rig.say("back again") == "You said: back again"
        words = [item_words(i) for i in rig.server_items()]
        assert words[:2] == ["before the outage", "You said: before the outage"]
    assert guard.escaped == []


def test_a_message_whose_acknowledgement_the_drop_ate_is_said_again_after_the_history():
    with EscapeGuard() as guard, Rig() as rig:
        rig.connect()
        rig.say("hi")
        rig.proxy.add(Fault("drop", match=lambda e: e.get("type") == "conversation.item.added"))
        rig.client.send_user_message_content("my important words")
        wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")
        wait_until(lambda: rig.completed_replies() >= 2, 10 * UNIT, "the answer, after all")
        expected = ["hi", "You said: hi", "my important words", "You said: my important words"]
        assert [words for _, _, words in rig.items()] == expected
        assert [item_words(i) for i in rig.server_items()] == expected
    assert guard.escaped == []


def _server_sent(rig: Rig, kind: str) -> bool:
    return any(source == "server" and event["type"] == kind for source, event in list(rig.wire))


def test_a_refused_message_is_not_said_again_after_a_reconnect():
    with EscapeGuard() as guard, Rig() as rig:
        rig.connect()
        rig.client.send_user_message_content([{"type": "bogus_part", "text": "refused"}])
        wait_until(lambda: rig.of("error"), 5 * UNIT, "the refusal")
        # The response.create sent with the refused item still runs (the echo brain's greeting,
        # nothing to answer): let it end, or its item may land after "accepted" (a test race).
        wait_until(lambda: _server_sent(rig, "response.done"), 10 * UNIT, "the greeting's end")
        rig.say("accepted")
        rig.on_loop(rig.proxy.drop)
        wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")
        assert rig.say("after") == "You said: after"
        words = [item_words(i) for i in rig.server_items()]
        assert "refused" not in words and len(set(words)) == len(words), words
        assert words[-4:] == ["accepted", "You said: accepted", "after", "You said: after"]
    assert guard.escaped == []
