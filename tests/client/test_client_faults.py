"""Faults: drops (with and without reconnect), the session cap, bad frames, errors, refusals.

The embedded server sits behind the fault-injecting proxy of ``realtime_widget.testing.faults``.
"""

from __future__ import annotations

import asyncio

import pytest

from realtime_widget.api import RealtimeConnectionError
from realtime_widget.client import RealtimeClient
from realtime_widget.server import Call, LocalRealtimeServer, ScriptedBrain
from realtime_widget.testing.faults import Fault, FaultProxy
from tests.helpers import UNIT

LONG = "This answer goes on for quite a while so that the connection can drop in the middle of it."


def item_words(item: dict) -> str:
    return "".join(p.get("text") or p.get("transcript") or "" for p in item.get("content") or [])


async def test_client_drop_mid_response_without_reconnect_closes_and_keeps_history(make_client):
    brain = ScriptedBrain([LONG])
    async with LocalRealtimeServer(speed=1.0, brain=brain) as srv, FaultProxy(srv.url) as proxy:
        proxy.add(Fault("drop", match="response.output_audio.delta", skip=3))
        client, probe = make_client(proxy.url, auto_reconnect=False)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("talk to me")
        [closed] = await probe.until(lambda: probe.of("close"))
        assert closed["error"] is True
        assert not client.is_connected
        assert not probe.of("reconnecting")
        user, assistant = client.conversation.get_items()
        assert user["formatted"]["text"] == "talk to me"
        assert assistant["status"] == "incomplete"  # cut by the drop, never finished
        assert 0 < len(assistant["formatted"]["audio"])
        assert not client.response_active
        with pytest.raises(RuntimeError, match="connect"):
            client.send_user_message_content("anyone?")


async def test_client_reconnects_after_a_drop_and_replays_history_into_the_new_session(
    make_client,
):
    brain = ScriptedBrain(
        ["Noted: banana.", [Call("lookup", {"q": "fruit"}, call_id="call_fruit")]]
    )
    async with LocalRealtimeServer(speed=0, brain=brain) as srv, FaultProxy(srv.url) as proxy:
        client, probe = make_client(proxy.url, reconnect_delay=0.05 * UNIT)

        def lookup(q: str) -> str:
            """Look up."""
            return f"{q}: banana"

        client.add_tool(lookup)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("remember banana")
        await probe.received_type("response.done")
        client.send_user_message_content("look it up")
        await probe.received_type("response.done", 3)  # the call, then the answer to its output
        history = [(i["id"], i["type"], i.get("role")) for i in client.conversation.get_items()]

        proxy.drop()
        [reconnected] = await probe.until(lambda: probe.of("reconnected"))
        assert probe.of("reconnecting")[0]["attempt"] == 1
        assert reconnected["replayed_items"] == 6
        assert client.is_connected
        assert not probe.of("close")
        # The client's own history is unchanged: no duplicates from the replay.
        assert [
            (i["id"], i["type"], i.get("role")) for i in client.conversation.get_items()
        ] == history

        client.send_user_message_content("what did I say?")
        await probe.received_type("response.done", 4)
        seen = brain.contexts[-1].items
        kinds = [(i["type"], i.get("role")) for i in seen]
        assert kinds == [
            ("message", "user"),
            ("message", "assistant"),
            ("message", "user"),
            ("function_call", None),
            ("function_call_output", None),
            ("message", "assistant"),
            ("message", "user"),
        ]
        assert item_words(seen[0]) == "remember banana"
        assert item_words(seen[1]) == "Noted: banana."
        assert seen[1]["content"][0]["type"] == "output_text"  # assistant text replays as GA text
        assert seen[3]["call_id"] == seen[4]["call_id"] == "call_fruit"
        assert "fruit: banana" in seen[4]["output"]
        assert [i["id"] for i in seen[:6]] == [h[0] for h in history]
        assert not probe.of("error")


async def test_client_reconnects_when_the_session_cap_closes_with_1001(make_client):
    async with LocalRealtimeServer(speed=0) as srv, FaultProxy(srv.url) as proxy:
        client, probe = make_client(proxy.url, reconnect_delay=0.05 * UNIT)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("before the cap")
        await probe.received_type("response.done")
        await proxy.close(1001, "session expired")
        [event] = await probe.until(lambda: probe.of("reconnecting"))
        assert event["code"] == 1001
        await probe.until(lambda: probe.of("reconnected"))
        client.send_user_message_content("after the cap")
        await probe.received_type("response.done", 2)
        assistant = client.conversation.get_items()[-1]
        assert assistant["formatted"]["transcript"] == "You said: after the cap"


