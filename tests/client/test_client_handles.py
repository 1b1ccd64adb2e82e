"""``ResponseTracker`` and ``ResponseHandle`` as plain data: events in, handles resolved."""

from __future__ import annotations

import asyncio
import re

import numpy as np
import pytest

from realtime_widget.audio import encode_base64
from realtime_widget.client._handles import ResponseError, ResponseHandle, ResponseTracker
from realtime_widget.conversation import RealtimeConversation


class Rig:
    """A tracker whose finished handles are recorded."""

    def __init__(self) -> None:
        self.finished: list[ResponseHandle] = []
        self.tracker = ResponseTracker(ResponseHandle, self.finished.append)


def created(response_id: str, conversation_id: str | None = "conv_1", **fields) -> dict:
    response = {"id": response_id, "conversation_id": conversation_id, **fields}
    return {"type": "response.created", "response": response}


def done(response_id: str, status: str = "completed", **fields) -> dict:
    return {"type": "response.done", "response": {"id": response_id, "status": status, **fields}}


def test_tracker_matches_out_of_band_created_by_metadata_then_age():
    rig = Rig()
    first = ResponseHandle({"conversation": "none", "metadata": {"n": "1"}})
    second = ResponseHandle({"conversation": "none", "metadata": {"n": "2"}})
    rig.tracker.sent_out_of_band("evt_1", first)
    rig.tracker.sent_out_of_band("evt_2", second)
    assert rig.tracker.on_response_created(created("r2", None, metadata={"n": "2"}), None) is second
    assert rig.tracker.on_response_created(created("r1", None, metadata=None), None) is first
    assert (first.id, second.id) == ("r1", "r2")


def test_tracker_coalesced_in_band_requests_share_one_result():
    rig = Rig()
    one, two = ResponseHandle(None), ResponseHandle(None)
    rig.tracker.queued_in_band(one)
    rig.tracker.queued_in_band(two)
    rig.tracker.sent_in_band("evt_1", None)
    assert rig.tracker.on_response_created(created("r1"), "evt_1") is one
    rig.tracker.on_output_event(
        {"type": "response.output_text.delta", "response_id": "r1", "delta": "hi"}
    )
    rig.tracker.on_response_done(done("r1"))
    assert one.result(0).text == two.result(0).text == "hi" and two.id == "r1"
    assert rig.finished == [one]  # one response, one response.finished


def test_tracker_requeues_handles_of_a_request_refused_as_already_active():
    rig = Rig()
    handle = ResponseHandle({"instructions": "x"})
    rig.tracker.queued_in_band(handle)
    rig.tracker.sent_in_band("evt_1", handle.params)
    error = {"code": "conversation_already_has_active_response", "event_id": "evt_1"}
    assert not rig.tracker.on_error({"type": "error", "error": error})
    assert not handle.done()
    rig.tracker.sent_in_band("evt_2", handle.params)  # the sequencer asks again
    assert rig.tracker.on_response_created(created("r1"), "evt_2") is handle


def test_tracker_gives_server_started_responses_their_own_handle():
    rig = Rig()
    handle = rig.tracker.on_response_created(created("r_vad"), None)
    assert handle.params is None and not handle.out_of_band
    samples = np.arange(2400, dtype=np.int16)
    rig.tracker.on_output_event(
        {
            "type": "response.output_audio.delta",
            "response_id": "r_vad",
            "delta": encode_base64(samples),
        }
    )
    output = [{"type": "message", "content": [{"type": "output_audio", "transcript": "hey"}]}]
    rig.tracker.on_response_done(done("r_vad", output=output, usage={"total_tokens": 3}))
    result = handle.result(0)
    assert np.array_equal(result.audio, samples) and result.transcript == "hey"
    assert result.usage == {"total_tokens": 3}


