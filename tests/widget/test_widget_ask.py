"""``RealtimeWidget.ask`` / ``ask_async``: the answer in code, from a notebook cell (issue 15)."""

from __future__ import annotations

import asyncio
import threading

import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from realtime_widget.testing import Call, ScriptedBrain
from tests.helpers import UNIT
from tests.widget.test_widget import wait_until

KEY = "sk-test-right-key-0123456789"


def test_widget_ask_returns_the_offline_demos_answer_as_the_readme_shows(no_key):
    w = RealtimeWidget()  # the README quickstart: offline demo, connects by itself
    try:
        reply = w.ask("What is the speed of light?", timeout=20 * UNIT)
        assert reply.text and str(reply) == reply.text
        assert reply.item is not None and reply.item["role"] == "assistant"
        # The widget shows the same exchange, and its transcript is no longer empty.
        wait_until(lambda: reply.text in w.transcript, what="the answer in the transcript")
        assert "What is the speed of light?" in w.transcript
    finally:
        w.close()


def test_widget_ask_runs_its_tools_and_returns_the_final_answer():
    brain = ScriptedBrain([Call("add", {"a": 2, "b": 3}), "The sum is 5."])
    with LocalRealtimeServer(brain=brain, speed=0) as server:
        w = RealtimeWidget(url=server.url)
        try:

            @w.tool
            def add(a: int, b: int) -> int:
                """Add two numbers."""
                return a + b

            wait_until(lambda: w.status == "connected", what="connected")
            reply = w.ask("what is 2 + 3?", timeout=20 * UNIT)
            assert reply.text == "The sum is 5." and reply.responses == 2
        finally:
            w.close()


def test_widget_ask_async_awaits_on_the_callers_loop():
    with LocalRealtimeServer(brain=ScriptedBrain(["async answer"]), speed=0) as server:
        w = RealtimeWidget(url=server.url)
        try:
            wait_until(lambda: w.status == "connected", what="connected")

            async def cell() -> str:
                return str(await w.ask_async("hi", timeout=20 * UNIT))

            assert asyncio.run(cell()) == "async answer"
        finally:
            w.close()


def test_widget_ask_timeout_says_what_it_waited_for():
    release = threading.Event()
    brain = ScriptedBrain([Call("hang", {}), Call("hang", {}), "late answer"])
    with LocalRealtimeServer(brain=brain, speed=0) as server:
        w = RealtimeWidget(url=server.url)
        try:

            @w.tool
            def hang() -> str:
                """Takes too long."""
                release.wait(10 * UNIT)
                return "late"

            wait_until(lambda: w.status == "connected", what="connected")
            with pytest.raises(TimeoutError, match=r"still waiting for the answer to 'slow'"):
                w.ask("slow", timeout=0.5 * UNIT)
            # The widget says so too, with what to do: the cell's traceback is not the only trace.
            wait_until(lambda: any(e["code"] == "ask_timeout" for e in w.errors), what="the notice")
            (notice,) = [e for e in w.errors if e["code"] == "ask_timeout"]
            assert "raise `timeout`" in notice["message"] and notice["source"] == "kernel"

            async def cell() -> None:
                await w.ask_async("slower", timeout=0.5 * UNIT)

            with pytest.raises(TimeoutError, match=r"'slower'"):
                asyncio.run(cell())
            wait_until(
                lambda: sum(e["code"] == "ask_timeout" for e in w.errors) == 2,
                what="the async notice",
            )
        finally:
            release.set()
            w.close()


def test_widget_ask_after_a_failed_connect_raises_the_cause():
    with LocalRealtimeServer(api_key=KEY) as server:
        w = RealtimeWidget(url=server.url, api_key="sk-test-wrong-key-9876543210")
        try:
            wait_until(lambda: w.status == "error", what="the refusal")
            with pytest.raises(RuntimeError, match=r"last connection attempt failed.*HTTP 401"):
                w.ask("hello")
        finally:
            w.close()


def test_widget_ask_from_an_event_callback_raises_instead_of_deadlocking():
    with LocalRealtimeServer(brain=ScriptedBrain(["x", "y"]), speed=0) as server:
        w = RealtimeWidget(url=server.url)
        seen: list[BaseException] = []
        done = threading.Event()

        def on_item(event: dict) -> None:
            try:
                w.ask("from a callback", timeout=1)
            except RuntimeError as exc:
                seen.append(exc)
            done.set()

        try:
            wait_until(lambda: w.status == "connected", what="connected")
            w.on("conversation.item.completed", on_item)
            w.send_text("start")
            assert done.wait(10 * UNIT)
            assert seen and "ask_async" in str(seen[0])
        finally:
            w.close()


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
