"""``RealtimeClient.ask`` / ``ask_async`` against the real embedded server (issue 15, point 2)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from realtime_widget import RealtimeConnectionError
from realtime_widget.client import RealtimeClient, Reply
from realtime_widget.testing import Call
from tests.helpers import UNIT

pytest_plugins = ["realtime_widget.testing.fixtures"]


def test_ask_returns_the_spoken_answer_and_its_item(realtime_client, scripted_brain):
    scripted_brain(["The speed of light is 299,792,458 m/s."])
    reply = realtime_client.ask("What is the speed of light?", timeout=10 * UNIT)
    assert isinstance(reply, Reply)
    assert str(reply) == reply.text == "The speed of light is 299,792,458 m/s."
    assert reply.item is not None and reply.item["role"] == "assistant"
    assert reply.item["formatted"]["transcript"] == reply.text
    assert reply.result.status == "completed" and reply.responses == 1
    # Exactly one response.create: ask() does not also trigger the seed's automatic one.
    user = [i for i in realtime_client.conversation.get_items() if i["role"] == "user"]
    assert len(user) == 1 and realtime_client.usage["responses"] == 1


def test_ask_waits_through_tool_calls_for_the_answer(realtime_client, scripted_brain):
    def add(a: int, b: int) -> int:
        """Add two integers."""
        return a + b

    realtime_client.add_tool(add)
    scripted_brain([Call("add", {"a": 2, "b": 3}), Call("add", {"a": 5, "b": 1}), "It is 6."])
    reply = realtime_client.ask("what is 2 + 3 + 1?", timeout=10 * UNIT)
    assert reply.text == "It is 6." and reply.responses == 3
    outputs = [
        i for i in realtime_client.conversation.get_items() if i["type"] == "function_call_output"
    ]
    assert [o["output"] for o in outputs] == ["5", "6"]


def test_ask_async_from_another_event_loop(realtime_client, scripted_brain):
    scripted_brain(["async answer"])

    async def main() -> Reply:
        return await realtime_client.ask_async("hi", timeout=10 * UNIT)

    assert asyncio.run(main()).text == "async answer"


def test_ask_times_out_naming_the_tool_round_it_waited_for(realtime_client, scripted_brain):
    release = threading.Event()

    def hang() -> str:
        """Never answers in time."""
        release.wait(10 * UNIT)
        return "late"

    realtime_client.add_tool(hang)
    scripted_brain([Call("hang", {}), "done"])
    try:
        with pytest.raises(TimeoutError, match=r"ask\(\).*after its tool calls \(hang; 1 resp"):
            realtime_client.ask("go", timeout=0.5 * UNIT)
    finally:
        release.set()
    # The conversation goes on: the late tool output gets its answer, and ask works again.
    assert realtime_client.ask("again", timeout=10 * UNIT).text


def test_ask_without_a_connection_says_why(realtime_server):
    client = RealtimeClient(url=realtime_server.url, api_key="sk-wrong")
    try:
        with pytest.raises(RealtimeConnectionError):
            client.connect(timeout=10 * UNIT)
        with pytest.raises(RuntimeError, match="cannot ask: not connected; the last connect"):
            client.ask("hello")
    finally:
        client.close()


def test_ask_on_the_runtime_thread_raises_instead_of_deadlocking(realtime_client, scripted_brain):
    seen: list[BaseException] = []
    done = threading.Event()

    def on_item(event: dict) -> None:
        try:
            realtime_client.ask("from a callback", timeout=1)
        except RuntimeError as exc:
            seen.append(exc)
        done.set()

    realtime_client.on("conversation.item.completed", on_item)
    scripted_brain(["x"])
    realtime_client.send_user_message_content("start")
    assert done.wait(10 * UNIT)
    assert seen and "ask_async" in str(seen[0])
