"""Tools end to end: RealtimeClient + ToolRegistry against the embedded server over a websocket.

The server's EchoBrain calls a tool when the user says ``call NAME with {json}`` (or names
tools, which gives parallel calls) and, once outputs arrive, answers "NAME returned OUTPUT.".
Every test checks the two promises of issue 5 on the wire: each ``call_id`` the server sent got
exactly one ``function_call_output`` from the client, and the conversation went on (one
``response.create`` after the outputs, and an assistant reply quoting them).
"""

from __future__ import annotations

import asyncio
import json
import threading

from realtime_widget.server import ScriptedBrain
from realtime_widget.tools import ToolRegistry
from tests.helpers import UNIT
from tests.tools.wire import session


def error_type(output: str) -> str:
    return json.loads(output)["error"]["type"]


async def test_tool_result_goes_back_and_the_model_answers_with_it():
    registry = ToolRegistry()

    @registry.tool
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    async with session(registry) as (client, wire):
        await wire.turn(client, 'call add with {"a": 2, "b": "3"}')
        assert wire.output_of("add") == "5"
        assert wire.replies()[-1] == "add returned 5."
        wire.assert_each_call_answered_once()
    assert [r.status for r in registry.history] == ["ok"]


async def test_raising_tool_is_answered_with_its_error_and_the_model_goes_on():
    registry = ToolRegistry()

    @registry.tool
    def divide(a: float, b: float) -> float:
        return a / b

    async with session(registry) as (client, wire):
        await wire.turn(client, 'call divide with {"a": 1, "b": 0}')
        assert error_type(wire.output_of("divide")) == "ZeroDivisionError"
        # The echo brain says the error's sentence, not its JSON (issue 15).
        assert wire.replies()[-1] == (
            "The tool divide failed: ZeroDivisionError: float division by zero."
        )
        wire.assert_each_call_answered_once()
    assert "ZeroDivisionError" in registry.history[0].traceback


async def test_hung_tool_times_out_once_and_its_late_result_is_never_sent():
    registry = ToolRegistry()
    release, finished = threading.Event(), threading.Event()

    @registry.tool(timeout=0.1 * UNIT)
    def hang() -> str:
        release.wait(30 * UNIT)
        finished.set()
        return "late"

    async with session(registry) as (client, wire):
        await wire.turn(client, "call hang with {}")
        assert error_type(wire.output_of("hang")) == "timeout"
        release.set()
        assert await asyncio.to_thread(finished.wait, 5 * UNIT)
        await asyncio.sleep(0.1 * UNIT)  # room for a (wrong) second output to appear
        wire.assert_each_call_answered_once()
        assert wire.replies()[-1].startswith("The tool hang timed out: Tool hang did not finish")


async def test_invalid_arguments_are_answered_with_what_to_fix():
    registry = ToolRegistry()

    @registry.tool
    def add(a: int, b: int) -> int:
        return a + b

    async with session(registry) as (client, wire):
        await wire.turn(client, 'call add with {"a": "one"}')
        output = json.loads(wire.output_of("add"))["error"]
        assert output["type"] == "invalid_arguments"
        assert "a: Input should be a valid integer" in output["message"]
        assert "b: Field required" in output["message"]
        wire.assert_each_call_answered_once()


async def test_invalid_json_and_unknown_tool_are_answered_too():
    registry = ToolRegistry()

    @registry.tool
    def add(a: int, b: int) -> int:
        return a + b

    brain = ScriptedBrain(
        [[{"name": "add", "arguments": '{"a": 1,'}, {"name": "launch_rocket", "arguments": "{}"}]]
    )
    async with session(registry, brain) as (client, wire):
        await wire.turn(client, "do things")
        assert error_type(wire.output_of("add")) == "invalid_json"
        assert error_type(wire.output_of("launch_rocket")) == "unknown_tool"
        assert "The tool launch_rocket failed: unknown_tool: There is no tool" in wire.replies()[-1]
        wire.assert_each_call_answered_once()


async def test_parallel_calls_run_concurrently_and_get_one_response_create():
    registry = ToolRegistry()
    barrier = threading.Barrier(3, timeout=10 * UNIT)

    def meeting(label: str):
        def meet() -> str:
            barrier.wait()  # returns only when all three tools run at the same time
            return label

        meet.__name__ = f"meet_{label}"
        return meet

    for label in "abc":
        registry.add(meeting(label))

    async with session(registry) as (client, wire):
        await wire.turn(client, "please meet_a, meet_b and meet_c")
        assert sorted(wire.calls().values()) == ["meet_a", "meet_b", "meet_c"]
        assert {out for _, out in wire.outputs()} == {"a", "b", "c"}
        wire.assert_each_call_answered_once()
        assert "meet_a returned a." in wire.replies()[-1]


async def test_approved_call_runs_after_the_user_says_yes():
    registry = ToolRegistry()
    ran = []

    @registry.tool(requires_approval=True)
    def send_email(to: str) -> str:
        ran.append(to)
        return f"sent to {to}"

    # the widget's approve button: decided from another thread when the request shows up
    registry.on_approval_request(
        lambda record: threading.Thread(target=registry.approve, args=(record.call_id,)).start()
    )
    async with session(registry) as (client, wire):
        await wire.turn(client, 'call send_email with {"to": "ada@example.com"}')
        assert wire.output_of("send_email") == "sent to ada@example.com"
        wire.assert_each_call_answered_once()
    assert ran == ["ada@example.com"]
    assert registry.history[0].approved_by == "user"


async def test_denied_call_tells_the_model_and_the_conversation_goes_on():
    registry = ToolRegistry()
    ran = []

    @registry.tool(requires_approval=True)
    def send_email(to: str) -> str:
        ran.append(to)
        return "sent"

    async with session(registry) as (client, wire):
        client.send_user_message_content('call send_email with {"to": "boss@example.com"}')
        await wire.until(lambda: registry.pending_approvals, "the approval request")
        assert wire.outputs() == []  # nothing answered while the user decides
        registry.deny(registry.pending_approvals[0].call_id, reason="not now")
        await wire.until(lambda: len(wire.replies()) == 1, "the reply after the denial")
        output = json.loads(wire.output_of("send_email"))["error"]
        assert output["type"] == "denied"
        assert "The user declined" in output["message"]
        assert wire.replies()[-1].startswith("The tool send_email was not run: The user declined")
        wire.assert_each_call_answered_once()
    assert ran == []


async def test_redefining_a_tool_while_connected_updates_the_session_without_reconnecting():
    registry = ToolRegistry()

    @registry.tool
    def greet(name: str) -> str:
        return f"hello {name}"

    async with session(registry) as (client, wire):
        await wire.turn(client, 'call greet with {"name": "Ada"}')
        updates = len(wire.of("client", "session.update"))

        @registry.tool
        def greet(name: str, shout: bool = False) -> str:  # the cell re-run
            return f"HELLO {name.upper()}" if shout else f"hi {name}"

        await wire.until(
            lambda: len(wire.of("server", "session.updated")) > updates, "session.updated"
        )
        sent = wire.of("client", "session.update")[-1]["session"]["tools"]
        assert [t["name"] for t in sent] == ["greet"]
        assert set(sent[0]["parameters"]["properties"]) == {"name", "shout"}
        await wire.turn(client, 'call greet with {"name": "Ada", "shout": true}')
        assert [out for _, out in wire.outputs()] == ["hello Ada", "HELLO ADA"]
        assert len(wire.of("server", "session.created")) == 1  # same connection throughout
        wire.assert_each_call_answered_once()
        assert client.is_connected
