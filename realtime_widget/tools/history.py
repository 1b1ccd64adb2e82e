"""The record of one tool call, and the history of all of them.

A record is created when the model's call arrives and filled in as the call progresses (waiting for
approval, running, finished), so the widget can show a call while it runs. Once ``status`` is final
the record no longer changes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

__all__ = ["FINAL_STATUSES", "ToolCallHistory", "ToolCallRecord", "ToolCallStatus"]

ToolCallStatus = Literal[
    "awaiting_approval", "running", "ok", "error", "timeout", "denied", "cancelled"
]
"""Where a call is: ``awaiting_approval`` and ``running`` are transient; the rest are final."""

FINAL_STATUSES: frozenset[str] = frozenset({"ok", "error", "timeout", "denied", "cancelled"})


@dataclass(eq=False)
class ToolCallRecord:
    """One invocation of a tool by the model.

    Attributes:
        call_id: The ``call_id`` of the model's ``function_call`` item.
        name: The tool name the model asked for (possibly unknown).
        arguments: The raw JSON arguments string, exactly as the model sent it.
        started_at: When the call arrived (UTC).
        status: See :data:`ToolCallStatus`.
        parsed_arguments: The arguments after validation (as the tool received them, keyed by
            parameter name), or None when they never got that far.
        result: The tool's Python return value (None on error).
        error: ``{"type": ..., "message": ...}`` when the call failed, else None.
        output: The string sent back to the model as the ``function_call_output``.
        duration: Seconds from arrival to the output, including any approval wait.
        run_duration: Seconds the tool itself ran (None if it never ran).
        approved_by: Who approved the call (``"user"``, ``"callback"`` or the name given to
            ``approve(..., by=...)``); None when no approval was needed or it was declined.
        traceback: The formatted traceback when the tool raised (kept for the widget; the model
            only sees type and message).
        finished_at: When the output was ready (UTC).
    """

    call_id: str
    name: str
    arguments: str
    started_at: datetime
    status: ToolCallStatus = "running"
    parsed_arguments: dict[str, Any] | None = None
    result: Any = None
    error: dict[str, str] | None = None
    output: str = ""
    duration: float | None = None
    run_duration: float | None = None
    approved_by: str | None = None
    traceback: str | None = None
    finished_at: datetime | None = None

    @property
    def ok(self) -> bool:
        """True when the tool ran and its result was sent."""
        return self.status == "ok"

    @property
    def done(self) -> bool:
        """True once the record has a final status and an output."""
        return self.status in FINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict (one row of :meth:`ToolCallHistory.to_dataframe`)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def __repr__(self) -> str:
        # Arguments and results may be large: keep the repr to what identifies the call.
        extra = f", error={self.error['type']!r}" if self.error else ""
        return (
            f"ToolCallRecord(call_id={self.call_id!r}, name={self.name!r}, "
            f"status={self.status!r}{extra})"
        )


class ToolCallHistory(list):
    """The tool calls of a registry, oldest first: a plain list of :class:`ToolCallRecord`.

    Appends happen on the runtime thread; reading from the notebook thread is safe (list
    appends are atomic in CPython, and records are only mutated until their status is final).

    Args:
        maxlen: Keep at most this many records (the oldest are dropped), so a long session
            that returns DataFrames does not grow without bound; None keeps everything.
    """

    def __init__(self, records: Any = (), maxlen: int | None = None) -> None:
        super().__init__(records)
        self.maxlen = maxlen

    def add(self, record: ToolCallRecord) -> None:
        """Append ``record``, dropping the oldest records beyond :attr:`maxlen`."""
        self.append(record)
        if self.maxlen is not None and len(self) > self.maxlen:
            del self[: len(self) - self.maxlen]

    def to_dataframe(self) -> Any:
        """The history as a pandas DataFrame, one row per call.

        Returns:
            A ``pandas.DataFrame`` with one column per :class:`ToolCallRecord` field.

        Raises:
            ImportError: pandas is not installed; ``pip install pandas`` (or
                ``pip install realtime_widget[pandas]``) adds it.
        """
        try:
            import pandas as pd
        except ImportError as exc:
            raise ImportError(
                "ToolCallHistory.to_dataframe() needs pandas: run `pip install pandas` "
                "(or `pip install realtime_widget[pandas]`); the history itself is a plain list "
                "of ToolCallRecord objects (see record.to_dict())."
            ) from exc
        columns = [f.name for f in dataclasses.fields(ToolCallRecord)]
        return pd.DataFrame([record.to_dict() for record in list(self)], columns=columns)

    to_pandas = to_dataframe

    def failed(self) -> list[ToolCallRecord]:
        """The calls that did not end with a result (error, timeout, denied, cancelled)."""
        return [r for r in list(self) if r.done and not r.ok]

    def by_call_id(self, call_id: str) -> ToolCallRecord | None:
        """The latest record for ``call_id``, or None."""
        for record in reversed(list(self)):
            if record.call_id == call_id:
                return record
        return None


def _now() -> datetime:
    return datetime.now(timezone.utc)
