"""Reconnecting: backoff, and the history replayed into the new session (DESIGN §6).

A Realtime session cannot be resumed: it ends at 60 minutes (close code 1001) or when the network
drops. The client opens a new session and seeds it with the conversation so far, as items the
server accepts from a client: user and system text (audio turns as their transcript), assistant
text and transcripts as ``output_text`` (GA; the API converts to beta's ``text``), and function
call / output pairs. Item ids are kept, so the client's own history does not grow duplicates.
Tool outputs the old session never acknowledged follow their call (see ``_outputs``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["backoff_delay", "history_items"]

_TEXT_TYPES = frozenset({"input_text", "output_text", "text"})
_AUDIO_TYPES = frozenset({"input_audio", "output_audio", "audio"})


def backoff_delay(attempt: int, base: float = 0.5, cap: float = 8.0) -> float:
    """Seconds to wait before reconnect ``attempt`` (1, 2, ...): 0.5, 1, 2, 4, 8, 8, ..."""
    return min(cap, base * 2 ** max(0, attempt - 1))


def _message_text(item: dict) -> str:
    """The words of a message: its text parts, else the transcripts of its audio parts."""
    parts: list[str] = []
    for part in item.get("content") or []:
        kind = part.get("type")
        if kind in _TEXT_TYPES and part.get("text"):
            parts.append(part["text"])
        elif kind in _AUDIO_TYPES and part.get("transcript"):
            parts.append(part["transcript"])
    if parts:
        return "".join(parts)
    formatted = item.get("formatted") or {}
    return formatted.get("text") or formatted.get("transcript") or ""


def history_items(
    items: Iterable[dict],
    keep_calls: Iterable[str] = (),
    outputs: Mapping[str, str] | None = None,
) -> list[dict]:
    """The ``item`` payloads of ``conversation.item.create`` events that replay ``items``.

    Args:
        items: the conversation's items, oldest first.
        keep_calls: call ids of function calls to replay even without an output yet (a tool
            still running when the connection dropped answers them in the new session).
        outputs: tool outputs the old session never acknowledged, by call id: each is replayed
            right after the call it answers (issue 13: a result is never lost to a drop).

    Returns:
        GA item dicts; messages without words (silence, untranscribed audio) are left out, and
        so are function calls without an output and outputs without their call.
    """
    items = list(items)
    outputs = dict(outputs or {})
    pending = set(keep_calls) | outputs.keys()
    answered = {i.get("call_id") for i in items if i.get("type") == "function_call_output"}
    called = {i.get("call_id") for i in items if i.get("type") == "function_call"}
    replay: list[dict] = []
    for item in items:
        kind = item.get("type")
        if kind == "message":
            text = _message_text(item)
            role = item.get("role")
            if not text or role not in ("user", "assistant", "system"):
                continue
            part_type = "output_text" if role == "assistant" else "input_text"
            replay.append(
                {
                    "id": item.get("id"),
                    "type": "message",
                    "role": role,
                    "content": [{"type": part_type, "text": text}],
                }
            )
        elif kind == "function_call":
            call_id = item.get("call_id")
            if call_id in answered or call_id in pending:
                replay.append(
                    {
                        "id": item.get("id"),
                        "type": "function_call",
                        "call_id": call_id,
                        "name": item.get("name"),
                        "arguments": item.get("arguments") or "{}",
                    }
                )
                if call_id in outputs and call_id not in answered:
                    replay.append(
                        {
                            "id": None,  # the server names it (and announces it: acknowledged)
                            "type": "function_call_output",
                            "call_id": call_id,
                            "output": outputs[call_id],
                        }
                    )
        elif kind == "function_call_output" and item.get("call_id") in called:
            replay.append(
                {
                    "id": item.get("id"),
                    "type": "function_call_output",
                    "call_id": item.get("call_id"),
                    "output": item.get("output") or "",
                }
            )
    for entry in replay:
        if not entry["id"]:
            del entry["id"]
    return replay
