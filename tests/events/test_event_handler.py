"""RealtimeEventHandler: on / once / off / dispatch / wait_for_next (issue 4, item 1)."""

from __future__ import annotations

import asyncio
import logging
import threading

from realtime_widget.events import RealtimeEventHandler
from tests.helpers import UNIT


def test_handler_calls_listeners_in_registration_order():
    handler = RealtimeEventHandler()
    calls = []
    handler.on("x", lambda e: calls.append(("a", e)))
    handler.on("x", lambda e: calls.append(("b", e)))
    handler.on("y", lambda e: calls.append(("y", e)))
    handler.dispatch("x", 1)
    assert calls == [("a", 1), ("b", 1)]


def test_handler_dispatch_without_listeners_is_a_no_op():
    RealtimeEventHandler().dispatch("nobody.listens", {"type": "x"})


def test_once_listener_fires_only_on_the_first_dispatch():
    handler = RealtimeEventHandler()
    calls = []
    handler.once("x", calls.append)
    handler.dispatch("x", 1)
    handler.dispatch("x", 2)
    assert calls == [1]
    assert "x" not in repr(handler)


def test_off_with_callback_removes_only_that_listener():
    handler = RealtimeEventHandler()
    calls = []
    first, second = (lambda e: calls.append("first")), (lambda e: calls.append("second"))
    handler.on("x", first)
    handler.on("x", second)
    assert handler.off("x", first) is True
    handler.dispatch("x", None)
    assert calls == ["second"]


def test_off_without_callback_removes_every_listener_of_that_event_only():
    handler = RealtimeEventHandler()
    calls = []
    handler.on("x", calls.append)
    handler.once("x", calls.append)
    handler.on("y", calls.append)
    assert handler.off("x") is True
    handler.dispatch("x", "x")
    handler.dispatch("y", "y")
    assert calls == ["y"]


def test_off_of_an_unknown_listener_returns_false_instead_of_raising():
    handler = RealtimeEventHandler()
    handler.on("x", print)
    assert handler.off("x", len) is False
    assert handler.off("never", print) is False
    assert handler.off("never") is False


def test_off_removes_a_once_listener_before_it_fires():
    handler = RealtimeEventHandler()
    calls = []
    handler.once("x", calls.append)
    assert handler.off("x", calls.append) is True
    handler.dispatch("x", 1)
    assert calls == []


def test_clear_event_handlers_removes_everything():
    handler = RealtimeEventHandler()
    calls = []
    handler.on("x", calls.append)
    handler.once("y", calls.append)
    handler.clear_event_handlers()
    handler.dispatch("x", 1)
    handler.dispatch("y", 1)
    assert calls == []


def test_raising_listener_is_logged_and_does_not_stop_the_others(caplog):
    handler = RealtimeEventHandler()
    calls = []

    def broken(event):
        raise RuntimeError("boom in a notebook cell")

    handler.on("x", calls.append)
    handler.on("x", broken)
    handler.on("x", calls.append)
    with caplog.at_level(logging.ERROR, logger="realtime_widget.events"):
        handler.dispatch("x", 7)
    assert calls == [7, 7]
    assert any("boom in a notebook cell" in r.exc_text for r in caplog.records if r.exc_text)


def test_listener_may_remove_itself_during_dispatch():
    handler = RealtimeEventHandler()
    calls = []

    def self_removing(event):
        calls.append("self")
        handler.off("x", self_removing)

    handler.on("x", self_removing)
    handler.on("x", lambda e: calls.append("other"))
    handler.dispatch("x", None)
    handler.dispatch("x", None)
    assert calls == ["self", "other", "other"]


def test_listener_added_during_dispatch_runs_from_the_next_dispatch():
    handler = RealtimeEventHandler()
    calls = []
    handler.once("x", lambda e: handler.on("x", lambda e2: calls.append(e2)))
    handler.dispatch("x", 1)
    handler.dispatch("x", 2)
    assert calls == [2]


def test_on_rejects_a_non_callable_with_a_clear_message():
    import pytest

    with pytest.raises(TypeError, match="must be callable"):
        RealtimeEventHandler().on("x", "not a function")


async def test_async_listener_runs_on_the_running_loop():
    handler = RealtimeEventHandler()
    seen = asyncio.Event()
    got = []

    async def listener(event):
        await asyncio.sleep(0)
        got.append(event)
        seen.set()

    handler.on("x", listener)
    handler.dispatch("x", "payload")
    await asyncio.wait_for(seen.wait(), 2 * UNIT)
    assert got == ["payload"]


async def test_async_listener_that_raises_is_logged(caplog):
    handler = RealtimeEventHandler()

    async def broken(event):
        raise ValueError("async boom")

    with caplog.at_level(logging.ERROR, logger="realtime_widget.events"):
        handler.on("x", broken)
        handler.dispatch("x", None)
        for _ in range(5):
            await asyncio.sleep(0)
    assert any("async boom" in (r.exc_text or "") for r in caplog.records)


