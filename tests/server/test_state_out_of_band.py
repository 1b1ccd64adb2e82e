"""Out-of-band responses (``conversation: "none"``) in the pure session state machine.

"Only one Response can write to the default Conversation at a time, but otherwise multiple
Responses can be created in parallel" (the SDK's ``response_create_event.py``).
"""

from __future__ import annotations

from realtime_widget.server.state import MAX_OUT_OF_BAND_RESPONSES
from tests.server.checked import types
from tests.server.driver import StateDriver, assert_alive, of_type, speech


def _oob(**fields) -> dict:
    return {
        "type": "response.create",
        "event_id": "evt_oob",
        "response": {"conversation": "none", "output_modalities": ["text"], **fields},
    }


def _of(events: list[dict], response_id: str) -> list[dict]:
    return [
        e
        for e in events
        if e.get("response_id") == response_id or e.get("response", {}).get("id") == response_id
    ]


def _text(events: list[dict]) -> str:
    return "".join(e["delta"] for e in of_type(events, "response.output_text.delta"))


def test_server_runs_out_of_band_response_alongside_in_band_one():
    d = StateDriver()
    d.say("tell me a story")
    in_band = d.send({"type": "response.create"})[0]["response"]["id"]
    d.drain(max_steps=3)  # the in-band audio response is under way
    created = d.send(
        _oob(
            instructions="Summarize.",
            metadata={"purpose": "summary"},
            input=[
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "summary please"}],
                }
            ],
        )
    )
    assert types(created) == ["response.created"]
    oob = created[0]["response"]
    assert oob["metadata"] == {"purpose": "summary"} and oob["conversation_id"] is None
    assert oob["output_modalities"] == ["text"]
    assert d.state.response_ids == [in_band, oob["id"]]
    # Stepped by id, the out-of-band one finishes while the in-band one still has audio to send.
    events = []
    while (step := d.state.next_output(oob["id"])) is not None:
        events += d._keep(step.events)
    assert of_type(events, "response.done")[0]["response"]["status"] == "completed"
    assert _text(events) == "You said: summary please"
    assert "conversation.item.added" not in types(events)
    assert d.state.response_ids == [in_band] and d.state.active_response_id == in_band
    rest = d.drain()
    assert of_type(rest, "response.done")[0]["response"]["id"] == in_band
    out_ids = {e["item"]["id"] for e in of_type(events, "response.output_item.added")}
    assert not out_ids & {r.item["id"] for r in d.state.conversation.records()}
    assert_alive(d)


def test_server_echoes_out_of_band_metadata_on_created_and_done():
    d = StateDriver()
    d.say("hello")
    events = d.send(_oob(metadata={"k": "v"})) + d.drain()
    for kind in ("response.created", "response.done"):
        assert of_type(events, kind)[0]["response"]["metadata"] == {"k": "v"}


def test_server_still_refuses_second_in_band_response_during_out_of_band_one():
    d = StateDriver()
    d.say("hello")
    d.send(_oob())
    assert types(d.send({"type": "response.create"})) == ["response.created"]
    refused = d.send({"type": "response.create", "event_id": "evt_2"})
    assert refused[0]["error"]["code"] == "conversation_already_has_active_response"
    assert refused[0]["error"]["event_id"] == "evt_2"
    assert len(d.state.response_ids) == 2


def test_server_limits_concurrent_out_of_band_responses():
    d = StateDriver()
    d.say("hello")
    for _ in range(MAX_OUT_OF_BAND_RESPONSES):
        assert types(d.send(_oob())) == ["response.created"]
    refused = d.send(_oob())
    error = refused[0]["error"]
    assert error["code"] == "too_many_active_responses" and error["event_id"] == "evt_oob"
    assert "response.cancel" in error["message"]
    assert len(d.state.response_ids) == MAX_OUT_OF_BAND_RESPONSES
    d.drain()  # once they are done, there is room again
    assert types(d.send(_oob())) == ["response.created"]


def test_server_cancels_out_of_band_response_by_id_only():
    d = StateDriver()
    d.say("hello")
    in_band = d.send({"type": "response.create"})[0]["response"]["id"]
    oob = d.send(_oob())[0]["response"]["id"]
    cancelled = d.send({"type": "response.cancel", "response_id": oob})
    done = of_type(cancelled, "response.done")[0]["response"]
    assert done["id"] == oob and done["status"] == "cancelled"
    assert d.state.response_ids == [in_band]
    # Without an id, cancel means the default conversation's response.
    cancelled = d.send({"type": "response.cancel"})
    assert of_type(cancelled, "response.done")[0]["response"]["id"] == in_band
    oob = d.send(_oob())[0]["response"]["id"]
    refused = d.send({"type": "response.cancel"})
    assert refused[0]["error"]["code"] == "response_cancel_not_active"
    assert d.state.response_ids == [oob]


def test_server_vad_barge_in_leaves_out_of_band_response_running():
    d = StateDriver()
    d.say("hello")
    in_band = d.send({"type": "response.create"})[0]["response"]["id"]
    oob = d.send(_oob())[0]["response"]["id"]
    events = d.append(speech("stop there please"))
    done = of_type(events, "response.done")
    assert [e["response"]["id"] for e in done][:1] == [in_band]
    assert done[0]["response"]["status_details"]["reason"] == "turn_detected"
    assert oob not in [e["response"]["id"] for e in done]
    assert oob in d.state.response_ids
    assert _of(d.events, oob)[-1]["type"] == "response.created"  # nothing ended it


def test_server_out_of_band_input_reference_reads_conversation_item():
    d = StateDriver()
    first = d.say("the first thing")[0]["item"]["id"]
    d.say("the second thing")
    events = d.send(_oob(input=[{"type": "item_reference", "id": first}])) + d.drain()
    assert _text(events) == "You said: the first thing"
    assert len(d.state.conversation) == 2
