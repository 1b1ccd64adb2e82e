"""What a failed tool call tells the model, and how a brain says it aloud (issue 15, point 3).

A ``function_call_output`` is free text to the protocol. When a tool fails, what the model gets
is read by two kinds of reader: a real model, which does best with structured fields it can act
on, and the embedded server's brains, which speak what they read. So a failed call's output is
one JSON object whose first field is a short sentence meant to be said as is, followed by the
structured fields::

    {"summary": "The tool get_weather failed: ValueError: city not found.",
     "error": {"type": "ValueError", "message": "city not found"}}

``spoken_output`` turns such an output (or any ``{"error": ...}`` object another client sent)
back into that sentence, so no brain reads JSON aloud. Pure: shared by the tools (which write
outputs) and the server's brains (which read them).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "CANCELLED",
    "CANCELLED_MESSAGE",
    "error_output",
    "error_summary",
    "spoken_output",
]

CANCELLED = "cancelled"
"""The error ``type`` of a call the user cancelled (Stop, ``cancel()``, ``cancel_tools()``)."""

CANCELLED_MESSAGE = "The call was cancelled by the user before it finished."
"""The error ``message`` of a call the user cancelled."""

_MAX_SUMMARY_MESSAGE = 300  # characters of the error message quoted in the spoken sentence


def _short(message: str) -> str:
    message = " ".join(str(message).split()).rstrip(".")
    if len(message) > _MAX_SUMMARY_MESSAGE:
        message = message[: _MAX_SUMMARY_MESSAGE - 3].rstrip() + "..."
    return message


def error_summary(type_: str, message: str, tool: str | None = None) -> str:
    """One sentence saying how a call failed, meant to be read aloud.

    Args:
        type_: the error type (an exception's class name, ``timeout``, ``cancelled``, ...).
        message: the error message.
        tool: the tool's name, if known.

    Returns:
        E.g. ``"The tool get_weather failed: ValueError: city not found."``, or ``"The tool
        get_weather was cancelled by the user."`` for a cancelled call.
    """
    subject = f"The tool {tool}" if tool else "The tool"
    if type_ == CANCELLED:
        return f"{subject} was cancelled by the user."
    if type_ == "timeout":
        return f"{subject} timed out: {_short(message)}."
    if type_ == "denied":
        return f"{subject} was not run: {_short(message)}."
    if not type_ or _short(message) == type_ or _short(message).startswith(f"{type_}:"):
        return f"{subject} failed: {_short(message)}."
    return f"{subject} failed: {type_}: {_short(message)}."


def error_output(type_: str, message: str, tool: str | None = None) -> str:
    """The ``function_call_output`` text of a failed call.

    Args:
        type_: the error type.
        message: what went wrong and, where it helps, what to do.
        tool: the tool's name, for the sentence.

    Returns:
        ``{"summary": <sentence>, "error": {"type": ..., "message": ...}}`` as JSON.
    """
    return json.dumps(
        {
            "summary": error_summary(type_, message, tool),
            "error": {"type": type_, "message": message},
        },
        ensure_ascii=False,
    )


def spoken_output(output: Any, tool: str | None = None) -> str | None:
    """The sentence to say for a failed call's output, or None when it is not a failure.

    Understands :func:`error_output`'s shape and, for outputs other clients wrote,
    ``{"error": "message"}`` and ``{"error": {"message": ...}}``.

    Args:
        output: the ``function_call_output``'s ``output``.
        tool: the called tool's name, for outputs without a ``summary``.

    Returns:
        The summary sentence, or None (a result, or text that is not a JSON error object).
    """
    if not isinstance(output, str) or '"error"' not in output:
        return None
    try:
        data = json.loads(output)
    except ValueError:
        return None
    if not isinstance(data, dict) or not data.get("error"):
        return None
    summary = data.get("summary")
    if isinstance(summary, str) and summary.strip():
        return summary.strip()
    error = data["error"]
    if isinstance(error, dict):
        type_ = str(error.get("type") or error.get("code") or "")
        message = str(error.get("message") or type_ or "an error")
        return error_summary(type_, message, tool)
    return error_summary("", str(error), tool)
