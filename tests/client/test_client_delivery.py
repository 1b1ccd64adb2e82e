"""The pure parts behind exactly-once tool results across reconnects (issue 13): the outputs kept
until acknowledged, the replay that puts each right after its call, and the responses owed;
and when the audio cap runs while audio streams in.
"""

from __future__ import annotations

from realtime_widget.client._audio_cap import CapSchedule
from realtime_widget.client._outputs import ToolOutputs
from realtime_widget.client._reconnect import history_items
from realtime_widget.client._responses import ResponseSequencer


def _call(call_id: str, item_id: str) -> dict:
    return {
        "id": item_id,
        "type": "function_call",
        "status": "completed",
        "call_id": call_id,
        "name": "slow",
        "arguments": "{}",
    }


def test_outputs_are_kept_until_announced_and_recorded_once():
    outputs = ToolOutputs()
    assert outputs.add("call_a", "A")
    assert not outputs.add("call_a", "A again")  # one output per call, the first one
    assert outputs.add("call_b", "B")
    outputs.sent("call_a", "evt_1")
    outputs.on_session_lost()  # the drop ate the announcement: still kept
    assert outputs.pending() == {"call_a": "A", "call_b": "B"}
    assert outputs.on_item_announced({"type": "message", "call_id": "call_a"}) is None
    announced = {"type": "function_call_output", "call_id": "call_a", "output": "A"}
    assert outputs.on_item_announced(announced) == "call_a"
    assert outputs.on_item_announced(announced) is None  # a second announcement: nothing left
    assert outputs.pending() == {"call_b": "B"} and "call_b" in outputs and len(outputs) == 1


def test_outputs_refused_by_the_server_are_forgotten_and_other_errors_ignored():
    outputs = ToolOutputs()
    outputs.add("call_a", "A")
    outputs.sent("call_a", "evt_1")
    assert outputs.on_refused("evt_other") is None
    assert outputs.on_refused(None) is None
    assert outputs.on_refused("evt_1") == "call_a"
    assert outputs.pending() == {}


def test_history_replays_an_unacknowledged_output_right_after_its_call():
    items = [
        _call("call_a", "item_1"),
        {
            "id": "item_2",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "meanwhile"}],
        },
        _call("call_b", "item_3"),
        {"id": "item_4", "type": "function_call_output", "call_id": "call_b", "output": "B"},
    ]
    replay = history_items(items, outputs={"call_a": "A", "call_b": "B twice?"})
    shape = [(i["type"], i.get("call_id"), i.get("id"), i.get("output")) for i in replay]
    assert shape == [
        ("function_call", "call_a", "item_1", None),
        ("function_call_output", "call_a", None, "A"),  # no id: the server names it
        ("message", None, "item_2", None),
        ("function_call", "call_b", "item_3", None),
        ("function_call_output", "call_b", "item_4", "B"),  # announced already: not twice
    ]
    assert "id" not in replay[1]
    # Without its output kept (nor a tool running), a lone call is still left out.
    assert [i["id"] for i in history_items(items[:2])] == ["item_2"]


def _sequencer() -> tuple[ResponseSequencer, list]:
    sent: list = []

    def send(params: dict | None) -> dict:
        sent.append(params)
        return {"event_id": f"evt_{len(sent)}"}

    return ResponseSequencer(send), sent


def test_sequencer_owes_a_response_dropped_before_it_produced_anything():
    responses, sent = _sequencer()
    responses.request({"instructions": "short"})
    assert responses.owed() == [{"instructions": "short"}]  # requested, never created
    responses.on_response_created({"response": {"id": "resp_1"}})
    responses.request(None)  # queued behind it
    assert responses.owed() == [{"instructions": "short"}, None]
    responses.on_output()  # it spoke: heard, not asked again
    assert responses.owed() == [None]
    responses.on_response_done({"response": {"id": "resp_1"}})
    assert sent == [{"instructions": "short"}, None] and responses.is_active
    responses.on_response_created({"response": {"id": "resp_2"}})
    assert responses.owed() == [None]  # the new one has said nothing yet


def test_sequencer_does_not_owe_a_response_being_cancelled():
    responses, _ = _sequencer()
    responses.request(None)
    responses.on_response_created({"response": {"id": "resp_1"}})
    responses.on_cancel()  # response.cancel sent, or the user barged in
    assert responses.owed() == []


def test_sequencer_owes_nothing_when_idle_and_a_server_response_owes_a_plain_one():
    responses, _ = _sequencer()
    assert responses.owed() == []
    responses.on_response_created({"response": {"id": "resp_vad"}})  # server VAD's own
    assert responses.owed() == [None]


def test_sequencer_expire_gives_up_on_a_response_that_never_ends_and_sends_the_next():
    responses, sent = _sequencer()
    responses.request(None)
    responses.on_response_created({"response": {"id": "resp_1"}})
    responses.request({"instructions": "next"})
    assert sent == [None]
    assert responses.expire()
    assert sent == [None, {"instructions": "next"}] and responses.is_active
    responses.on_response_created({"response": {"id": "resp_2"}})
    responses.on_response_done({"response": {"id": "resp_2"}})
    assert not responses.expire()  # nothing running


def test_cap_schedule_is_due_once_per_step_of_the_cap_within_bounds():
    schedule = CapSchedule()
    assert [schedule.due(4000, 12000) for _ in range(6)] == [False, False, True] * 2
    assert schedule.due(2400, 0)  # a zero cap: at least every 0.1 s of audio
    big = CapSchedule()
    assert not big.due(23999, 3600 * 24000) and big.due(1, 3600 * 24000)  # at most every 1 s
