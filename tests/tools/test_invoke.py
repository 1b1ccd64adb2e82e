"""ToolRegistry.invoke: every call answered once, with a result or an error the model can use."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import threading

import pytest

from realtime_widget.tools import ToolRegistry, loop_executor
from realtime_widget.tools.invoke import _start_thread
from tests.helpers import UNIT


def error_of(record) -> dict:
    return json.loads(record.output)["error"]


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


async def test_registry_runs_sync_tool_with_coerced_arguments():
    registry = ToolRegistry()
    seen = {}

    @registry.tool
    def move(p: Point, steps: int) -> dict:
        seen["p"], seen["steps"] = p, steps
        return {"x": p.x + steps}

    record = await registry.invoke("call_1", "move", '{"p": {"x": "2"}, "steps": "3"}')
    assert (record.status, record.output) == ("ok", '{"x":5}')
    assert seen == {"p": Point(2, 0), "steps": 3}
    assert record.result == {"x": 5}
    assert record.parsed_arguments == {"p": Point(2, 0), "steps": 3}
    assert record.duration is not None and record.run_duration is not None
    assert record.approved_by is None and record.error is None
    assert list(registry.history) == [record]


async def test_registry_awaits_async_tool_on_the_calling_loop():
    registry = ToolRegistry()
    loops = []

    @registry.tool
    async def echo(text: str) -> str:
        loops.append(asyncio.get_running_loop())
        return text.upper()

    record = await registry.invoke("c", "echo", '{"text": "hi"}')
    assert record.output == "HI"
    assert loops == [asyncio.get_running_loop()]


async def test_registry_treats_empty_arguments_as_no_arguments():
    registry = ToolRegistry()

    @registry.tool
    def answer() -> int:
        return 42

    assert (await registry.invoke("c", "answer", "")).output == "42"


async def test_exception_becomes_error_output_with_type_and_message(caplog):
    registry = ToolRegistry()

    @registry.tool
    def explode(n: int) -> int:
        raise ValueError(f"bad n={n}")

    with caplog.at_level(logging.ERROR, logger="realtime_widget.tools"):
        record = await registry.invoke("c", "explode", '{"n": 4}')
    assert record.status == "error"
    assert error_of(record) == {"type": "ValueError", "message": "bad n=4"}
    assert "raise ValueError" in record.traceback
    assert "raise ValueError" in caplog.text


async def test_invalid_json_becomes_error_output():
    registry = ToolRegistry()
    registry.add(lambda_tool)
    record = await registry.invoke("c", "lambda_tool", '{"x": 1')
    assert error_of(record)["type"] == "invalid_json"
    assert "JSON object" in error_of(record)["message"]


def lambda_tool(x: int) -> int:
    return x


async def test_invalid_arguments_name_each_problem():
    registry = ToolRegistry()

    @registry.tool
    def book(seats: int, name: str) -> str:
        return "ok"

    record = await registry.invoke("c", "book", '{"seats": "many"}')
    error = error_of(record)
    assert error["type"] == "invalid_arguments"
    assert "seats: Input should be a valid integer" in error["message"]
    assert "name: Field required" in error["message"]
    assert record.run_duration is None  # the tool never ran


async def test_non_object_arguments_are_invalid_arguments():
    registry = ToolRegistry()
    registry.add(lambda_tool)
    record = await registry.invoke("c", "lambda_tool", "[1, 2]")
    assert error_of(record)["type"] == "invalid_arguments"


async def test_unknown_tool_error_lists_available_tools():
    registry = ToolRegistry()
    registry.add(lambda_tool)
    record = await registry.invoke("c", "nope", "{}")
    assert error_of(record) == {
        "type": "unknown_tool",
        "message": "There is no tool named 'nope'. Available tools: lambda_tool.",
    }


async def test_unserialisable_result_becomes_error_output():
    class Cursed:
        def __repr__(self) -> str:
            raise RuntimeError("no repr for you")

    registry = ToolRegistry()

    @registry.tool
    def cursed() -> object:
        return Cursed()

    record = await registry.invoke("c", "cursed", "{}")
    assert record.status == "error"
    assert error_of(record)["type"] == "unserializable_result"


async def test_async_tool_past_its_timeout_is_cancelled_and_reported():
    registry = ToolRegistry()
    cancelled = asyncio.Event()

    @registry.tool(timeout=0.05 * UNIT)
    async def slow() -> str:
        try:
            await asyncio.sleep(30 * UNIT)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "late"

    record = await registry.invoke("c", "slow", "{}")
    assert record.status == "timeout"
    error = error_of(record)
    assert error["type"] == "timeout"
    assert "@tool(timeout=...)" in error["message"]
    await asyncio.wait_for(cancelled.wait(), 5 * UNIT)


async def test_hung_sync_tool_times_out_and_its_late_result_is_discarded(caplog):
    registry = ToolRegistry()
    release, finished = threading.Event(), threading.Event()

    @registry.tool(timeout=0.05 * UNIT)
    def hang() -> str:
        release.wait(30 * UNIT)
        finished.set()
        return "late"

    with caplog.at_level(logging.WARNING, logger="realtime_widget.tools"):
        record = await registry.invoke("c", "hang", "{}")
        assert record.status == "timeout"
        output = record.output
        release.set()
        assert await asyncio.to_thread(finished.wait, 5 * UNIT)
        for _ in range(100):
            if "discarded" in caplog.text:
                break
            await asyncio.sleep(0.01 * UNIT)
    assert "late result was discarded" in caplog.text
    assert (record.output, record.status, record.result) == (output, "timeout", None)
    assert len(registry.history) == 1


async def test_sync_tool_runs_off_the_loop_so_the_loop_keeps_running():
    registry = ToolRegistry()
    release = threading.Event()
    threads = []

    @registry.tool
    def block() -> str:
        threads.append(threading.current_thread())
        release.wait(10 * UNIT)
        return "done"

    call = asyncio.ensure_future(registry.invoke("c", "block", "{}"))
    ticks = 0
    while not threads:
        await asyncio.sleep(0.005 * UNIT)
    for _ in range(5):  # the loop still turns while the tool blocks its thread
        await asyncio.sleep(0)
        ticks += 1
    release.set()
    record = await asyncio.wait_for(call, 5 * UNIT)
    assert (ticks, record.output) == (5, "done")
    assert threads[0] is not threading.current_thread()
    assert threads[0].daemon


async def test_parallel_sync_calls_overlap():
    registry = ToolRegistry()
    barrier = threading.Barrier(3, timeout=10 * UNIT)

    @registry.tool
    def meet(i: int) -> int:
        barrier.wait()  # only returns once all three calls are running at the same time
        return i

    records = await asyncio.gather(
        *(registry.invoke(f"c{i}", "meet", f'{{"i": {i}}}') for i in range(3))
    )
    assert [r.output for r in records] == ["0", "1", "2"]


async def test_parallel_async_calls_overlap():
    registry = ToolRegistry()
    running = 0
    peak = 0
    all_in = asyncio.Event()

    @registry.tool
    async def work(i: int) -> int:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        if running == 4:
            all_in.set()
        await asyncio.wait_for(all_in.wait(), 10 * UNIT)
        running -= 1
        return i

    records = await asyncio.gather(
        *(registry.invoke(f"c{i}", "work", f'{{"i": {i}}}') for i in range(4))
    )
    assert peak == 4
    assert all(r.ok for r in records)


async def test_main_thread_tool_runs_through_the_main_thread_executor():
    main_loop = asyncio.new_event_loop()
    main = threading.Thread(target=main_loop.run_forever, name="fake-kernel-main", daemon=True)
    main.start()
    try:
        registry = ToolRegistry(main_thread_executor=loop_executor(main_loop))
        seen = []

        @registry.tool(thread="main")
        def plot(n: int) -> int:
            seen.append(threading.current_thread().name)
            return n

        @registry.tool(thread="main")
        async def aplot() -> str:
            seen.append(threading.current_thread().name)
            return "ok"

        assert (await registry.invoke("c1", "plot", '{"n": 2}')).output == "2"
        assert (await registry.invoke("c2", "aplot", "{}")).output == "ok"
        assert seen == ["fake-kernel-main", "fake-kernel-main"]
    finally:
        main_loop.call_soon_threadsafe(main_loop.stop)
        main.join(5 * UNIT)
        main_loop.close()


async def test_main_thread_tool_falls_back_to_a_worker_and_says_why(caplog):
    registry = ToolRegistry()
    seen = []

    @registry.tool(thread="main")
    def plot() -> str:
        seen.append(threading.current_thread())
        return "ok"

    with caplog.at_level(logging.INFO, logger="realtime_widget.tools"):
        record = await registry.invoke("c", "plot", "{}")
    assert record.ok
    assert seen[0] is not threading.current_thread()
    assert "no main-thread executor" in caplog.text


async def test_seed_form_handler_receives_the_arguments_dict():
    registry = ToolRegistry()
    definition = {
        "name": "add",
        "description": "Add numbers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "number"}}},
    }
    registry.add(definition, lambda args: {"sum": args["a"] + args.get("b", 0)})
    assert registry.definitions() == [{"type": "function", **definition}]
    record = await registry.invoke("c", "add", '{"a": 1, "b": 2}')
    assert record.output == '{"sum":3}'


async def test_tool_removed_mid_call_still_answers_once():
    registry = ToolRegistry()
    started, release = asyncio.Event(), asyncio.Event()

    @registry.tool
    async def slow() -> str:
        started.set()
        await release.wait()
        return "finished"

    call = asyncio.ensure_future(registry.invoke("c", "slow", "{}"))
    await asyncio.wait_for(started.wait(), 5 * UNIT)
    registry.remove("slow")
    release.set()
    record = await asyncio.wait_for(call, 5 * UNIT)
    assert (record.status, record.output) == ("ok", "finished")
    assert len(registry.history) == 1
    assert error_of(await registry.invoke("c2", "slow", "{}"))["type"] == "unknown_tool"


async def test_cancelling_invoke_marks_the_record_cancelled():
    registry = ToolRegistry()

    @registry.tool
    async def forever() -> None:
        await asyncio.sleep(30 * UNIT)

    call = asyncio.ensure_future(registry.invoke("c", "forever", "{}"))
    await asyncio.sleep(0.01 * UNIT)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert registry.history[0].status == "cancelled"


def test_worker_thread_propagates_exceptions_to_its_future():
    def boom() -> None:
        raise KeyError("k")

    future = _start_thread(boom, "boom")
    with pytest.raises(KeyError):
        future.result(5 * UNIT)
