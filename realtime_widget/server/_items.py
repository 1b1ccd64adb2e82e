"""The server-side conversation: ordered items plus what the server knows about each (pure)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from realtime_widget.server._checks import ClientError
from realtime_widget.server._limits import item_size

__all__ = ["Conversation", "Record"]


@dataclass
class Record:
    """One conversation item and its server-side extras.

    Attributes:
        item: the item in GA wire shape (kept up to date while a response streams it).
        audio: input audio of a user item (int16 at ``rate``), or ``None``.
        rate: sample rate of ``audio``.
        transcript: what the server understood of user audio (brains read it even when
            transcription events are off).
        audio_ms: for assistant audio, milliseconds generated so far (truncate checks it).
        extras: anything else the server notes about the item (e.g. a transcription error).
        size: JSON bytes of ``item`` when last measured (the conversation's byte count).
    """

    item: dict
    audio: np.ndarray | None = None
    rate: int = 24000
    transcript: str | None = None
    audio_ms: float = 0.0
    extras: dict = field(default_factory=dict)
    size: int = 0

    def truncate(self, content_index: int, audio_end_ms: int) -> None:
        """Cut assistant audio at ``audio_end_ms`` and drop its transcript, as the service does.

        Raises:
            ClientError: not an assistant audio part, or ``audio_end_ms`` past the audio sent
                ("already shorter than", the real service's wording).
        """
        content = self.item.get("content") or []
        if (
            self.item.get("role") != "assistant"
            or not 0 <= content_index < len(content)
            or content[content_index].get("type") != "output_audio"
        ):
            raise ClientError(
                "invalid_value",
                "Only assistant messages with audio can be truncated: content_index must point "
                "at an output_audio part.",
                "content_index",
            )
        if audio_end_ms < 0:
            raise ClientError("invalid_value", "audio_end_ms must be >= 0.", "audio_end_ms")
        generated = math.floor(self.audio_ms)
        if audio_end_ms > generated:
            raise ClientError(
                "invalid_value",
                f"Audio content of {generated}ms is already shorter than {audio_end_ms}ms",
                "audio_end_ms",
            )
        self.audio_ms = float(audio_end_ms)
        # The transcript no longer matches what the user heard, so the service removes it.
        content[content_index]["transcript"] = ""


def _images(item: dict) -> list[dict]:
    """The ``input_image`` parts of an item that still hold their data."""
    return [
        p
        for p in item.get("content") or []
        if isinstance(p, dict) and p.get("type") == "input_image" and p.get("image_url")
    ]


class Conversation:
    """Items in order, addressable by id.

    Args:
        conversation_id: the ``conv_...`` id.
        max_audio_seconds: user audio kept for ``conversation.item.retrieve``; beyond it the
            oldest items' audio is dropped (their transcripts stay), so an hour-long session does
            not grow without bound (DESIGN §8).
        max_image_bytes: image data (``input_image`` data URLs) kept; beyond it the oldest
            images' ``image_url`` becomes ``None`` (the part stays, so brains still know an
            image was there). 64 MiB holds at least eight images at the 8 MiB cap.

    Attributes:
        total_bytes: JSON bytes of all items as last measured (on add, and by
            :meth:`remeasure` once a response has finished writing them); the session's
            ``max_conversation_bytes`` is checked against it.
    """

    def __init__(
        self,
        conversation_id: str,
        max_audio_seconds: float = 600.0,
        max_image_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        self.id = conversation_id
        self._order: list[str] = []
        self._records: dict[str, Record] = {}
        self.max_audio_seconds = max_audio_seconds
        self.total_bytes = 0
        self.max_image_bytes = max_image_bytes

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._records

    def __len__(self) -> int:
        return len(self._order)

    def add(self, record: Record, previous_item_id: str | None = None) -> str | None:
        """Insert after ``previous_item_id`` (``"root"`` = at the start; ``None`` = at the end).

        Returns:
            The id of the item now before it, or ``None`` when it is first.

        Raises:
            ClientError: the previous item does not exist, or the id is taken.
        """
        item_id = record.item["id"]
        if item_id in self._records:
            raise ClientError(
                "item_already_exists",
                f"Item with id '{item_id}' already exists; send a new id or omit 'item.id'.",
                "item.id",
            )
        if previous_item_id is None:
            index = len(self._order)
        elif previous_item_id == "root":
            index = 0
        elif previous_item_id in self._records:
            index = self._order.index(previous_item_id) + 1
        else:
            raise ClientError(
                "item_not_found",
                f"Error adding item: the previous item with id '{previous_item_id}' does not "
                "exist; use an id from conversation.item.added, 'root', or omit it.",
                "previous_item_id",
            )
        self._order.insert(index, item_id)
        self._records[item_id] = record
        record.size = item_size(record.item)
        self.total_bytes += record.size
        if record.audio is not None:
            self._bound_audio()
        if _images(record.item):
            self._bound_images()
        return self._order[index - 1] if index > 0 else None

    def _bound_images(self) -> None:
        parts = [p for r in self.records() for p in _images(r.item)]
        total = sum(len(p["image_url"]) for p in parts)
        for part in parts[:-1]:  # never the newest: it was just added
            if total <= self.max_image_bytes:
                break
            total -= len(part["image_url"])
            part["image_url"] = None

    def _bound_audio(self) -> None:
        with_audio = [r for r in self.records() if r.audio is not None]
        total = sum(len(r.audio) / r.rate for r in with_audio)  # type: ignore[arg-type]
        for record in with_audio[:-1]:  # never the newest: it was just committed
            if total <= self.max_audio_seconds:
                break
            total -= len(record.audio) / record.rate  # type: ignore[arg-type]
            record.audio = None

    def get(self, item_id: str, param: str = "item_id") -> Record:
        """The record of an item.

        Raises:
            ClientError: ``item_not_found`` for an unknown id.
        """
        record = self._records.get(item_id)
        if record is None:
            raise ClientError(
                "item_not_found",
                f"Item with item_id not found: {item_id}. Use an id the server announced "
                "(conversation.item.added).",
                param,
            )
        return record

    def delete(self, item_id: str) -> None:
        """Remove an item (raises ``ClientError`` when unknown)."""
        record = self.get(item_id)
        self._order.remove(item_id)
        del self._records[item_id]
        self.total_bytes -= record.size

    def remeasure(self, item_id: str) -> None:
        """Count an item's bytes again (a response's item grows while it streams)."""
        record = self._records.get(item_id)
        if record is not None:
            size = item_size(record.item)
            self.total_bytes += size - record.size
            record.size = size

    def records(self) -> list[Record]:
        """All records, in order."""
        return [self._records[i] for i in self._order]

    def has_call(self, call_id: str) -> bool:
        """Whether a ``function_call`` with this ``call_id`` is in the conversation."""
        return any(
            r.item.get("type") == "function_call" and r.item.get("call_id") == call_id
            for r in self._records.values()
        )

    def has_item(self, item_id: str, kind: str) -> bool:
        """Whether an item of type ``kind`` with this id is in the conversation."""
        record = self._records.get(item_id)
        return record is not None and record.item.get("type") == kind

    def brain_view(self, records: list[Record] | None = None) -> list[dict]:
        """Items as a brain sees them: copies, user audio carrying the server's transcript."""
        out = []
        for record in self.records() if records is None else records:
            item = _copy_json(record.item)
            if record.transcript is not None:
                for part in item.get("content") or []:
                    if part.get("type") == "input_audio" and not part.get("transcript"):
                        part["transcript"] = record.transcript
            out.append(item)
        return out


def _copy_json(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists, scalars): several times faster than ``deepcopy``,
    which keeps a memo for shared and cyclic objects that JSON cannot have. A response over a
    conversation of thousands of items copies them all on the event loop."""
    if isinstance(value, dict):
        return {key: _copy_json(child) for key, child in value.items()}
    if isinstance(value, list):
        return [_copy_json(child) for child in value]
    return value
