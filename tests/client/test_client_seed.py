"""The seed client's own behaviours, black box against the embedded server on 127.0.0.1."""

from __future__ import annotations

import json

import numpy as np
import pytest

from realtime_widget.server import LocalRealtimeServer, ScriptedBrain
from tests.helpers import UNIT


async def test_client_connect_sends_session_update_first(server, make_client):
    client, probe = make_client(server.url, session_config={"instructions": "Be brief."})
    assert not client.is_connected
    await client.connect_async()
    assert client.is_connected
    session = await client.wait_for_session_created_async(5 * UNIT)
    assert session is not None and session["id"].startswith("sess_")
    await probe.received_type("session.updated")
    first = probe.sent()[0]
    assert first["type"] == "session.update"
    assert first["session"]["type"] == "realtime"  # GA shape
    assert first["session"]["instructions"] == "Be brief."
    updated = probe.received("session.updated")[-1]["session"]
    assert updated["instructions"] == "Be brief."
    assert updated["audio"]["input"]["turn_detection"] is None  # the seed's default: manual turns


async def test_client_sending_text_emits_exactly_item_create_then_response_create(
    server, make_client
):
    client, probe = make_client(server.url)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    before = len(probe.sent())
    client.send_user_message_content([{"type": "input_text", "text": "How are you?"}])
    await probe.received_type("response.done")
    sent = probe.sent()[before:]
    assert [e["type"] for e in sent] == ["conversation.item.create", "response.create"]
    assert sent[0]["item"] == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "How are you?"}],
    }


async def test_client_user_item_completes_with_text_and_assistant_goes_in_progress_then_completed(
    server, make_client
):
    client, probe = make_client(server.url)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    client.send_user_message_content("hello there")
    user = await client.wait_for_next_item_async(5 * UNIT)
    assert (user["type"], user["role"], user["status"]) == ("message", "user", "completed")
    assert user["formatted"]["text"] == "hello there"
    # The assistant item may be announced before a second wait could be registered: use the
    # probe, which saw every announcement with the item's status at that moment.
    appended = await probe.until(
        lambda: (
            len(probe.of("conversation.item.appended")) >= 2
            and probe.of("conversation.item.appended")
        )
    )
    assistant = appended[1]["item"]
    assert assistant["role"] == "assistant"
    assert [e["status_then"] for e in appended] == ["completed", "in_progress"]
    done = await probe.until(
        lambda: (
            len(probe.of("conversation.item.completed")) >= 2
            and probe.of("conversation.item.completed")
        )
    )
    completed = [e["item"] for e in done]
    assert [i["role"] for i in completed] == ["user", "assistant"]
    assert completed[1]["id"] == assistant["id"]
    assert completed[1]["status"] == "completed"
    assert completed[1]["formatted"]["transcript"] == "You said: hello there"
    assert len(completed[1]["formatted"]["audio"]) > 0
    # Each item is announced once and completed once, although GA sends .added and .done too.
    appended_ids = [e["item"]["id"] for e in probe.of("conversation.item.appended")]
    assert len(appended_ids) == len(set(appended_ids)) == 2


async def test_client_audio_turn_commits_input_and_attaches_it_to_the_user_item(
    server, make_client
):
    client, probe = make_client(server.url)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    tone = (np.sin(np.arange(24000) * 2 * np.pi * 220 / 24000) * 8000).astype(np.int16)
    client.append_input_audio(tone[:12000])
    client.append_input_audio(tone[12000:].tobytes())  # bytes are PCM16 little-endian
    client.create_response()
    await probe.received_type("response.done")
    types = [e["type"] for e in probe.sent()]
    assert types[-4:] == [
        "input_audio_buffer.append",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "response.create",
    ]
    user = next(
        i for i in client.conversation.get_items() if i["role"] == "user"
    )  # the committed turn
    assert user["content"][0]["type"] == "input_audio"
    assert np.array_equal(user["formatted"]["audio"], tone)
    assistant = client.conversation.get_items()[-1]
    assert assistant["role"] == "assistant" and assistant["status"] == "completed"


async def test_client_tool_round_trip_answers_the_call_and_the_model_uses_the_result(
    server, make_client
):
    calls = []

    def get_weather(city: str) -> dict:
        """Weather for a city."""
        calls.append(city)
        return {"city": city, "sky": "sunny"}

    client, probe = make_client(server.url)
    client.add_tool(get_weather)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    client.send_user_message_content('call get_weather with {"city": "Paris"}')
    await probe.received_type("response.done", 2)
    assert calls == ["Paris"]
    outputs = [
        e
        for e in probe.sent("conversation.item.create")
        if e["item"]["type"] == "function_call_output"
    ]
    assert len(outputs) == 1
    assert json.loads(outputs[0]["item"]["output"]) == {"city": "Paris", "sky": "sunny"}
    final = client.conversation.get_items()[-1]
    assert "get_weather returned" in final["formatted"]["transcript"]
    assert "sunny" in final["formatted"]["transcript"]
    tools = probe.sent("session.update")[-1]["session"]["tools"]
    assert [t["name"] for t in tools] == ["get_weather"]


