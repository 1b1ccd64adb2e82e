"""Where RealtimeClient departs from the seed on purpose (issue 4 "Fixes over the seed")."""

from __future__ import annotations

import asyncio
import json
import threading

import numpy as np
import pytest

from realtime_widget.client import RealtimeClient
from realtime_widget.server import Call, LocalRealtimeServer, ScriptedBrain, synthesize
from tests.helpers import UNIT

LONG_ANSWER = "Once upon a time there was a long story that went on and on, until someone spoke up."


def assert_one_response_at_a_time(wire: list[tuple[str, dict]]) -> int:
    """No response.create leaves while the previous one has not reached response.done."""
    outstanding, creates = False, 0
    for source, event in wire:
        if source == "client" and event["type"] == "response.create":
            assert not outstanding, "a second response.create was sent before response.done"
            outstanding, creates = True, creates + 1
        elif source == "server" and event["type"] == "response.done":
            outstanding = False
    return creates


async def connected(make_client, url: str, **options):
    client, probe = make_client(url, **options)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    return client, probe


async def test_client_queues_response_create_while_a_response_is_active(make_client):
    brain = ScriptedBrain(["First answer, spoken slowly enough to overlap.", "Second."])
    async with LocalRealtimeServer(speed=4.0, brain=brain) as srv:
        client, probe = await connected(make_client, srv.url)
        client.send_user_message_content("one")
        await probe.received_type("response.output_audio.delta")
        assert client.response_active
        client.send_user_message_content("two")
        client.send_user_message_content("three")  # coalesced with "two": one answer for both
        await probe.received_type("response.done", 2)
        await asyncio.sleep(0.2 * UNIT)
        assert assert_one_response_at_a_time(probe.wire) == 2
        assert len(probe.received("response.done")) == 2
        assert not probe.of("error")
        assert not client.response_active
        texts = [
            i["formatted"]["text"] for i in client.conversation.get_items() if i["role"] == "user"
        ]
        assert texts == ["one", "two", "three"]


async def test_client_answers_all_parallel_calls_then_sends_a_single_response_create(make_client):
    brain = ScriptedBrain([[Call("add", {"a": 1, "b": 2}), Call("mul", {"a": 3, "b": 4})]])
    async with LocalRealtimeServer(speed=0, brain=brain) as srv:
        client, probe = make_client(srv.url)

        def add(a: int, b: int) -> int:
            """Add."""
            return a + b

        async def mul(a: int, b: int) -> int:
            """Multiply, slowly."""
            await asyncio.sleep(0.1 * UNIT)
            return a * b

        client.add_tool(add)
        client.add_tool(mul)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("compute")
        await probe.received_type("response.done", 2)
        first_done = next(
            i
            for i, (s, e) in enumerate(probe.wire)
            if s == "server" and e["type"] == "response.done"
        )
        after = [e for s, e in probe.wire[first_done:] if s == "client"]
        kinds = [e["item"]["type"] if "item" in e else e["type"] for e in after]
        # Outputs may leave before or after response.done; the one response.create comes last.
        assert kinds[-1] == "response.create"
        assert set(kinds[:-1]) <= {"function_call_output"}
        outputs = {
            e["item"]["call_id"]: e["item"]["output"]
            for e in probe.sent("conversation.item.create")
            if e["item"]["type"] == "function_call_output"
        }
        assert sorted(outputs.values()) == ["12", "3"]
        assert assert_one_response_at_a_time(probe.wire) == 2
        assert not probe.of("error")


async def test_client_answers_every_call_exactly_once_whatever_goes_wrong(make_client):
    script = [
        [
            Call("no_such_tool", {}, call_id="call_unknown"),
            Call("needs_int", "{not json", call_id="call_badjson"),
            Call("boom", {}, call_id="call_raises"),
            Call("slow", {}, call_id="call_slow"),
        ]
    ]
    async with LocalRealtimeServer(speed=0, brain=ScriptedBrain(script)) as srv:
        client, probe = make_client(srv.url, tool_timeout=0.5 * UNIT)

        def needs_int(x: int) -> int:
            """Needs an int."""
            return x

        def boom() -> str:
            """Always fails."""
            raise RuntimeError("kaboom")

        async def slow() -> str:
            """Never finishes in time."""
            await asyncio.sleep(30 * UNIT)
            return "late"

        for fn in (needs_int, boom, slow):
            client.add_tool(fn)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("go")
        await probe.received_type("response.done", 2)
        outputs = [
            e["item"]
            for e in probe.sent("conversation.item.create")
            if e["item"]["type"] == "function_call_output"
        ]
        by_call = {o["call_id"]: o["output"] for o in outputs}
        assert len(outputs) == len(by_call) == 4
        assert "no_such_tool" in by_call["call_unknown"]
        assert "kaboom" in by_call["call_raises"]
        assert "error" in json.loads(by_call["call_badjson"])
        assert "error" in json.loads(by_call["call_slow"])
        assert assert_one_response_at_a_time(probe.wire) == 2