def test_async_listener_dispatched_from_a_plain_thread_runs_on_the_given_loop():
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        handler = RealtimeEventHandler(loop=loop)
        ran_on = []
        done = threading.Event()

        async def listener(event):
            ran_on.append(threading.current_thread())
            done.set()

        handler.on("x", listener)
        handler.dispatch("x", None)  # this thread has no running loop
        assert done.wait(2 * UNIT)
        assert ran_on == [thread]
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(2 * UNIT)
        loop.close()


def test_async_listener_without_any_loop_is_not_run_and_warns(caplog, recwarn):
    handler = RealtimeEventHandler()
    ran = []

    async def listener(event):
        ran.append(event)

    handler.on("x", listener)
    with caplog.at_level(logging.WARNING, logger="realtime_widget.events"):
        handler.dispatch("x", 1)
    assert ran == []
    assert any("no running event loop" in r.getMessage() for r in caplog.records)
    # The coroutine was closed, so Python does not warn that it was never awaited.
    assert not [w for w in recwarn if "never awaited" in str(w.message)]


async def test_wait_for_next_returns_the_next_event():
    handler = RealtimeEventHandler()
    waiter = asyncio.ensure_future(handler.wait_for_next("x"))
    await asyncio.sleep(0)
    handler.dispatch("x", {"n": 1})
    handler.dispatch("x", {"n": 2})
    assert await asyncio.wait_for(waiter, 2 * UNIT) == {"n": 1}
    assert repr(handler) == "<RealtimeEventHandler listeners={}>"


async def test_wait_for_next_timeout_returns_none_and_leaves_no_listener():
    handler = RealtimeEventHandler()
    assert await handler.wait_for_next("x", timeout=0.01 * UNIT) is None
    assert repr(handler) == "<RealtimeEventHandler listeners={}>"


async def test_wait_for_next_cancelled_leaves_no_listener():
    handler = RealtimeEventHandler()
    waiter = asyncio.ensure_future(handler.wait_for_next("x"))
    await asyncio.sleep(0)
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert repr(handler) == "<RealtimeEventHandler listeners={}>"


async def test_wait_for_next_receives_an_event_dispatched_from_another_thread():
    handler = RealtimeEventHandler()
    waiter = asyncio.ensure_future(handler.wait_for_next("x", timeout=5 * UNIT))
    await asyncio.sleep(0)
    thread = threading.Thread(target=handler.dispatch, args=("x", "from thread"))
    thread.start()
    assert await waiter == "from thread"
    thread.join(2 * UNIT)


def test_dispatch_and_registration_from_many_threads_lose_no_listener():
    handler = RealtimeEventHandler()
    hits = []
    lock = threading.Lock()
    stop = threading.Event()

    def count(event):
        with lock:
            hits.append(event)

    handler.on("x", count)

    def dispatcher():
        while not stop.is_set():
            handler.dispatch("x", 1)

    def churner():
        for _ in range(2000):
            cb = lambda e: None  # noqa: E731
            handler.on("x", cb)
            handler.off("x", cb)

    threads = [threading.Thread(target=dispatcher)] + [
        threading.Thread(target=churner) for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join(10 * UNIT)
    stop.set()
    threads[0].join(10 * UNIT)
    before = len(hits)
    handler.dispatch("x", 1)
    assert len(hits) == before + 1  # the long-lived listener survived all the churn
    assert "'x': 1" in repr(handler)


def test_once_listener_fires_exactly_once_under_concurrent_dispatch():
    handler = RealtimeEventHandler()
    hits = []
    for _ in range(200):
        handler.once("x", hits.append)
    barrier = threading.Barrier(4)

    def dispatcher():
        barrier.wait()
        for _ in range(50):
            handler.dispatch("x", 1)

    threads = [threading.Thread(target=dispatcher) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10 * UNIT)
    assert len(hits) == 200


async def test_subclass_state_named_like_common_attributes_does_not_break_async_listeners():
    # RealtimeAPI keeps its own `_tasks` list and RealtimeClient its own `_lock`: the handler's
    # private state must not collide with a subclass's.
    class Subclass(RealtimeEventHandler):
        def __init__(self):
            super().__init__()
            self._tasks = ["receiver", "writer"]
            self._lock = None
            self._listeners = "theirs"
            self.loop = "theirs"

    handler = Subclass()
    seen = asyncio.Event()

    async def listener(event):
        seen.set()

    handler.on("x", listener)
    handler.dispatch("x", None)
    await asyncio.wait_for(seen.wait(), 2 * UNIT)
    assert handler._tasks == ["receiver", "writer"]
