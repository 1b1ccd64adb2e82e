"""Waiting for the session or the next item: the ``wait_for_*`` methods of ``RealtimeClient``.

Each has a blocking form (for a notebook cell; refused on the runtime thread) and an
``await``-able ``_async`` twin; both run the same coroutine on the runtime loop, so no event can
slip in between the check and the wait.
"""

from __future__ import annotations

from typing import Any

__all__ = ["WaitingMixin"]


class WaitingMixin:
    """The ``wait_for_*`` side of ``RealtimeClient``."""

    # Provided by RealtimeClient; declared for readers and type checkers.
    realtime: Any
    session: dict[str, Any] | None
    _runtime: Any
    _session_created: bool

    def wait_for_session_created(self, timeout: float | None = 30.0) -> dict | None:
        """Block until ``session.created`` has arrived; returns the session (``None`` on timeout).

        Raises:
            RuntimeError: not connected.
        """
        if not self.is_connected:
            raise RuntimeError("not connected; call connect() first")
        return self._blocking(
            "wait_for_session_created", self._wait_for_session_created(timeout), None
        )

    async def wait_for_session_created_async(self, timeout: float | None = 30.0) -> dict | None:
        """``await``-able twin of :meth:`wait_for_session_created`."""
        if not self.is_connected:
            raise RuntimeError("not connected; call connect() first")
        return await self._runtime.run_async(self._wait_for_session_created(timeout))

    async def _wait_for_session_created(self, timeout: float | None) -> dict | None:
        if not self._session_created:  # on the loop: no dispatch can slip in between
            event = await self.realtime.wait_for_next("server.session.created", timeout)
            if event is None:
                return None
        return self.session

    def wait_for_next_item(self, timeout: float | None = None) -> dict | None:
        """Block until the next ``conversation.item.appended``; its item (``None`` on timeout)."""
        return self._blocking("wait_for_next_item", self._next("appended", timeout), None)

    async def wait_for_next_item_async(self, timeout: float | None = None) -> dict | None:
        """``await``-able twin of :meth:`wait_for_next_item`."""
        return await self._runtime.run_async(self._next("appended", timeout))

    def wait_for_next_completed_item(self, timeout: float | None = None) -> dict | None:
        """Block until the next ``conversation.item.completed``; its item (``None`` on timeout)."""
        return self._blocking(
            "wait_for_next_completed_item", self._next("completed", timeout), None
        )

    async def wait_for_next_completed_item_async(self, timeout: float | None = None) -> dict | None:
        """``await``-able twin of :meth:`wait_for_next_completed_item`."""
        return await self._runtime.run_async(self._next("completed", timeout))

    async def _next(self, which: str, timeout: float | None) -> dict | None:
        event = await self.wait_for_next(f"conversation.item.{which}", timeout)
        return None if event is None else event["item"]