async def test_client_runs_no_tool_for_an_incomplete_call():
    from tests.api._scripted_server import ScriptedServer

    ran = []
    async with ScriptedServer() as server:
        client = RealtimeClient(url=server.url, api_key="k", auto_reconnect=False)
        client.add_tool(lambda: ran.append(1) or "x", name="lookup", description="Look up.")
        await client.connect_async()
        conn = await server.connection(5 * UNIT)
        call = {
            "id": "item_fc",
            "type": "function_call",
            "call_id": "call_1",
            "name": "lookup",
            "arguments": "{",
        }
        events = [
            {"type": "response.created", "response": {"id": "resp_1", "status": "in_progress"}},
            {
                "type": "response.output_item.added",
                "response_id": "resp_1",
                "item": {**call, "status": "in_progress"},
            },
            {"type": "conversation.item.added", "item": {**call, "status": "in_progress"}},
            {
                "type": "response.output_item.done",
                "response_id": "resp_1",
                "item": {**call, "status": "incomplete"},
            },
            {
                "type": "response.done",
                "response": {
                    "id": "resp_1",
                    "status": "cancelled",
                    "output": [{**call, "status": "incomplete"}],
                },
            },
        ]
        for event in events:
            await conn.send(event)
        await asyncio.sleep(0.3 * UNIT)
        assert ran == []
        sent = [e["type"] for e in conn.received]
        assert sent == ["session.update"]  # no output, no response.create
        await client.disconnect_async()


async def test_client_cancel_response_skips_truncates_the_server_would_refuse(server, make_client):
    client, probe = await connected(make_client, server.url)
    client.send_user_message_content("short answer")
    await probe.received_type("response.done")
    await asyncio.sleep(0.1 * UNIT)
    assistant = client.conversation.get_items()[-1]
    received = len(assistant["formatted"]["audio"])
    before = len(probe.sent())
    assert client.cancel_response("item_unknown", 4800) is None
    client.cancel_response()  # idle: no response.cancel
    await asyncio.sleep(0.2 * UNIT)
    assert probe.sent()[before:] == []
    client.cancel_response(assistant["id"], received + 24000)  # more than received: cut at received
    [cut] = await probe.until(lambda: probe.sent("conversation.item.truncate"))
    assert cut["audio_end_ms"] == received * 1000 // 24000
    assert probe.sent("response.cancel") == []
    await probe.received_type("conversation.item.truncated")
    client.cancel_response(assistant["id"], received)  # already cut there: skipped
    await asyncio.sleep(0.2 * UNIT)
    assert len(probe.sent("conversation.item.truncate")) == 1
    assert not probe.of("error")
    with pytest.raises(ValueError, match="assistant"):
        client.cancel_response(client.conversation.get_items()[0]["id"], 100)


async def test_client_interrupt_cancels_and_truncates_the_playing_item(make_client):
    brain = ScriptedBrain(["A long answer that the user will interrupt before it is over."])
    async with LocalRealtimeServer(speed=1.0, brain=brain) as srv:
        client, probe = await connected(make_client, srv.url)
        client.send_user_message_content("talk")
        deltas = await probe.received_type("response.output_audio.delta", 3)
        item_id = deltas[0]["item_id"]
        client.report_played(item_id, 0, 2400)
        client.report_played(item_id, 0, 4800)  # cumulative: 200 ms heard
        client.interrupt()
        await probe.received_type("conversation.item.truncated")
        assert [e["type"] for e in probe.sent()[-2:]] == [
            "response.cancel",
            "conversation.item.truncate",
        ]
        assert probe.sent("conversation.item.truncate")[0]["audio_end_ms"] == 200
        assert probe.of("conversation.interrupted")[0]["source"] == "client"
        await probe.received_type("response.done")
        assert probe.received("response.done")[0]["response"]["status"] == "cancelled"
        assert not probe.of("error")


async def test_client_disconnect_keeps_history_and_reset_clears_it(server, make_client):
    client, probe = await connected(make_client, server.url)
    client.send_user_message_content("remember me")
    await probe.received_type("response.done")
    await client.disconnect_async()
    assert not client.is_connected
    assert [i["role"] for i in client.conversation.get_items()] == ["user", "assistant"]
    assert probe.of("close")[-1]["error"] is False
    await client.reset_async()
    assert client.conversation.get_items() == []
    assert client.usage == {"responses": 0}


