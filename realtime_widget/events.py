"""``RealtimeEventHandler``: a small, thread-safe listener registry (the seed's event handler).

Rules (why they are what they are):

- Listeners are kept per event name in registration order and called in that order.
- ``dispatch`` takes a snapshot of the listeners under a lock and calls them *outside* the lock, so
  a callback may add or remove listeners (itself included) during a dispatch, and another thread
  may call ``on``/``off`` while the runtime thread dispatches (DESIGN §3). A listener removed
  during a dispatch is still called for that dispatch (the snapshot), as in Node's EventEmitter.
- A ``once`` listener fires at most once even when two threads dispatch the same name at the same
  moment: whoever takes it out of the registry first calls it.
- A callback that raises is logged on the ``realtime_widget.events`` logger and the remaining
  listeners still run: one broken cell must not silence the others.
- A callback may be ``async`` (or return any awaitable). The awaitable is scheduled as a task on
  the running event loop of the dispatching thread; with no running loop there it goes to
  ``listener_loop`` (``loop=`` of the constructor) thread-safely; with neither it is closed unrun
  and a warning is logged: there is no loop to run it on, and blocking in ``dispatch`` would stall
  audio.
- Unlike the seed, ``off`` with a callback that is not registered returns ``False`` instead of
  throwing (a ``once`` listener that already fired is not an error), and ``wait_for_next`` with a
  timeout returns ``None`` instead of rejecting, and removes its listener.

This module does no I/O; asyncio is used only for futures and scheduling awaitables.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Callback", "RealtimeEventHandler"]

logger = logging.getLogger(__name__)

Callback = Callable[[Any], Any]
"""A listener: called with the event payload; may return an awaitable."""


@dataclass(eq=False)
class _Listener:
    callback: Callback
    once: bool


class RealtimeEventHandler:
    """Named-event listener registry: ``on``/``once``/``off``/``dispatch``/``wait_for_next``.

    The base class of ``RealtimeAPI`` and ``RealtimeClient``, usable on its own. Every method is
    safe to call from any thread.

    Args:
        loop: event loop that runs async callbacks dispatched from a thread with no running loop
            (for example the kernel's main thread while the runtime loop runs elsewhere). Optional;
            kept as ``listener_loop``, which a subclass may also set later.

    Subclasses (``RealtimeAPI``, ``RealtimeClient``) share the instance: this class's private state
    is prefixed ``_handler_`` so that it cannot collide with theirs.

    Example:
        >>> handler = RealtimeEventHandler()
        >>> seen = []
        >>> _ = handler.on("ping", seen.append)
        >>> handler.dispatch("ping", {"n": 1})
        >>> seen
        [{'n': 1}]
    """

    def __init__(self, *, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.listener_loop = loop
        self._handler_listeners: dict[str, list[_Listener]] = {}
        self._handler_lock = threading.Lock()
        # Strong references to scheduled async callbacks: the loop keeps only weak ones.
        self._handler_tasks: set[Any] = set()

    # -- registry --------------------------------------------------------------------------

    def on(self, name: str, callback: Callback) -> Callback:
        """Call ``callback(event)`` on every dispatch of ``name``.

        Args:
            name: event name, e.g. ``"server.response.done"``.
            callback: sync or async callable taking the event payload.

        Returns:
            ``callback``, so the caller can keep it for ``off``.
        """
        self._add(name, callback, once=False)
        return callback

    def once(self, name: str, callback: Callback) -> Callback:
        """Call ``callback(event)`` on the next dispatch of ``name`` only.

        Args:
            name: event name.
            callback: sync or async callable taking the event payload.

        Returns:
            ``callback`` (``off(name, callback)`` removes it before it fires).
        """
        self._add(name, callback, once=True)
        return callback

    def off(self, name: str, callback: Callback | None = None) -> bool:
        """Remove a listener, or every listener of ``name`` when ``callback`` is omitted.

        Args:
            name: event name.
            callback: the callable given to ``on``/``once``; its first registration is removed.

        Returns:
            ``True`` if something was removed, ``False`` if nothing matched.
        """
        with self._handler_lock:
            if callback is None:
                return bool(self._handler_listeners.pop(name, None))
            listeners = self._handler_listeners.get(name)
            if not listeners:
                return False
            for index, listener in enumerate(listeners):
                if listener.callback == callback:
                    # Copy-on-write: a dispatch in progress keeps iterating its own snapshot.
                    remaining = listeners[:index] + listeners[index + 1 :]
                    self._store(name, remaining)
                    return True
            return False

    def clear_event_handlers(self) -> None:
        """Remove every listener of every event."""
        with self._handler_lock:
            self._handler_listeners = {}

    def _add(self, name: str, callback: Callback, *, once: bool) -> None:
        if not callable(callback):
            raise TypeError(
                f"listener for {name!r} must be callable, got {type(callback).__name__}"
            )
        with self._handler_lock:
            self._handler_listeners[name] = [
                *self._handler_listeners.get(name, ()),
                _Listener(callback, once),
            ]

    def _store(self, name: str, listeners: list[_Listener]) -> None:
        if listeners:
            self._handler_listeners[name] = listeners
        else:
            del self._handler_listeners[name]

    def _claim_once(self, name: str, listener: _Listener) -> bool:
        """Take a ``once`` listener out of the registry; ``False`` if someone else already did."""
        with self._handler_lock:
            listeners = self._handler_listeners.get(name)
            if not listeners or listener not in listeners:
                return False
            self._store(name, [other for other in listeners if other is not listener])
            return True

    # -- dispatch ----------------------------------------------------------------------------

    def dispatch(self, name: str, event: Any = None) -> None:
        """Call every listener of ``name`` with ``event``, in registration order.

        Args:
            name: event name.
            event: the payload given to each listener (usually a dict).
        """
        # Lists are replaced, never mutated, so reading the reference is the snapshot; the lock
        # only makes the dict lookup safe against a concurrent ``clear_event_handlers``.
        with self._handler_lock:
            snapshot = self._handler_listeners.get(name)
        if not snapshot:
            return
        for listener in snapshot:
            if listener.once and not self._claim_once(name, listener):
                continue
            try:
                result = listener.callback(event)
            except Exception:
                logger.exception("listener %r for %r raised; the others still run", listener, name)
                continue
            if result is not None and inspect.isawaitable(result):
                self._schedule(name, result)

    def _schedule(self, name: str, awaitable: Any) -> None:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not None:
            task: Any = asyncio.ensure_future(awaitable, loop=running)
        elif self.listener_loop is not None and not self.listener_loop.is_closed():
            # A concurrent future: its done-callback may run on either thread, which is fine.
            task = asyncio.run_coroutine_threadsafe(_awaited(awaitable), self.listener_loop)
        else:
            if inspect.iscoroutine(awaitable):
                awaitable.close()  # avoids "coroutine was never awaited" noise; it cannot run
            logger.warning(
                "async listener for %r not run: dispatch() was called with no running event loop "
                "and no loop= was given; pass loop= to RealtimeEventHandler or use a sync callback",
                name,
            )
            return
        self._handler_tasks.add(task)
        task.add_done_callback(lambda done: self._task_done(name, done))

    def _task_done(self, name: str, task: Any) -> None:
        self._handler_tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            logger.error("async listener for %r raised", name, exc_info=exc)

    # -- waiting -----------------------------------------------------------------------------

    async def wait_for_next(self, name: str, timeout: float | None = None) -> Any:
        """Wait for the next dispatch of ``name`` and return its event.

        The dispatch may happen on any thread; the result is delivered on the awaiting loop.

        Args:
            name: event name.
            timeout: seconds to wait; ``None`` waits forever.

        Returns:
            The event payload, or ``None`` when ``timeout`` expired first. Either way no listener
            is left behind (also when the waiting task is cancelled).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()

        def deliver(event: Any) -> None:
            loop.call_soon_threadsafe(_resolve, future, event)

        self.once(name, deliver)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            return None
        finally:
            self.off(name, deliver)

    def __repr__(self) -> str:
        with self._handler_lock:
            counts = {name: len(listeners) for name, listeners in self._handler_listeners.items()}
        return f"<{type(self).__name__} listeners={counts}>"


def _resolve(future: asyncio.Future[Any], event: Any) -> None:
    if not future.done():
        future.set_result(event)


async def _awaited(awaitable: Any) -> Any:
    return await awaitable
