"""Ask and get the answer: ``RealtimeClient.ask`` / ``ask_async`` (issue 15, point 2).

``ask`` sends a user text message, asks for a response with a handle (``create_response``) and
waits for the model's *answer*: when that response only called tools, the client runs them and
asks again by itself, so ``ask`` follows those in-band responses until one ends without a
function call. :class:`AnswerCollector` is the pure bookkeeping of that (which finished responses
come after ours); :func:`follow_answer` is the wait itself, handed what it uses by the client
(its events, how to say the message, ``create_response``, the conversation's items).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from realtime_widget.client._handles import ResponseError, ResponseHandle, ResponseResult
from realtime_widget.events import RealtimeEventHandler

__all__ = ["AnswerCollector", "Reply", "answer_item_id", "follow_answer", "function_calls"]

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


async def follow_answer(
    events: RealtimeEventHandler,
    say: Callable[[list[dict]], None],
    create_response: Callable[[], ResponseHandle],
    get_item: Callable[[str], dict | None],
    text: str,
    timeout: float,
) -> Reply:
    """Say ``text``, ask for a response and follow it through its tool rounds to the answer.

    Runs on the runtime loop (``RealtimeClient.ask`` hands it over).

    Args:
        events: the client (``response.finished``, ``tool_calls.cancelled``).
        say: sends a user message (content parts) without asking for a response.
        create_response: ``RealtimeClient.create_response`` (its handle is followed).
        get_item: the conversation's item of an id, or ``None``.
        text: the user message.
        timeout: seconds to wait for the answer.

    Raises:
        TimeoutError: no answer within ``timeout``; the message says what it waited for.
        ResponseError: the response failed, was cancelled, refused, lost, or its tool calls
            were cancelled (no answer follows them).
    """
    collector = AnswerCollector()
    arrived = asyncio.Event()

    def on_finished(event: dict[str, Any]) -> None:
        collector.on_finished(event)
        arrived.set()

    cancelled: list[str] = []

    def on_cancelled(event: dict[str, Any]) -> None:
        cancelled.extend(event.get("call_ids") or [])
        arrived.set()

    events.on("response.finished", on_finished)
    events.on("tool_calls.cancelled", on_cancelled)
    waiting = f"the response to {_short(text)}"
    responses = 0
    try:
        async with asyncio.timeout(timeout):
            parts = [{"type": "input_text", "text": text}]
            say(parts)
            handle = create_response()
            result = await handle
            responses = 1
            while calls := function_calls(result):
                waiting = (
                    f"the answer to {_short(text)} after its tool calls "
                    f"({', '.join(calls)}; {responses} responses finished)"
                )
                following = result.id
                while (handle := collector.next_after(following)) is None:
                    if cancelled:  # Stop: no answer will follow the tools
                        raise ResponseError(
                            f"ask(): the tool calls ({', '.join(calls)}) were cancelled, "
                            "so no answer follows; ask again to go on",
                            result,
                        )
                    arrived.clear()
                    await arrived.wait()
                result = await handle
                responses += 1
    except TimeoutError:
        raise TimeoutError(
            f"ask(): no answer within {timeout} s: still waiting for {waiting}; raise "
            "`timeout`, or check that the model is running (and no tool hangs)"
        ) from None
    finally:
        events.off("response.finished", on_finished)
        events.off("tool_calls.cancelled", on_cancelled)
    item_id = answer_item_id(result)
    item = get_item(item_id) if item_id else None
    if item is None and item_id:  # not in the conversation (yet): the response's own copy
        item = next((i for i in result.items if i.get("id") == item_id), None)
    return Reply(text=result.output, item=item, result=result, responses=responses)


def _short(text: str) -> str:
    """A user message as an error message quotes it (long ones cut)."""
    return repr(text if len(text) <= 60 else text[:57] + "...")