async def test_client_accumulates_usage_over_responses(server, make_client):
    client, probe = await connected(make_client, server.url)
    for text in ("one", "two"):
        client.send_user_message_content(text)
        await probe.received_type("response.done", 1 if text == "one" else 2)
    await probe.until(lambda: len(probe.of("usage.updated")) == 2)
    done = [e["response"]["usage"] for e in probe.received("response.done")]
    usage = client.usage
    assert usage["responses"] == 2
    for key in ("total_tokens", "input_tokens", "output_tokens"):
        assert usage[key] == sum(u[key] for u in done) > 0
    details = usage["output_token_details"]
    assert details["audio_tokens"] == sum(u["output_token_details"]["audio_tokens"] for u in done)


async def test_client_settings_before_connect_are_checked_at_once_and_sent_on_connect(
    server, make_client
):
    client, probe = make_client(server.url)
    client.update_session(voice="echo", turn_detection={"type": "server_vad"})
    client.update_session(audio={"output": {"speed": 1.2}})
    with pytest.raises(ValueError, match="voice"):
        client.update_session(voicee="alloy")
    assert client.get_turn_detection_type() == "server_vad"
    await client.connect_async()
    updated = await probe.received_type("session.updated")
    session = updated[0]["session"]
    assert session["audio"]["output"]["voice"] == "echo"
    assert session["audio"]["output"]["speed"] == 1.2
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"


async def test_client_server_vad_turn_gets_its_audio_from_the_bounded_input_ring(make_client):
    async with LocalRealtimeServer(speed=0) as srv:
        client, probe = make_client(
            srv.url, session_config={"turn_detection": {"type": "server_vad"}}
        )
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        speech = synthesize("hello from the microphone")
        silence = np.zeros(24000, dtype=np.int16)
        audio = np.concatenate([silence[:12000], speech, silence])
        for start in range(0, len(audio), 2400):
            client.append_input_audio(audio[start : start + 2400])
        await probe.received_type("response.done", timeout=20 * UNIT)
        started = probe.received("input_audio_buffer.speech_started")[0]
        stopped = probe.received("input_audio_buffer.speech_stopped")[0]
        user = next(i for i in client.conversation.get_items() if i["role"] == "user")
        expected = audio[started["audio_start_ms"] * 24 : stopped["audio_end_ms"] * 24]
        assert np.array_equal(user["formatted"]["audio"], expected)
        assert probe.sent("input_audio_buffer.commit") == []  # the server committed, not us
        ring = client.conversation.input_audio
        assert ring.capacity <= 24000 * 300  # bounded, whatever the session length


async def test_client_speaks_beta_to_a_legacy_server_and_sees_ga_events(server, make_client):
    client, probe = await connected(make_client, server.url, dialect="beta")
    client.send_user_message_content("hola")
    await probe.received_type("response.done")
    update = probe.sent("session.update")[0]["session"]
    assert update["voice"] == "alloy" and "type" not in update  # flat beta session
    assert probe.received("response.output_audio_transcript.delta")  # normalised names
    assert not probe.received("response.audio_transcript.delta")
    assistant = client.conversation.get_items()[-1]
    assert assistant["formatted"]["transcript"] == "You said: hola"
    assert assistant["content"][0]["type"] == "output_audio"


def test_client_blocking_methods_work_from_a_thread_and_refuse_on_the_runtime_thread():
    with LocalRealtimeServer(speed=0) as srv:
        client = RealtimeClient(url=srv.url, api_key="k")
        errors: list[str] = []
        done = threading.Event()

        def in_callback(event: dict) -> None:
            try:
                client.wait_for_next_item(timeout=1)
            except RuntimeError as exc:
                errors.append(str(exc))
            done.set()

        client.once("conversation.item.appended", in_callback)
        client.connect(timeout=5 * UNIT)
        assert client.wait_for_session_created(timeout=5 * UNIT) is not None
        client.send_user_message_content("sync hello")
        item = client.wait_for_next_completed_item(timeout=5 * UNIT)
        assert item is not None and item["role"] == "user"
        assert done.wait(5 * UNIT)
        assert "wait_for_next_item_async" in errors[0]
        client.disconnect(timeout=5 * UNIT)
        assert not client.is_connected