async def test_client_truncation_cuts_assistant_audio_at_what_was_heard(make_client):
    brain = ScriptedBrain(["This answer is long enough to be interrupted by the user politely."])
    async with LocalRealtimeServer(speed=1.0, brain=brain) as slow:
        client, probe = make_client(slow.url)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("talk")
        await probe.received_type("response.output_audio.delta", 3)
        item_id = probe.received("response.output_audio.delta")[0]["item_id"]
        client.report_played(item_id, 0, 3600)  # 150 ms heard
        item = client.cancel_response(item_id, 3600)
        assert item is not None and item["id"] == item_id
        truncated = await probe.received_type("conversation.item.truncated")
        assert truncated[0]["audio_end_ms"] == 150
        [cut] = probe.sent("conversation.item.truncate")
        assert (cut["item_id"], cut["content_index"], cut["audio_end_ms"]) == (item_id, 0, 150)
        assert probe.sent("response.cancel")
        await probe.received_type("response.done")
        assert probe.received("response.done")[-1]["response"]["status"] == "cancelled"
        assert len(client.conversation.get_item(item_id)["formatted"]["audio"]) == 3600
        assert not [e for e in probe.of("error")]


async def test_client_delete_item_removes_it_from_the_conversation(server, make_client):
    client, probe = make_client(server.url)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    client.send_user_message_content("keep me")
    await probe.received_type("response.done")
    user = client.conversation.get_items()[0]
    client.delete_item(user["id"])
    deleted = await probe.received_type("conversation.item.deleted")
    assert deleted[0]["item_id"] == user["id"]
    assert client.conversation.get_item(user["id"]) is None
    assert user["id"] not in [i["id"] for i in client.conversation.get_items()]
    assert [e["type"] for e in probe.of("conversation.updated")][-1] == "conversation.updated"


# -- seed code that must port as written (issue 12 point 7) ------------------------------------


async def test_client_update_session_takes_the_seeds_dict_as_well_as_keywords(server, make_client):
    client, probe = make_client(server.url)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    await probe.received_type("session.updated")
    client.update_session({"voice": "echo", "instructions": "Be brief."}, instructions="Be kind.")
    updated = await probe.received_type("session.updated", 2)
    assert probe.sent("session.update")[-1]["session"] == {
        "type": "realtime",
        "instructions": "Be kind.",  # keywords win over the dict
        "audio": {"output": {"voice": "echo"}},
    }
    assert updated[-1]["session"]["audio"]["output"]["voice"] == "echo"
    with pytest.raises(TypeError, match="dict"):
        client.update_session([("voice", "echo")])


async def test_client_in_beta_fires_the_seeds_wire_name_listeners(server, make_client):
    client, probe = make_client(server.url, dialect="beta")
    wire: list[dict] = []
    client.realtime.on("server.response.audio.delta", wire.append)  # as the seed registers
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    client.send_user_message_content("hello")
    await probe.received_type("response.done")
    deltas = probe.received("response.output_audio.delta")
    assert len(wire) == len(deltas) > 0
    assert {e["type"] for e in wire} == {"response.audio.delta"}
    assert [e["delta"] for e in wire] == [e["delta"] for e in deltas]


async def test_client_delete_item_works_in_relay_mode(server, make_client):
    client, probe = make_client(server.url, relay=True)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}
    client.realtime.send("conversation.item.create", {"item": item})  # the relay's own event
    [added] = await probe.received_type("conversation.item.added")
    client.delete_item(added["item"]["id"])
    deleted = await probe.received_type("conversation.item.deleted")
    assert deleted[0]["item_id"] == added["item"]["id"]
    assert client.conversation.get_items() == []
    assert probe.sent("session.update") == []  # relay still sends nothing on its own


async def test_client_cancel_response_with_zero_samples_truncates_at_zero_ms(make_client):
    brain = ScriptedBrain(["An answer the user stops before hearing a single word of it."])
    async with LocalRealtimeServer(speed=1.0, brain=brain) as slow:
        client, probe = make_client(slow.url)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("talk")
        await probe.received_type("response.output_audio.delta", 2)
        item_id = probe.received("response.output_audio.delta")[0]["item_id"]
        client.cancel_response(item_id, 0)  # the seed's cancelResponse(id, 0): nothing heard
        truncated = await probe.received_type("conversation.item.truncated")
        assert truncated[0]["audio_end_ms"] == 0
        [cut] = probe.sent("conversation.item.truncate")
        assert (cut["item_id"], cut["content_index"], cut["audio_end_ms"]) == (item_id, 0, 0)
        await probe.received_type("response.done")
        item = client.conversation.get_item(item_id)
        assert len(item["formatted"]["audio"]) == 0
        assert item["formatted"]["transcript"] == ""  # nobody heard it: the server forgets it
        assert not probe.of("error")


async def test_client_rate_limits_hold_the_latest_rate_limits_updated(server, make_client):
    client, probe = make_client(server.url)
    seen: list[dict] = []
    client.on("rate_limits.updated", seen.append)
    assert client.rate_limits == []
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    for turn in range(2):
        client.send_user_message_content(f"turn {turn}")
        await probe.received_type("rate_limits.updated", turn + 1)
    latest = probe.received("rate_limits.updated")[-1]
    assert client.rate_limits == latest["rate_limits"] and latest["rate_limits"]
    assert [e["rate_limits"] for e in seen] == [
        e["rate_limits"] for e in probe.received("rate_limits.updated")
    ]
    first = probe.received("rate_limits.updated")[0]["rate_limits"]
    assert first != latest["rate_limits"]  # tokens were used in between: it is the latest
    client.rate_limits.clear()  # a copy
    assert client.rate_limits == latest["rate_limits"]
