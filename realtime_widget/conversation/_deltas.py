"""Delta events of the conversation reducer (the hot path): ``DeltaEvents``, a collaborator of
``RealtimeConversation`` that is handed the conversation's items by id and owns nothing else.

``response.output_audio.delta``, ``response.output_audio_transcript.delta``,
``response.output_text.delta`` and ``response.function_call_arguments.delta`` make up nearly all
of a session's events, so these handlers stay short: one dict lookup for the item, one decode
for audio, and ``dict`` methods that skip ``FormattedItem``'s Python-level overrides for text.
A text delta grows the content part's string and ``formatted``'s with one concatenation while
the two are the same object (they start as the same ``""`` or the first delta).
The ``.done`` events that carry a part's whole text settle it (repairing lost deltas).
"""

from __future__ import annotations

import binascii
from typing import Any

import numpy as np

__all__ = ["DeltaEvents", "content_part", "grow_text"]

Result = dict[str, Any]

_a2b_base64 = binascii.a2b_base64
_frombuffer = np.frombuffer
_INT16_LE = np.dtype("<i2")
_dict_get = dict.__getitem__
_dict_set = dict.__setitem__


def content_part(item: dict[str, Any], index: Any) -> dict[str, Any] | None:
    content = item.get("content")
    if not content or not isinstance(index, int) or not 0 <= index < len(content):
        return None
    part = content[index]
    return part if isinstance(part, dict) else None


def append_to_part(item: dict[str, Any], index: Any, key: str, delta: str) -> None:
    """The slow path of a delta: the part's value is ``None`` or missing, or there is no part
    (then only ``formatted`` gets the delta, which the caller does)."""
    part = content_part(item, index)
    if part is not None:
        part[key] = (part.get(key) or "") + delta


def grow_text(item: dict[str, Any], content_index: Any, key: str, delta: str) -> None:
    """Append a text or transcript delta to the content part and to ``formatted``.

    While the part and ``formatted`` share one string (a single part, the usual case), one
    concatenation serves both: one allocation and copy fewer per delta. Identity implies equal
    values, so the shortcut never changes the result. The shared body of the three text-delta
    handlers (output text, output transcript, input transcription).

    Args:
        item: the item the delta belongs to (has ``formatted``).
        content_index: the event's ``content_index`` (anything: a bad one takes the slow path).
        key: ``"text"`` or ``"transcript"``.
        delta: the text to append.
    """
    formatted = item["formatted"]
    shown = _dict_get(formatted, key)
    try:
        part = item["content"][content_index]
        built = part[key]
        grown = built + delta
        part[key] = grown
    except (LookupError, TypeError):
        # The part's value starts as None (GA input transcripts) or the part is missing.
        append_to_part(item, content_index, key, delta)
        built = None
    _dict_set(formatted, key, grown if shown is built else shown + delta)


class DeltaEvents:
    """Handlers of delta events and of the ``.done`` events that settle a part's text.

    Args:
        items: the conversation's items by id (read, and the items themselves grown in place).
    """

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self._items = items

    def on_response_output_audio_delta(self, event: dict[str, Any], _input: Any = None):
        item = self._items.get(event["item_id"])
        if item is None:
            return {}
        # Decoded once; an odd byte count raises ValueError here (caught by process_event).
        audio = _frombuffer(_a2b_base64(event["delta"]), _INT16_LE)
        item["formatted"].pending_audio.append(audio)  # FormattedItem.append_audio, inlined
        return {"item": item, "delta": {"audio": audio}}

    def on_response_output_audio_transcript_delta(self, event: dict[str, Any], _input=None):
        item = self._items.get(event["item_id"])
        if item is None:
            return {}
        delta = event["delta"]
        grow_text(item, event.get("content_index"), "transcript", delta)
        return {"item": item, "delta": {"transcript": delta}}

    def on_response_output_text_delta(self, event: dict[str, Any], _input: Any = None):
        item = self._items.get(event["item_id"])
        if item is None:
            return {}
        delta = event["delta"]
        grow_text(item, event.get("content_index"), "text", delta)
        return {"item": item, "delta": {"text": delta}}

    def on_response_function_call_arguments_delta(self, event: dict[str, Any], _input=None):
        item = self._items.get(event["item_id"])
        if item is None:
            return {}
        delta = event["delta"]
        item["arguments"] = (item.get("arguments") or "") + delta
        tool = item["formatted"].get("tool")
        if tool is not None:
            tool["arguments"] += delta
        return {"item": item, "delta": {"arguments": delta}}

    def on_response_output_audio_transcript_done(self, event: dict[str, Any], _input=None):
        return self._settle(event, "transcript")

    def on_response_output_text_done(self, event: dict[str, Any], _input: Any = None) -> Result:
        return self._settle(event, "text")

    def _settle(self, event: dict[str, Any], key: str) -> Result:
        """A ``.done`` carries the part's whole text: it repairs deltas lost on the way (a
        corrupt frame the API had to drop), so the item shows what the model really said."""
        item = self._items.get(event.get("item_id"))  # type: ignore[arg-type]
        if item is None:
            return {}
        final, part = event.get(key), content_part(item, event.get("content_index"))
        if not isinstance(final, str) or part is None or part.get(key) == final:
            return {"item": item}
        formatted, built = item["formatted"], part.get(key) or ""
        shown = formatted[key]
        if shown.endswith(built):
            formatted[key] = shown[: len(shown) - len(built)] + final
        elif len(item.get("content") or ()) <= 1:
            formatted[key] = final
        part[key] = final
        return {"item": item}
