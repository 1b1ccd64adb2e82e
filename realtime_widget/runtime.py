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
import queue
import sys
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

__all__ = ["DaemonThreadPool", "Runtime", "get_runtime"]


class DaemonThreadPool(concurrent.futures.ThreadPoolExecutor):
    """The runtime loop's default executor: worker threads that never hold up interpreter exit.

    asyncio resolves host names (``getaddrinfo``) in the loop's default executor. The standard
    pool's workers are joined when the interpreter exits, so a script whose session was still
    resolving an unreachable host waited for the resolver to give up (40 s and more, issue 13).
    These workers are daemon threads, abandoned at exit like the runtime thread itself.

    A ``ThreadPoolExecutor`` only by type (asyncio's ``set_default_executor`` demands one):
    ``submit`` and ``shutdown`` are its own and use none of the base class's machinery.

    Args:
        max_workers: threads at most; more are started only while none is idle.
        thread_name_prefix: the workers' names, numbered.
    """

    def __init__(self, max_workers: int = 8, thread_name_prefix: str = "realtime-worker") -> None:
        super().__init__(max_workers, thread_name_prefix)  # starts no thread
        self._jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._idle_workers = threading.Semaphore(0)
        self._workers: list[threading.Thread] = []
        self._pool_lock = threading.Lock()
        self._closed = False
        self._limit = max_workers
        self._prefix = thread_name_prefix

    def submit(
        self, fn: Callable[..., T], /, *args: Any, **kwargs: Any
    ) -> concurrent.futures.Future[T]:
        """Run ``fn(*args, **kwargs)`` in a worker; returns its future.

        Raises:
            RuntimeError: after :meth:`shutdown`.
        """
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        with self._pool_lock:
            if self._closed:
                raise RuntimeError("cannot schedule new futures after shutdown")
            self._jobs.put((future, fn, args, kwargs))
            if not self._idle_workers.acquire(blocking=False) and len(self._workers) < self._limit:
                worker = threading.Thread(
                    target=self._work, name=f"{self._prefix}_{len(self._workers)}", daemon=True
                )
                worker.start()
                self._workers.append(worker)
        return future

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            future, fn, args, kwargs = job
            del job
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:  # handed to the future's owner, as the pool does
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, fn, args, kwargs
            self._idle_workers.release()

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop taking work; workers end after the jobs queued before (joined if ``wait``)."""
        with self._pool_lock:
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        job = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if job is not None:
                        job[0].cancel()
            for _ in self._workers:
                self._jobs.put(None)
            workers = list(self._workers)
        if wait:
            for worker in workers:
                if worker is not threading.current_thread():
                    worker.join()


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
        if sys.is_finalizing():
            # Interpreter exit stops daemon threads, and starting one now waits forever (a
            # widget closed by the collector at exit would hang the process).
            raise RuntimeError("the interpreter is exiting: the realtime runtime is gone")
        loop = asyncio.new_event_loop()
        loop.set_default_executor(DaemonThreadPool(thread_name_prefix=f"{self._name}-worker"))
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
            if future.done():  # the coroutine's own TimeoutError (same class since 3.11): keep it
                raise
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
