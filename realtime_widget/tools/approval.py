"""Approval of tool calls: calls that wait for a yes/no, decided from any thread.

A call of a ``requires_approval=True`` tool registers here and waits on an asyncio future of the
loop it runs on. ``approve``/``deny`` may come from the widget's message handler, a notebook cell or
the runtime thread itself: they take a lock, find the waiting call and resolve its future through
``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass

from realtime_widget.tools.history import ToolCallRecord

__all__ = ["ApprovalBook", "Decision"]


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
