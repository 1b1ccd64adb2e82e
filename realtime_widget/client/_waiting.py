"""Waiting for the session or the next item: the coroutines behind ``RealtimeClient.wait_for_*``.

Each public ``wait_for_*`` method has a blocking form (for a notebook cell; refused on the
runtime thread) and an ``await``-able ``_async`` twin; both run one of these coroutines on the
runtime loop, so no event can slip in between the check and the wait. They hold no state: what
they read is handed to them (the session's current state, the event emitters to wait on).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime_widget.events import RealtimeEventHandler

__all__ = ["next_item", "session_created"]


async def session_created(
    api: RealtimeEventHandler,
    current: Callable[[], dict[str, Any] | None],
    created: Callable[[], bool],
    timeout: float | None,
) -> dict[str, Any] | None:
    """The session once ``session.created`` has arrived (``None`` on timeout).

    Args:
        api: the ``RealtimeAPI`` whose ``server.session.created`` is awaited.
        current: the session as the client knows it now.
        created: whether ``session.created`` has arrived already in this connection.
        timeout: seconds to wait (``None``: forever).
    """
    if not created():  # on the loop: no dispatch can slip in between
        event = await api.wait_for_next("server.session.created", timeout)
        if event is None:
            return None
    return current()


async def next_item(
    client: RealtimeEventHandler, which: str, timeout: float | None
) -> dict[str, Any] | None:
    """The item of the next ``conversation.item.<which>`` the client dispatches (``None`` on
    timeout); ``which`` is ``"appended"`` or ``"completed"``."""
    event = await client.wait_for_next(f"conversation.item.{which}", timeout)
    return None if event is None else event["item"]