async def test_client_reconnects_mid_response_and_replays_what_was_heard_so_far(make_client):
    brain = ScriptedBrain([LONG])
    async with LocalRealtimeServer(speed=1.0, brain=brain) as srv, FaultProxy(srv.url) as proxy:
        proxy.add(Fault("drop", match="response.output_audio_transcript.delta", skip=4))
        client, probe = make_client(proxy.url, reconnect_delay=0.05 * UNIT)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("start talking")
        await probe.until(lambda: probe.of("reconnected"))
        assistant = client.conversation.get_items()[-1]
        assert assistant["status"] == "incomplete"
        partial = assistant["formatted"]["transcript"]
        assert partial and LONG.startswith(partial) and partial != LONG
        replayed = [e["item"] for e in probe.sent("conversation.item.create")][-2:]
        assert replayed[1]["content"] == [{"type": "output_text", "text": partial}]
        assert not client.response_active  # the lost response does not block the next one
        client.send_user_message_content("go on")
        await probe.received_type("response.done")


async def test_client_survives_a_corrupt_frame_and_reports_it(make_client):
    async with LocalRealtimeServer(speed=0) as srv, FaultProxy(srv.url) as proxy:
        proxy.add(Fault("corrupt", match="response.output_audio_transcript.delta"))
        client, probe = make_client(proxy.url)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("hello")
        await probe.received_type("response.done")
        [error] = probe.of("error")
        assert error["source"] == "local" and error["error"]["code"] == "malformed_frame"
        assert client.is_connected
        assert client.conversation.get_items()[-1]["status"] == "completed"


async def test_client_passes_unknown_events_through_untouched(make_client):
    async with LocalRealtimeServer(speed=0) as srv, FaultProxy(srv.url) as proxy:
        client, probe = make_client(proxy.url)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        novel = {"type": "output_audio_buffer.future_thing", "event_id": "e1", "extra": [1]}
        await proxy.inject(novel)
        [seen] = await probe.received_type("output_audio_buffer.future_thing")
        assert seen == novel
        client.send_user_message_content("still fine?")
        await probe.received_type("response.done")
        assert not probe.of("error")


async def test_client_surfaces_server_error_events_and_keeps_the_session(server, make_client):
    client, probe = make_client(server.url)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    client.delete_item("item_does_not_exist")
    [error] = await probe.until(lambda: probe.of("error"))
    [delete] = probe.sent("conversation.item.delete")
    assert error["type"] == "error"
    assert error["error"]["event_id"] == delete["event_id"]
    assert client.is_connected
    client.send_user_message_content("still here")
    await probe.received_type("response.done")


async def test_client_refused_handshake_says_to_set_the_key_without_showing_it():
    async with LocalRealtimeServer(api_key="sk-right-key-000000") as srv:
        client = RealtimeClient(url=srv.url, api_key="sk-wrong-key-123456789")
        with pytest.raises(RealtimeConnectionError) as info:
            await client.connect_async()
    message = str(info.value)
    assert info.value.status == 401
    assert "OPENAI_API_KEY" in message and "api_key" in message
    assert "sk-wrong-key-123456789" not in message
    assert "123456789" not in message
    assert not client.is_connected


async def test_client_says_why_it_is_not_connected_after_a_failed_connect():
    async with LocalRealtimeServer(api_key="sk-right-key-000000") as srv:
        client = RealtimeClient(url=srv.url, api_key="sk-wrong-key-123456789")
        with pytest.raises(RealtimeConnectionError) as failed:
            await client.connect_async()
        with pytest.raises(RuntimeError) as info:
            client.send_user_message_content("hello?")
        assert "not connected" in str(info.value)
        assert str(failed.value) in str(info.value)  # the cause, not only "not connected"
        assert "123456789" not in str(info.value)
        client.realtime._api_key = "sk-right-key-000000"  # fixed: the old cause is gone
        await client.connect_async()
        await client.disconnect_async()
        with pytest.raises(RuntimeError) as info:
            client.send_user_message_content("hello?")
        assert "failed" not in str(info.value) and "call connect() first" in str(info.value)


async def test_client_gives_up_reconnecting_when_the_server_is_gone(make_client):
    async with LocalRealtimeServer(speed=0) as srv:
        proxy = await FaultProxy(srv.url).start()
        client, probe = make_client(
            proxy.url, reconnect_delay=0.02 * UNIT, max_reconnect_attempts=2
        )
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        proxy.drop()
        await proxy.stop()
        [closed] = await probe.until(lambda: probe.of("close"))
        assert len(probe.of("reconnecting")) == 2
        assert not probe.of("reconnected")
        [error] = probe.of("error")
        assert error["error"]["code"] == "reconnect_failed"
        assert "connect()" in error["error"]["message"]
        assert closed["error"] is True
        assert not client.is_connected
        await asyncio.sleep(0)
