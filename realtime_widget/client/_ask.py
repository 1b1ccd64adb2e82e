"""Ask and get the answer: ``RealtimeClient.ask`` / ``ask_async`` (issue 15, point 2).

``ask`` sends a user text message, asks for a response with a handle (``create_response``) and
waits for the model's *answer*: when that response only called tools, the client runs them and
asks again by itself, so ``ask`` follows those in-band responses until one ends without a
function call. :class:`AnswerCollector` is the pure bookkeeping of that (which finished responses
come after ours); the client owns the I/O.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from realtime_widget.client._handles import ResponseHandle, ResponseResult

__all__ = ["AnswerCollector", "Reply", "answer_item_id", "function_calls"]

_KEPT = 16  # finished in-band responses remembered while waiting (tool rounds are few)


@dataclass(frozen=True)
class Reply:
    """The model's answer to :meth:`RealtimeClient.ask` (``str(reply)`` is its text).

    Attributes:
        text: the answer's text (``output_text``), or the transcript of a spoken answer.
        item: the answer's assistant message as the conversation holds it (``None`` if the
            response produced no message, e.g. it was cut short).
        result: the final response's :class:`ResponseResult` (audio, usage, status...).
        responses: how many responses it took (1, plus one per round of tool calls).
    """

    text: str
    item: dict | None
    result: ResponseResult
    responses: int = 1

    def __str__(self) -> str:
        return self.text


def function_calls(result: ResponseResult) -> list[str]:
    """The names of the function calls in a response's output (empty: it is an answer)."""
    return [
        str(item.get("name") or "?")
        for item in result.items
        if isinstance(item, dict) and item.get("type") == "function_call"
    ]


def answer_item_id(result: ResponseResult) -> str | None:
    """The id of the last assistant message of a response's output."""
    for item in reversed(result.items):
        if isinstance(item, dict) and item.get("type") == "message":
            return item.get("id")
    return None


class AnswerCollector:
    """Remembers the in-band responses that finish while ``ask`` waits (pure; fed on the loop).

    The response after a round of tools is asked for by the client, not by ``ask``, so ``ask``
    recognises it as the next in-band response to finish after the one it is following.
    """

    def __init__(self) -> None:
        self._finished: deque[ResponseHandle] = deque(maxlen=_KEPT)

    def on_finished(self, event: dict[str, Any]) -> None:
        """A ``response.finished`` event of the client."""
        if not event.get("out_of_band"):
            self._finished.append(event["handle"])

    def next_after(self, response_id: str | None) -> ResponseHandle | None:
        """The first in-band response that finished after ``response_id`` (``None``: none yet)."""
        ids = [handle.id for handle in self._finished]
        if response_id not in ids:
            return None
        index = ids.index(response_id)
        return self._finished[index + 1] if index + 1 < len(self._finished) else None
