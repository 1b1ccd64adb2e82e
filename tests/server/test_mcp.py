"""MCP tools in the embedded server, against a real MCP server on loopback (issue 12 point 4).

The MCP server is :class:`~realtime_widget.testing.mcp_demo.DemoMCPServer` (the ``mcp`` package's
``MCPServer`` over streamable HTTP); the embedded server is the real one over a real websocket.
Every event a test reads is validated strictly against the GA schema and the openai SDK's models.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator

import pytest

from realtime_widget.protocol.builders import user_text_item
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.brains import BrainContext, Call, ScriptedBrain
from tests.helpers import UNIT
from tests.server.checked import CheckedClient, checked, types

pytest.importorskip("mcp")
from realtime_widget.testing.mcp_demo import DemoMCPServer


@pytest.fixture(scope="module")
def mcp_url() -> Iterator[str]:
    with DemoMCPServer() as url:
        yield url


def _user(text: str) -> dict:
    return {"type": "conversation.item.create", "item": user_text_item(text)}


def _mcp_tool(url: str, **fields) -> dict:
    return {"type": "mcp", "server_label": "demo", "server_url": url, **fields}


async def _session(server: LocalRealtimeServer, *tools: dict) -> tuple[CheckedClient, list[dict]]:
    """A text session with ``tools``; returns the client and the events up to the listing's end."""
    client = await CheckedClient.connect(server.url)
    await client.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "output_modalities": ["text"], "tools": list(tools)},
        }
    )
    events = await client.until("session.updated")
    for _ in [t for t in tools if t.get("type") == "mcp"]:
        events += await _listing_end(client)
    return client, events


async def _listing_end(client: CheckedClient) -> list[dict]:
    """Events up to a listing's end: ``...completed`` + ``item.done``, or ``...failed`` + error."""
    events: list[dict] = []
    while True:
        events.append(await client.recv(10 * UNIT))
        kinds = types(events)
        if kinds[-1] == "error" or kinds[-2:] == [
            "mcp_list_tools.completed",
            "conversation.item.done",
        ]:
            return events


async def _turn(client: CheckedClient, text: str, timeout: float = 10 * UNIT) -> list[dict]:
    await client.send(_user(text))
    await client.send({"type": "response.create"})
    return await client.until("response.done", timeout)


def _answer(done: dict) -> str:
    messages = [o for o in done["response"]["output"] if o["type"] == "message"]
    return messages[-1]["content"][0]["text"] if messages else ""


def _of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["type"] == kind]


# -- listing --------------------------------------------------------------------------------
async def test_server_lists_mcp_tools_on_session_update(mcp_url):
    async with LocalRealtimeServer(speed=0) as server:
        client, events = await _session(server, _mcp_tool(mcp_url, require_approval="never"))
        assert types(events) == [
            "session.updated",
            "conversation.item.added",
            "mcp_list_tools.in_progress",
            "mcp_list_tools.completed",
            "conversation.item.done",
        ]
        item = events[-1]["item"]
        assert item["type"] == "mcp_list_tools" and item["server_label"] == "demo"
        tools = {t["name"]: t for t in item["tools"]}
        assert {"add", "capital", "slow", "huge", "fail"} <= set(tools)
        assert tools["add"]["input_schema"]["properties"]["b"]["type"] == "integer"
        assert events[1]["item"]["id"] == events[2]["item_id"] == events[3]["item_id"]
        # the same tool again is not listed again
        await client.send(
            {"type": "session.update", "session": {"type": "realtime", "instructions": "x"}}
        )
        assert types(await client.until("session.updated")) == ["session.updated"]
        checked(client.received)
        await client.close()


async def test_server_honours_allowed_tools(mcp_url):
    brain = ScriptedBrain([lambda ctx: ctx.tools and f"{sorted(t['name'] for t in ctx.tools)}"])
    async with LocalRealtimeServer(speed=0, brain=brain) as server:
        tool = _mcp_tool(mcp_url, allowed_tools=["add", "capital"], require_approval="never")
        client, events = await _session(server, tool)
        assert [t["name"] for t in events[-1]["item"]["tools"]] == ["add", "capital"]
        done = (await _turn(client, "which tools?"))[-1]
        assert _answer(done) == "['add', 'capital']"
        assert brain.contexts[0].tools[0]["server_label"] == "demo"
        checked(client.received)


