"""Cancelling tool calls: async tools get CancelledError, sync tools a CancelToken (issue 15)."""

from __future__ import annotations

import asyncio
import json
import logging
import threading

import pytest

from realtime_widget import CancelToken
from realtime_widget.tools import ToolRegistry, function_schema
from realtime_widget.tools.invoke import MAX_TRACEBACK_CHARS, bounded_traceback
from realtime_widget.tools.schema import ToolDefinitionError
from tests.helpers import UNIT


async def started(event: threading.Event | asyncio.Event) -> None:
    """Wait (without blocking the loop) until a tool says it started."""
    for _ in range(int(200 * UNIT)):
        if event.is_set():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the tool never started")


def summary_of(record) -> str:
    return json.loads(record.output)["summary"]


async def test_registry_cancels_async_tool_mid_run_with_cancelled_error():
    registry = ToolRegistry()
    began, seen = asyncio.Event(), []

    @registry.tool
    async def slow(seconds: float) -> str:
        began.set()
        try:
            await asyncio.sleep(seconds)
        except asyncio.CancelledError:
            seen.append("cancelled")
            raise
        return "finished"

    call = asyncio.ensure_future(registry.invoke("c1", "slow", '{"seconds": 30}'))
    await started(began)
    assert registry.running == ["c1"]
    assert registry.cancel("c1") is True
    record = await asyncio.wait_for(call, 2 * UNIT)
    assert record.status == "cancelled"
    assert record.error == {
        "type": "cancelled",
        "message": "The call was cancelled by the user before it finished.",
    }
    assert summary_of(record) == "The tool slow was cancelled by the user."
    await asyncio.sleep(0)
    assert seen == ["cancelled"]
    assert registry.running == [] and registry.cancel("c1") is False
    assert registry.history.failed() == [record]


async def test_registry_cancel_sets_token_of_sync_tool_which_stops(caplog):
    caplog.set_level(logging.INFO, logger="realtime_widget.tools")
    registry = ToolRegistry()
    began, stopped = threading.Event(), threading.Event()
    steps = []

    @registry.tool
    def crunch(n: int, cancel: CancelToken) -> int:
        """Count slowly.

        Args:
            n: how far.
        """
        began.set()
        try:
            for i in range(n):
                cancel.raise_if_cancelled()
                steps.append(i)
                cancel.wait(0.02)
            return n
        finally:
            stopped.set()

    assert "cancel" not in function_schema(crunch)["parameters"]["properties"]
    assert registry.definitions()[0]["parameters"]["required"] == ["n"]
    call = asyncio.ensure_future(registry.invoke("c2", "crunch", '{"n": 100000}'))
    await started(began)
    registry.cancel("c2")
    record = await asyncio.wait_for(call, 2 * UNIT)
    assert record.status == "cancelled"
    assert await asyncio.to_thread(stopped.wait, 2 * UNIT), "the tool did not stop"
    count = len(steps)
    await asyncio.sleep(0.1)
    assert len(steps) == count < 100000  # it really stopped, not only the wait
    assert "late result" not in caplog.text  # stopping when told is not a late result
    assert record.traceback is None  # a cancellation is not a failure


async def test_sync_tool_without_token_runs_on_but_its_late_result_is_dropped(caplog):
    registry = ToolRegistry()
    began, release, finished = threading.Event(), threading.Event(), threading.Event()

    @registry.tool
    def stubborn() -> str:
        began.set()
        release.wait(10 * UNIT)
        finished.set()
        return "late result"

    call = asyncio.ensure_future(registry.invoke("c3", "stubborn", "{}"))
    await started(began)
    registry.cancel("c3")
    record = await asyncio.wait_for(call, 2 * UNIT)
    assert record.status == "cancelled" and "late result" not in record.output
    assert not finished.is_set()  # still running in its thread
    with caplog.at_level(logging.INFO, logger="realtime_widget.tools"):
        release.set()
        assert await asyncio.to_thread(finished.wait, 2 * UNIT)
        for _ in range(100):
            if "late result was discarded" in caplog.text:
                break
            await asyncio.sleep(0.01)
    assert "after it was cancelled; the late result was discarded" in caplog.text
    late = [r for r in caplog.records if "late result" in r.getMessage()]
    assert [r.levelno for r in late] == [logging.INFO]  # the user's wish, not a problem
    assert record.status == "cancelled" and record.result is None


