"""The shared runtime thread (DESIGN §3)."""

import asyncio
import threading

import pytest

from realtime_widget.runtime import Runtime, get_runtime
from tests.helpers import UNIT


@pytest.fixture
def runtime():
    rt = Runtime(name="test-runtime")
    yield rt
    rt.stop()


def test_runtime_runs_coroutines_on_its_own_thread(runtime):
    async def where():
        return threading.current_thread().name

    assert runtime.run(where(), timeout=5 * UNIT) == "test-runtime"


def test_runtime_refuses_blocking_call_from_its_own_thread(runtime):
    async def nested():
        async def inner():
            return 1

        with pytest.raises(RuntimeError, match="await the async variant"):
            runtime.run(inner())
        return "ok"

    assert runtime.run(nested(), timeout=5 * UNIT) == "ok"


def test_runtime_run_times_out_and_cancels(runtime):
    cancelled = threading.Event()

    async def forever():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        runtime.run(forever(), timeout=0.1 * UNIT)
    assert cancelled.wait(5 * UNIT)


async def test_runtime_run_async_is_awaitable_from_another_loop(runtime):
    async def value():
        return threading.current_thread().name

    assert await runtime.run_async(value()) == "test-runtime"


def test_runtime_call_soon_is_thread_safe(runtime):
    done = threading.Event()
    runtime.call_soon(done.set)
    assert done.wait(5 * UNIT)


def test_get_runtime_is_shared():
    assert get_runtime() is get_runtime()