async def test_server_reports_unreachable_mcp_server_and_stays_usable():
    async with LocalRealtimeServer(speed=0) as server:
        tool = {"type": "mcp", "server_label": "gone", "server_url": "http://127.0.0.1:9/mcp"}
        client, events = await _session(server, tool)
        assert types(events)[-3:] == ["conversation.item.done", "mcp_list_tools.failed", "error"]
        error = events[-1]["error"]
        assert error["code"] == "mcp_list_tools_failed"
        assert "'gone'" in error["message"] and "http://127.0.0.1:9/mcp" in error["message"]
        assert "Could not connect" in error["message"]
        done = (await _turn(client, "still there?"))[-1]
        assert done["response"]["status"] == "completed"
        assert _answer(done) == "You said: still there?"
        checked(client.received)


async def test_server_sends_mcp_authorization_and_names_a_refusal():
    with DemoMCPServer(token="tok-123") as url:
        async with LocalRealtimeServer(speed=0) as server:
            client, events = await _session(server, _mcp_tool(url))
            error = events[-1]["error"]
            assert "HTTP 401" in error["message"] and "authorization" in error["message"]
            assert "tok-123" not in json.dumps(events)
            _, events = await _session(server, _mcp_tool(url, authorization="tok-123"))
            assert events[-1]["type"] == "conversation.item.done"
            assert len(events[-1]["item"]["tools"]) >= 5
            checked(client.received)


async def test_server_refuses_hosted_connectors_offline_with_a_clear_error():
    async with LocalRealtimeServer(speed=0) as server:
        tool = {"type": "mcp", "server_label": "mail", "connector_id": "connector_gmail"}
        client, events = await _session(server, tool)
        assert types(events)[-2:] == ["mcp_list_tools.failed", "error"]
        message = events[-1]["error"]["message"]
        assert "connector_gmail" in message and "server_url" in message
        checked(client.received)


# -- calls ----------------------------------------------------------------------------------
async def test_server_calls_mcp_tool_and_answers_with_its_result(mcp_url):
    async with LocalRealtimeServer(speed=0) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url, require_approval="never"))
        events = await _turn(client, 'call add with {"a": 2, "b": 40}')
        start = types(events).index("response.created")
        assert types(events)[start:] == [
            "response.created",
            "response.output_item.added",
            "conversation.item.added",
            "response.mcp_call_arguments.delta",
            "response.mcp_call_arguments.done",
            "response.mcp_call.in_progress",
            "response.mcp_call.completed",
            "response.output_item.done",
            "conversation.item.done",
            "response.output_item.added",
            "conversation.item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "conversation.item.done",
            "response.done",
        ]
        done = events[-1]["response"]
        call = done["output"][0]
        assert call["type"] == "mcp_call" and call["server_label"] == "demo"
        assert call["name"] == "add" and json.loads(call["arguments"]) == {"a": 2, "b": 40}
        assert call["output"] == "42" and call["error"] is None
        assert _answer(events[-1]) == "add returned 42."
        checked(client.received)


async def test_scripted_brain_calls_mcp_tool_by_name_then_reads_the_result(mcp_url):
    def answer(ctx: BrainContext) -> str:
        call = ctx.items[-1]
        return f"The capital is {call['output']}."

    brain = ScriptedBrain([Call("capital", {"country": "France"}, server_label="demo"), answer])
    async with LocalRealtimeServer(speed=0, brain=brain) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url, require_approval="never"))
        done = (await _turn(client, "capital of France?"))[-1]
        assert _answer(done) == "The capital is Paris."
        assert [o["type"] for o in done["response"]["output"]] == ["mcp_call", "message"]
        checked(client.received)