async def test_cancel_while_awaiting_approval_never_runs_the_tool():
    registry = ToolRegistry()
    ran = []

    @registry.tool(requires_approval=True)
    def delete_files() -> str:
        ran.append(True)
        return "deleted"

    call = asyncio.ensure_future(registry.invoke("c4", "delete_files", "{}"))
    for _ in range(200):
        if registry.pending_approvals:
            break
        await asyncio.sleep(0.01)
    assert registry.cancel_all() == ["c4"]
    record = await asyncio.wait_for(call, 2 * UNIT)
    assert (record.status, ran) == ("cancelled", [])
    assert registry.pending_approvals == []


async def test_tool_raising_tool_cancelled_itself_ends_as_cancelled():
    registry = ToolRegistry()

    @registry.tool
    def gives_up(token: CancelToken | None = None) -> str:
        token.cancel("gave up")
        token.raise_if_cancelled()
        return "never"

    record = await registry.invoke("c5", "gives_up", "{}")
    assert record.status == "cancelled" and record.traceback is None


def test_tool_with_two_tokens_is_refused_with_a_fix():
    def two(a: CancelToken, b: CancelToken) -> None:
        """Two tokens."""

    with pytest.raises(ToolDefinitionError, match="at most one CancelToken"):
        function_schema(two)


async def test_failing_tool_output_starts_with_a_sentence_and_keeps_fields():
    registry = ToolRegistry()

    @registry.tool
    def get_weather(city: str) -> dict:
        raise ValueError("city not found")

    record = await registry.invoke("c6", "get_weather", '{"city": "Atlantis"}')
    data = json.loads(record.output)
    assert list(data) == ["summary", "error"]
    assert data["summary"] == "The tool get_weather failed: ValueError: city not found."
    assert data["error"] == {"type": "ValueError", "message": "city not found"}
    assert record.traceback.startswith("Traceback") and "city not found" in record.traceback


async def test_huge_traceback_is_bounded_and_keeps_its_end():
    registry = ToolRegistry()

    @registry.tool
    def noisy() -> int:
        lines = "\n".join(f"row {i}: bad" for i in range(20000))
        raise ValueError(f"{lines}\nthe end")

    record = await registry.invoke("c7", "noisy", "{}")
    assert record.error["type"] == "ValueError"
    assert len(record.traceback) <= MAX_TRACEBACK_CHARS
    assert record.traceback.startswith("Traceback (most recent call last):")
    assert "characters cut" in record.traceback
    assert record.traceback.rstrip().endswith("the end")


def test_bounded_traceback_leaves_short_text_alone():
    assert bounded_traceback("a\nb") == "a\nb"
    long = "Traceback\n" + "".join(f"line {i}\n" for i in range(5000)) + "Error: x\n"
    cut = bounded_traceback(long, 1000)
    assert len(cut) <= 1000 and cut.endswith("Error: x\n") and cut.startswith("Traceback\n")


async def test_traceback_starts_at_the_tools_own_frames_not_the_machinery():
    registry = ToolRegistry()

    def helper(city: str) -> None:
        raise ValueError(f"city not found: {city}")

    @registry.tool
    def get_weather(city: str) -> str:
        helper(city)
        return "never"

    record = await registry.invoke("c8", "get_weather", '{"city": "Atlantis"}')
    lines = record.traceback.splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert "in get_weather" in lines[1] and "in helper" in record.traceback
    assert "realtime_widget" not in record.traceback
    assert lines[-1] == "ValueError: city not found: Atlantis"
