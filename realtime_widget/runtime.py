"""The shared background thread and asyncio loop that host every session (DESIGN §3).

ipykernel handles widget messages only while no synchronous cell runs, and may deliver them on a
"subshell" thread. So sessions do not live on the kernel's loop: they live on one daemon thread with
its own event loop, started lazily and shared by every session of the process. Websocket keepalive
and model audio keep flowing while a cell blocks; message handlers on any thread only hand work to
this loop and return.

Nothing here patches or nests event loops (no ``nest_asyncio``): blocking waits are plain
``concurrent.futures`` waits from another thread, and their ``await``-able twins wrap the same
future for the caller's own loop.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["Runtime", "get_runtime"]


class Runtime:
    """A daemon thread running an asyncio event loop forever.

    Use :func:`get_runtime` for the process-wide instance; tests may create their own.
    """

    def __init__(self, name: str = "realtime-widget") -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runtime's event loop, starting the thread on first use."""
        with self._lock:
            if self._loop is None or self._loop.is_closed() or not self._thread_alive():
                self._start()
            assert self._loop is not None
            return self._loop

    def _thread_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _start(self) -> None:
        loop = asyncio.new_event_loop()
        ready = threading.Event()

        def main() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(ready.set)
            loop.run_forever()

        thread = threading.Thread(target=main, name=self._name, daemon=True)
        thread.start()
        ready.wait()
        self._loop, self._thread = loop, thread

    def in_runtime_thread(self) -> bool:
        """True when called from the runtime's own thread."""
        return self._thread is not None and threading.current_thread() is self._thread

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop and join the thread (tests; the process-wide runtime is never stopped)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()

    # ------------------------------------------------------------------ handing work over
    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the runtime loop from any thread; returns a thread-safe future."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        """Run ``fn(*args)`` on the runtime loop soon; safe from any thread, returns at once."""
        self.loop.call_soon_threadsafe(fn, *args)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``coro`` on the runtime loop and block the calling thread for its result.

        Raises:
            RuntimeError: when called from the runtime thread itself (it would deadlock); use
                ``await`` there instead.
            TimeoutError: when ``timeout`` seconds pass first (the coroutine is cancelled).
        """
        if self.in_runtime_thread():
            coro.close()
            raise RuntimeError(
                "blocking call made on the realtime runtime thread; await the async variant instead"
            )
        future = self.submit(coro)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"timed out after {timeout} s") from None

    async def run_async(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` from any loop while it runs on the runtime loop (the ``await``-able twin).

        Called from the runtime loop itself it simply awaits ``coro``.
        """
        if self.in_runtime_thread():
            return await coro
        return await asyncio.wrap_future(self.submit(coro))


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The process-wide runtime shared by all sessions, created on first use."""
    global _runtime
    with _runtime_lock:
        if _runtime is None:
            _runtime = Runtime()
        return _runtime