async def test_client_defers_a_refused_response_create_without_raising_an_error():
    from tests.api._scripted_server import ScriptedServer

    async with ScriptedServer() as server:
        client = RealtimeClient(url=server.url, api_key="k", auto_reconnect=False)
        errors: list[dict] = []
        client.on("error", errors.append)
        await client.connect_async()
        conn = await server.connection(5 * UNIT)
        await conn.next_event(5 * UNIT)  # session.update
        client.create_response()
        create = await conn.next_event(5 * UNIT)
        assert create["type"] == "response.create"
        # A VAD response we had not seen yet was already running: the server refuses ours.
        await conn.send(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": "conversation_already_has_active_response",
                    "message": "Conversation already has an active response",
                    "event_id": create["event_id"],
                },
            }
        )
        await asyncio.sleep(0.2 * UNIT)
        assert [e["type"] for e in conn.received] == ["session.update", "response.create"]
        await conn.send(
            {"type": "response.done", "response": {"id": "resp_vad", "status": "completed"}}
        )
        again = await conn.next_event(5 * UNIT)
        assert again["type"] == "response.create" and again["event_id"] != create["event_id"]
        assert errors == []
        await client.disconnect_async()


async def test_client_truncates_the_playing_item_when_server_vad_hears_the_user(make_client):
    brain = ScriptedBrain([LONG_ANSWER])
    async with LocalRealtimeServer(speed=1.0, brain=brain) as srv:
        client, probe = make_client(
            srv.url, session_config={"turn_detection": {"type": "server_vad"}}
        )
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("tell me a story")
        deltas = await probe.received_type("response.output_audio.delta", 3)
        item_id = deltas[0]["item_id"]
        client.report_played(item_id, 0, 4800)
        speech = synthesize("stop please")
        client.append_input_audio(np.concatenate([speech, np.zeros(12000, dtype=np.int16)]))
        await probe.received_type("conversation.item.truncated", timeout=10 * UNIT)
        [cut] = probe.sent("conversation.item.truncate")
        assert (cut["item_id"], cut["audio_end_ms"]) == (item_id, 200)
        interrupted = probe.of("conversation.interrupted")
        assert interrupted[0]["type"] == "input_audio_buffer.speech_started"
        await probe.received_type("response.done")
        assert probe.received("response.done")[0]["response"]["status"] == "cancelled"
        assert probe.sent("response.cancel") == []  # the server cancelled it itself
        assert not probe.of("error")


async def test_client_adding_a_tool_while_connected_updates_the_session(server, make_client):
    client, probe = await connected(make_client, server.url)

    def ping() -> str:
        """Ping."""
        return "pong"

    client.add_tool(ping)
    updates = await probe.until(
        lambda: len(probe.sent("session.update")) >= 2 and probe.sent("session.update")
    )
    assert [t["name"] for t in updates[-1]["session"]["tools"]] == ["ping"]
    client.remove_tool("ping")
    updates = await probe.until(
        lambda: len(probe.sent("session.update")) >= 3 and probe.sent("session.update")
    )
    assert updates[-1]["session"]["tools"] == []


async def test_client_connect_after_disconnect_continues_the_kept_conversation(make_client):
    brain = ScriptedBrain(["Noted."])
    async with LocalRealtimeServer(speed=0, brain=brain) as srv:
        client, probe = await connected(make_client, srv.url)
        client.send_user_message_content("my name is Ada")
        await probe.received_type("response.done")
        await client.disconnect_async()
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.send_user_message_content("who am I?")
        await probe.received_type("response.done", 2)
        words = [
            "".join(p.get("text") or p.get("transcript") or "" for p in i["content"])
            for i in brain.contexts[-1].items
        ]
        assert words == ["my name is Ada", "Noted.", "who am I?"]
        assert len(client.conversation.get_items()) == 4
        await client.reset_async()
        await client.connect_async()
        assert probe.sent()[-1]["type"] == "session.update"  # nothing replayed after reset


def test_client_keeps_the_connection_alive_while_the_calling_thread_blocks():
    import time

    with LocalRealtimeServer(speed=0) as srv:
        client = RealtimeClient(
            url=srv.url,
            api_key="sk-never-shown-0000",
            ping_interval=0.1 * UNIT,
            ping_timeout=0.3 * UNIT,
        )
        seen: list[dict] = []
        client.on("realtime.event", seen.append)
        client.connect(timeout=5 * UNIT)
        time.sleep(1.0 * UNIT)  # a synchronous cell: keepalive runs on the runtime thread
        assert client.is_connected
        client.send_user_message_content("still there?")
        item = client.wait_for_next_completed_item(timeout=5 * UNIT)
        assert item is not None and item["formatted"]["text"] == "still there?"
        client.disconnect(timeout=5 * UNIT)
        assert "sk-never-shown-0000" not in repr(client)
        assert "sk-never-shown-0000" not in json.dumps(seen, default=str)