class _StreamingCaller:
    """A streaming brain (like the local LLM): a call first, then words about its result."""

    def stream(self, context: BrainContext, stop: threading.Event) -> Iterator[str | Call]:
        results = [i for i in context.items if i.get("type") == "mcp_call"]
        if not results:
            yield "Let me check. "
            yield Call("add", {"a": 20, "b": 22})
            return
        yield "The sum is "
        yield f"{results[-1]['output']}."


async def test_streaming_brain_continues_after_mcp_result_in_the_same_response(mcp_url):
    async with LocalRealtimeServer(speed=0, brain=_StreamingCaller()) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url, require_approval="never"))
        done = (await _turn(client, "add them"))[-1]["response"]
        assert [o["type"] for o in done["output"]] == ["message", "mcp_call", "message"]
        assert done["output"][1]["output"] == "42"
        assert done["output"][2]["content"][0]["text"] == "The sum is 42."
        assert done["status"] == "completed"
        checked(client.received)


async def test_server_reports_a_failing_tool_and_the_answer_says_so(mcp_url):
    async with LocalRealtimeServer(speed=0) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url, require_approval="never"))
        events = await _turn(client, 'call fail with {"message": "disk on fire"}')
        assert "response.mcp_call.failed" in types(events)
        assert "response.mcp_call.completed" not in types(events)
        call = events[-1]["response"]["output"][0]
        assert call["output"] is None
        assert call["error"]["type"] == "tool_execution_error"
        assert "disk on fire" in call["error"]["message"] and "'demo'" in call["error"]["message"]
        assert "fail failed:" in _answer(events[-1]) and "disk on fire" in _answer(events[-1])
        checked(client.received)


async def test_server_times_out_a_slow_tool_and_the_session_stays_usable(mcp_url):
    async with LocalRealtimeServer(speed=0, mcp_timeout=0.5 * UNIT) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url, require_approval="never"))
        events = await _turn(client, 'call slow with {"seconds": 30}')
        call = events[-1]["response"]["output"][0]
        assert call["error"]["type"] == "http_error" and call["error"]["code"] == 504
        assert "did not answer" in call["error"]["message"] and mcp_url in call["error"]["message"]
        assert events[-1]["response"]["status"] == "completed"
        done = (await _turn(client, 'call add with {"a": 1, "b": 1}'))[-1]
        assert _answer(done) == "add returned 2."
        checked(client.received)


async def test_server_caps_a_huge_result(mcp_url):
    async with LocalRealtimeServer(speed=0, mcp_max_output_chars=10_000) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url, require_approval="never"))
        events = await _turn(client, 'call huge with {"kilobytes": 512}')
        output = events[-1]["response"]["output"][0]["output"]
        assert len(output) < 10_200
        assert output.endswith(
            f"[cut: the result was {512 * 1024} characters; only the first 10000 are kept]"
        )
        checked(client.received)


async def test_cancel_during_an_mcp_call_stops_waiting_for_it(mcp_url):
    async with LocalRealtimeServer(speed=0) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url, require_approval="never"))
        await client.send(_user('call slow with {"seconds": 30}'))
        await client.send({"type": "response.create"})
        await client.until("response.mcp_call.in_progress")
        (conn_state,) = server.sessions
        await client.send({"type": "response.cancel"})
        events = await client.until("response.done", 2 * UNIT)
        done = events[-1]["response"]
        assert done["status"] == "cancelled"
        call = done["output"][0]
        assert call["output"] is None and call["error"]["type"] == "tool_execution_error"
        assert conn_state.active_response_id is None
        # nothing waits for the call any more: its task is cancelled, not left to time out
        await asyncio.sleep(0.1 * UNIT)
        calls = [t for t in asyncio.all_tasks() if "_call_mcp_tool" in repr(t.get_coro())]
        assert not calls
        answer = (await _turn(client, "hello again"))[-1]
        assert _answer(answer) == "You said: hello again"
        checked(client.received)


# -- approvals ------------------------------------------------------------------------------
async def _approval_request(client: CheckedClient) -> dict:
    events = await _turn(client, "what is the capital of Japan?")
    done = events[-1]["response"]
    assert [o["type"] for o in done["output"]] == ["mcp_approval_request"]
    assert "response.mcp_call.in_progress" not in types(events)
    request = done["output"][0]
    assert request["name"] == "capital" and json.loads(request["arguments"]) == {"country": "Japan"}
    return request


