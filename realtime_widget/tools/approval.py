"""Approval of tool calls: calls that wait for a yes/no, decided from any thread.

A call of a ``requires_approval=True`` tool registers here and waits on an asyncio future of the
loop it runs on. ``approve``/``deny`` may come from the widget's message handler, a notebook cell or
the runtime thread itself: they take a lock, find the waiting call and resolve its future through
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from realtime_widget.tools.history import ToolCallRecord

__all__ = ["ApprovalBook", "Decision", "denial_message", "request_decision"]

logger = logging.getLogger("realtime_widget.tools")


@dataclass(frozen=True)
class Decision:
    """The outcome of an approval request.

    Attributes:
        approved: True to run the tool.
        by: Who decided (``"user"``, ``"callback"``, ``"timeout"`` or a caller-given name).
        reason: Why it was declined (optional, shown to the model).
    """

    approved: bool
    by: str
    reason: str | None = None


@dataclass
class _Waiting:
    record: ToolCallRecord
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Decision]


class ApprovalBook:
    """The calls waiting for a decision, keyed by ``call_id``. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, _Waiting] = {}

    def open(self, record: ToolCallRecord) -> asyncio.Future[Decision]:
        """Start waiting for a decision on ``record`` (call on the loop that will await it)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Decision] = loop.create_future()
        with self._lock:
            self._waiting[record.call_id] = _Waiting(record, loop, future)
        return future

    def close(self, call_id: str) -> None:
        """Stop tracking ``call_id`` (after its decision, a timeout or cancellation)."""
        with self._lock:
            self._waiting.pop(call_id, None)

    def pending(self) -> list[ToolCallRecord]:
        """The records still waiting for a decision, oldest first."""
        with self._lock:
            return [w.record for w in self._waiting.values()]

    def decide(self, call_id: str, decision: Decision) -> bool:
        """Resolve the wait of ``call_id``; returns False when no such call is waiting."""
        with self._lock:
            waiting = self._waiting.pop(call_id, None)
        if waiting is None:
            return False

        def settle() -> None:
            if not waiting.future.done():
                waiting.future.set_result(decision)

        try:
            waiting.loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            return False
        return True


async def _ask_callback(
    callback: Callable[[ToolCallRecord], Any], record: ToolCallRecord, timeout: float | None
) -> Decision | None:
    try:
        verdict = callback(record)
        if inspect.isawaitable(verdict):
            verdict = await asyncio.wait_for(verdict, timeout)
    except asyncio.TimeoutError:
        return Decision(False, "timeout", f"no decision within {timeout:g} s")
    except Exception as exc:
        logger.exception("= approval callback raised for call %s", record.call_id)
        return Decision(False, "callback", f"the approval callback failed: {exc!r}")
    return None if verdict is None else Decision(bool(verdict), "callback")


async def request_decision(
    book: ApprovalBook,
    record: ToolCallRecord,
    *,
    callback: Callable[[ToolCallRecord], Any] | None,
    timeout: float | None,
    announce: Callable[[ToolCallRecord], None],
) -> Decision:
    """Get a decision on ``record``: from ``callback`` first, else from ``approve``/``deny``.

    Args:
        book: Where the call waits for ``approve``/``deny``.
        record: The call (its status becomes ``awaiting_approval``).
        callback: ``callback(record) -> bool | None | Awaitable``; None means "ask the user".
        timeout: Seconds before an undecided call is declined; None waits forever.
        announce: Called once the call is waiting for the user (the widget shows buttons).

    Returns:
        The decision.
    """
    record.status = "awaiting_approval"
    if callback is not None:
        decision = await _ask_callback(callback, record, timeout)
        if decision is not None:
            return decision
    future = book.open(record)
    try:
        announce(record)
        return await asyncio.wait_for(future, timeout)
    except asyncio.TimeoutError:
        return Decision(False, "timeout", f"no decision within {timeout:g} s")
    finally:
        book.close(record.call_id)


def denial_message(tool: str, decision: Decision) -> str:
    """What the model is told when a call was declined."""
    reason = f" ({decision.reason})" if decision.reason else ""
    if decision.by == "timeout":
        head = f"Nobody approved this call of {tool} in time{reason}, so it did not run."
    elif decision.by == "callback":
        head = f"The approval policy declined this call of {tool}{reason}."
    else:
        head = f"The user declined this call of {tool}{reason}."
    return head + " Do not call it again unless the user asks; tell them what you wanted to do."
