"""Cancelling running tools from the client (issue 15, point 3), against the embedded server.

The notebook thread calls public sync methods; the server's live session is where the model
reads outputs, so that is where "exactly one cancellation output per call" is counted.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from realtime_widget import CancelToken
from realtime_widget.client import ResponseError
from realtime_widget.protocol.tool_outputs import spoken_output
from realtime_widget.server import Call
from realtime_widget.testing.faults import Fault
from tests.helpers import UNIT
from tests.reliability._harness import EscapeGuard, Rig, wait_until


def outputs_on_server(rig: Rig) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in rig.server_items():
        if item.get("type") == "function_call_output":
            out.setdefault(item["call_id"], []).append(item["output"])
    return out


def sent_outputs(rig: Rig) -> Counter:
    items = [e["item"] for e in rig.sent("conversation.item.create")]
    return Counter(i["call_id"] for i in items if i.get("type") == "function_call_output")


def assert_cancelled(output: str, tool: str) -> None:
    assert json.loads(output)["error"]["type"] == "cancelled"
    assert spoken_output(output) == f"The tool {tool} was cancelled by the user."


def test_client_cancel_stops_an_async_tool_mid_run_and_answers_once():
    began, seen = threading.Event(), []
    script = [[Call("slow_lookup", {}, call_id="call_slow")]]
    with EscapeGuard() as guard, Rig(script) as rig:

        async def slow_lookup() -> str:
            """Takes ten seconds."""
            began.set()
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                seen.append("CancelledError")
                raise
            return "too late"

        rig.client.add_tool(slow_lookup)
        cancelled_events = []
        rig.client.on("tool_calls.cancelled", cancelled_events.append)
        rig.connect()
        rig.client.send_user_message_content("look it up")
        assert began.wait(5 * UNIT)
        wait_until(lambda: not rig.client.response_active, 5 * UNIT, "the call's response done")
        creates = len(rig.sent("response.create"))
        started = time.monotonic()
        rig.client.cancel()
        wait_until(lambda: outputs_on_server(rig), 5 * UNIT, "the cancellation output")
        assert time.monotonic() - started < 2 * UNIT  # not after the tool's ten seconds
        [output] = outputs_on_server(rig)["call_slow"]
        assert_cancelled(output, "slow_lookup")
        assert seen == ["CancelledError"]
        assert cancelled_events == [{"type": "tool_calls.cancelled", "call_ids": ["call_slow"]}]
        [record] = rig.client.tools.history
        assert (record.call_id, record.status) == ("call_slow", "cancelled")
        time.sleep(0.2 * UNIT)
        assert len(rig.sent("response.create")) == creates  # Stop: nothing more is said
        # The conversation goes on, and the model read the cancellation with the next turn.
        assert rig.say("what happened?") == "You said: what happened?"
        assert outputs_on_server(rig) == {"call_slow": [output]}
    assert guard.escaped == []


def test_client_cancel_tools_tells_a_sync_tool_through_its_token_and_it_stops():
    began, stopped = threading.Event(), threading.Event()
    steps: list[int] = []
    script = [[Call("crunch", {"n": 100000}, call_id="call_crunch")]]
    with EscapeGuard() as guard, Rig(script) as rig:

        def crunch(n: int, token: CancelToken) -> int:
            """Counts slowly."""
            began.set()
            try:
                for i in range(n):
                    token.raise_if_cancelled()
                    steps.append(i)
                    token.wait(0.01)
                return n
            finally:
                stopped.set()

        rig.client.add_tool(crunch)
        rig.connect()
        rig.client.send_user_message_content("crunch")
        assert began.wait(5 * UNIT)
        rig.client.cancel_tools()
        assert stopped.wait(2 * UNIT), "the tool did not see its token"
        wait_until(lambda: outputs_on_server(rig), 5 * UNIT, "the cancellation output")
        assert_cancelled(outputs_on_server(rig)["call_crunch"][0], "crunch")
        assert len(steps) < 100000
        assert rig.client.tools.history[0].status == "cancelled"
        assert sent_outputs(rig) == {"call_crunch": 1}
    assert guard.escaped == []


def test_sync_tool_without_token_finishes_in_its_thread_but_only_the_cancel_is_sent():
    began, release, finished = threading.Event(), threading.Event(), threading.Event()
    script = [[Call("stubborn", {}, call_id="call_stubborn")]]
    with EscapeGuard() as guard, Rig(script) as rig:

        def stubborn() -> str:
            """Cannot be stopped."""
            began.set()
            release.wait(10 * UNIT)
            finished.set()
            return "the real result"

        rig.client.add_tool(stubborn)
        rig.connect()
        rig.client.send_user_message_content("be stubborn")
        assert began.wait(5 * UNIT)
        rig.client.cancel_tools()
        wait_until(lambda: outputs_on_server(rig), 5 * UNIT, "the cancellation output")
        assert not finished.is_set()  # it runs on in its thread
        release.set()
        assert finished.wait(2 * UNIT)
        time.sleep(0.3 * UNIT)  # room for a (wrong) late output
        assert sent_outputs(rig) == {"call_stubborn": 1}
        [output] = outputs_on_server(rig)["call_stubborn"]
        assert_cancelled(output, "stubborn")
        assert rig.client.tools.history[0].status == "cancelled"
        assert rig.say("still there?") == "You said: still there?"
    assert guard.escaped == []


def _is_output_announcement(event: dict) -> bool:
    item = event.get("item") or {}
    return event.get("type") == "conversation.item.added" and (
        item.get("type") == "function_call_output"
    )


def test_cancellation_lost_with_the_connection_reaches_the_new_session_exactly_once():
    began, release = threading.Event(), threading.Event()
    script = [[Call("stubborn", {}, call_id="call_lost")]]
    with EscapeGuard() as guard, Rig(script) as rig:

        def stubborn() -> str:
            """Cannot be stopped."""
            began.set()
            release.wait(10 * UNIT)
            return "the real result"

        rig.client.add_tool(stubborn)
        rig.connect()
        rig.client.send_user_message_content("be stubborn")
        assert began.wait(5 * UNIT)
        # The server's announcement of the output is lost with the connection: the client has
        # no proof the model got it, so the new session must get it, once.
        rig.proxy.add(Fault("drop", _is_output_announcement))
        rig.client.cancel_tools()
        wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")
        release.set()  # the tool's late result must not be sent in either session
        wait_until(lambda: outputs_on_server(rig), 5 * UNIT, "the replayed output")
        time.sleep(0.3 * UNIT)
        outputs = outputs_on_server(rig)
        assert list(outputs) == ["call_lost"] and len(outputs["call_lost"]) == 1
        assert_cancelled(outputs["call_lost"][0], "stubborn")
        kinds = [(i["type"], i.get("call_id")) for i in rig.server_items()]
        assert kinds.count(("function_call", "call_lost")) == 1
        assert all(
            json.loads(e["item"]["output"])["error"]["type"] == "cancelled"
            for e in rig.sent("conversation.item.create")
            if e["item"].get("type") == "function_call_output"
        )
        assert rig.say("and now?") == "You said: and now?"
        assert len(outputs_on_server(rig)["call_lost"]) == 1
    assert guard.escaped == []


def test_cancel_tools_with_nothing_running_does_nothing():
    with EscapeGuard() as guard, Rig() as rig:
        events = []
        rig.client.on("tool_calls.cancelled", events.append)
        rig.client.cancel_tools()  # not even connected: nothing to do, nothing raised
        rig.connect()
        rig.client.cancel()
        assert rig.say("hello") == "You said: hello"
        assert events == [] and rig.client.tools.history == []
    assert guard.escaped == []


def test_ask_waiting_on_a_cancelled_tool_ends_with_a_clear_error_not_a_timeout():
    began = threading.Event()
    script = [[Call("slow_lookup", {}, call_id="call_ask")]]
    with EscapeGuard() as guard, Rig(script) as rig:

        async def slow_lookup() -> str:
            """Takes ten seconds."""
            began.set()
            await asyncio.sleep(10)
            return "too late"

        rig.client.add_tool(slow_lookup)
        rig.connect()
        with ThreadPoolExecutor(1) as pool:
            asked = pool.submit(rig.client.ask, "look it up", 30 * UNIT)
            assert began.wait(5 * UNIT)
            rig.client.cancel()
            with pytest.raises(ResponseError, match=r"\(slow_lookup\) were cancelled"):
                asked.result(3 * UNIT)
        assert rig.say("hello") == "You said: hello"
    assert guard.escaped == []