def _approval(request: dict, approve: bool) -> dict:
    return {
        "type": "conversation.item.create",
        "item": {
            "type": "mcp_approval_response",
            "approval_request_id": request["id"],
            "approve": approve,
        },
    }


async def test_server_asks_approval_then_runs_the_approved_call(mcp_url):
    async with LocalRealtimeServer(speed=0) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url))  # require_approval: "always"
        request = await _approval_request(client)
        await client.send(_approval(request, True))
        await client.send({"type": "response.create"})
        done = (await client.until("response.done"))[-1]["response"]
        call, message = done["output"]
        assert call["type"] == "mcp_call" and call["approval_request_id"] == request["id"]
        assert call["output"] == "Tokyo"
        assert message["content"][0]["text"] == "capital returned Tokyo."
        # the approval is used once: the next response does not call again
        again = (await _turn(client, "thanks"))[-1]["response"]
        assert [o["type"] for o in again["output"]] == ["message"]
        checked(client.received)


async def test_server_tells_the_brain_when_approval_is_denied(mcp_url):
    async with LocalRealtimeServer(speed=0) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url, require_approval="always"))
        request = await _approval_request(client)
        await client.send(_approval(request, False))
        await client.send({"type": "response.create"})
        done = (await client.until("response.done"))[-1]["response"]
        assert [o["type"] for o in done["output"]] == ["message"]
        assert (
            done["output"][0]["content"][0]["text"]
            == "capital was not approved, so I did not call it."
        )
        checked(client.received)


async def test_server_applies_an_approval_filter(mcp_url):
    tool = _mcp_tool(mcp_url, require_approval={"never": {"tool_names": ["add"]}})
    async with LocalRealtimeServer(speed=0) as server:
        client, _ = await _session(server, tool)
        done = (await _turn(client, 'call add with {"a": 1, "b": 2}'))[-1]["response"]
        assert done["output"][0]["type"] == "mcp_call"
        await _approval_request(client)  # capital is not in "never": it asks
        checked(client.received)


async def test_server_refuses_an_approval_for_an_unknown_request(mcp_url):
    async with LocalRealtimeServer(speed=0) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url))
        await client.send(_approval({"id": "mcpr_nope"}, True))
        error = await client.error("invalid_value")
        assert "mcpr_nope" in error["message"] and error["param"] == "item.approval_request_id"
        checked(client.received)


# -- the official SDK as the client -----------------------------------------------------------
async def test_openai_sdk_parses_every_mcp_event(mcp_url):
    openai = pytest.importorskip("openai")
    async with LocalRealtimeServer(speed=0) as server:
        sdk = openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=server.base_url)
        seen = []

        async def until(conn, kind):
            async for event in conn:
                seen.append(event)
                if event.type == kind:
                    return event
            raise AssertionError(f"connection ended before {kind}")

        async with sdk.realtime.connect(model="gpt-realtime") as conn:
            await conn.session.update(
                session={
                    "type": "realtime",
                    "output_modalities": ["text"],
                    "tools": [
                        _mcp_tool(mcp_url, require_approval={"never": {"tool_names": ["add"]}})
                    ],
                }
            )
            await asyncio.wait_for(until(conn, "mcp_list_tools.completed"), 10 * UNIT)
            await conn.conversation.item.create(
                item={"type": "message", "role": "user",
                      "content": [{"type": "input_text", "text": 'call add with {"a": 3, "b": 4}'}]}
            )  # fmt: skip
            await conn.response.create()
            done = await asyncio.wait_for(until(conn, "response.done"), 10 * UNIT)
            assert done.response.output[0].type == "mcp_call"
            assert done.response.output[0].output == "7"
            await conn.conversation.item.create(
                item={"type": "message", "role": "user",
                      "content": [{"type": "input_text", "text": "capital of Italy"}]}
            )  # fmt: skip
            await conn.response.create()
            done = await asyncio.wait_for(until(conn, "response.done"), 10 * UNIT)
            request = done.response.output[0]
            assert request.type == "mcp_approval_request"
            await conn.conversation.item.create(
                item={"type": "mcp_approval_response", "approval_request_id": request.id,
                      "approve": True}
            )  # fmt: skip
            await conn.response.create()
            done = await asyncio.wait_for(until(conn, "response.done"), 10 * UNIT)
            assert done.response.output[0].output == "Rome"
        kinds = {e.type for e in seen}
        assert {
            "mcp_list_tools.in_progress",
            "mcp_list_tools.completed",
            "response.mcp_call_arguments.delta",
            "response.mcp_call_arguments.done",
            "response.mcp_call.in_progress",
            "response.mcp_call.completed",
        } <= kinds
        # every event parsed into its own SDK model (an unknown shape would be a plain object)
        checked([e.to_dict() for e in seen])
        assert all(type(e).__name__ != "dict" for e in seen)