@pytest.mark.parametrize(
    ("status", "details", "words"),
    [
        (
            "cancelled",
            {"type": "cancelled", "reason": "turn_detected"},
            "cancelled (turn_detected)",
        ),
        ("failed", {"type": "failed", "error": {"message": "model down"}}, "failed: model down"),
    ],
)
def test_handle_raises_for_responses_that_did_not_complete(status, details, words):
    rig = Rig()
    handle = rig.tracker.on_response_created(created("r1"), None)
    rig.tracker.on_output_event(
        {"type": "response.output_text.delta", "response_id": "r1", "delta": "par"}
    )
    assert handle.status == "pending"
    rig.tracker.on_response_done(done("r1", status, status_details=details))
    assert handle.status == status and status in repr(handle)  # read without raising
    with pytest.raises(ResponseError, match=re.escape(words)) as info:
        handle.result(0)
    assert info.value.result.text == "par"  # what arrived before is kept
    with pytest.raises(ResponseError):
        asyncio.run(_await(handle))


async def _await(handle: ResponseHandle):
    return await handle


def test_tracker_session_loss_keeps_unanswered_in_band_requests_when_reconnecting():
    rig = Rig()
    waiting, running, oob = (
        ResponseHandle(None),
        ResponseHandle({"x": 1}),
        ResponseHandle({"conversation": "none"}),
    )
    rig.tracker.queued_in_band(running)
    rig.tracker.sent_in_band("evt_1", running.params)
    rig.tracker.on_response_created(created("r1"), "evt_1")
    rig.tracker.queued_in_band(waiting)
    rig.tracker.sent_in_band("evt_2", None)
    rig.tracker.sent_out_of_band("evt_3", oob)
    rig.tracker.on_session_lost(keep_queued=True)
    assert running.done() and oob.done() and not waiting.done()
    with pytest.raises(ResponseError, match="lost"):
        oob.result(0)
    rig.tracker.sent_in_band("evt_4", None)  # the new session asks again
    assert rig.tracker.on_response_created(created("r2"), "evt_4") is waiting
    rig.tracker.on_session_lost(keep_queued=False)
    assert waiting.done()


def test_handle_result_times_out_and_refuses_to_block_the_runtime_thread():
    handle = ResponseHandle(None)
    with pytest.raises(TimeoutError):
        handle.result(0.01)
    blocked = ResponseHandle(None, in_runtime_thread=lambda: True)
    with pytest.raises(RuntimeError, match="await handle"):
        blocked.result(1)


def test_handle_keeps_at_most_its_audio_bound(monkeypatch):
    monkeypatch.setattr("realtime_widget.client._handles.MAX_AUDIO_SECONDS", 1)
    rig = Rig()
    handle = rig.tracker.on_response_created(created("r1"), None)
    chunk = encode_base64(np.ones(24000 * 6 // 10, np.int16))
    for _ in range(3):
        rig.tracker.on_output_event(
            {"type": "response.output_audio.delta", "response_id": "r1", "delta": chunk}
        )
    rig.tracker.on_response_done(done("r1"))
    result = handle.result(0)
    assert len(result.audio) == 24000 and result.audio_truncated


def test_reducer_keeps_out_of_band_output_out_of_the_conversation():
    conversation = RealtimeConversation()
    conversation.process_event(
        {
            "type": "conversation.item.added",
            "item": {"id": "u1", "type": "message", "role": "user", "content": []},
        }
    )
    item = {"id": "o1", "type": "message", "role": "assistant", "content": []}
    ids = {"response_id": "r1", "item_id": "o1", "output_index": 0, "content_index": 0}
    events = [
        created("r1", None),
        {
            "type": "response.output_item.added",
            "response_id": "r1",
            "output_index": 0,
            "item": item,
        },
        {"type": "response.content_part.added", **ids, "part": {"type": "audio"}},
        {
            "type": "response.output_audio.delta",
            **ids,
            "delta": encode_base64(np.ones(240, np.int16)),
        },
        {"type": "response.output_audio_transcript.delta", **ids, "delta": "hi"},
        {"type": "response.output_text.delta", **ids, "delta": "hi"},
        {"type": "response.output_item.done", "response_id": "r1", "output_index": 0, "item": item},
        done("r1", output=[item]),
    ]
    for event in events:
        conversation.process_event(event)
    assert [i["id"] for i in conversation.get_items()] == ["u1"]