async def test_server_keeps_credentials_in_the_mcp_url_out_of_its_errors(caplog):
    async with LocalRealtimeServer(speed=0) as server:
        url = "http://user:s3cret-pw@127.0.0.1:9/mcp"
        client, events = await _session(
            server, {"type": "mcp", "server_label": "x", "server_url": url}
        )
        message = events[-1]["error"]["message"]
        assert "127.0.0.1:9/mcp" in message and "s3cret-pw" not in message
        assert "s3cret-pw" not in caplog.text
        checked(client.received)


async def test_a_turn_right_after_session_update_waits_for_the_mcp_tools(mcp_url):
    async with LocalRealtimeServer(speed=0) as server:
        client = await CheckedClient.connect(server.url)
        tool = _mcp_tool(mcp_url, require_approval="never")
        await client.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "output_modalities": ["text"], "tools": [tool]},
            }
        )
        events = await _turn(client, 'call add with {"a": 20, "b": 22}')  # no wait for listing
        kinds = types(events)
        assert kinds.index("mcp_list_tools.completed") < kinds.index("response.output_item.added")
        done = events[-1]["response"]
        assert done["output"][0]["type"] == "mcp_call" and done["output"][0]["output"] == "42"
        checked(client.received)


async def test_barge_in_during_an_mcp_call_stops_waiting_for_it(mcp_url):
    from realtime_widget.audio import encode_base64
    from tests.server.driver import speech

    async with LocalRealtimeServer(speed=0) as server:
        client, _ = await _session(server, _mcp_tool(mcp_url, require_approval="never"))
        await client.send(_user('call slow with {"seconds": 30}'))
        await client.send({"type": "response.create"})
        await client.until("response.mcp_call.in_progress")
        audio = speech(tail=0.0)
        for start in range(0, len(audio), 1200):  # 50 ms chunks, like a microphone
            chunk = encode_base64(audio[start : start + 1200])
            await client.send({"type": "input_audio_buffer.append", "audio": chunk})
        events = await client.until("response.done", 2 * UNIT)
        assert "input_audio_buffer.speech_started" in types(events)
        done = events[-1]["response"]
        assert done["status_details"] == {"type": "cancelled", "reason": "turn_detected"}
        assert done["output"][0]["error"]["type"] == "tool_execution_error"
        await asyncio.sleep(0.1 * UNIT)
        assert not [t for t in asyncio.all_tasks() if "_call_mcp_tool" in repr(t.get_coro())]
        checked(client.received)


async def test_beta_connection_says_mcp_tools_need_ga(mcp_url):
    async with LocalRealtimeServer(speed=0) as server:
        client = await CheckedClient.connect(server.url, dialect="beta")
        tool = _mcp_tool(mcp_url, require_approval="never")
        await client.send({"type": "session.update", "session": {"tools": [tool]}})
        # (the beta schema has no mcp tool: read the raw frames, not schema-checked ones)
        frames = [json.loads(await client.ws.recv()) for _ in range(2)]
        assert [f["type"] for f in frames] == ["session.updated", "error"]
        error = frames[1]["error"]
        assert error["code"] == "unsupported_in_beta" and error["param"] == "session.tools"
        assert "GA" in error["message"]
        checked([frames[1]], "beta")
