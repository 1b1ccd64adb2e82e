"""What one session of the embedded server may hold, and the errors past it (issue 13; pure).

The server runs inside the user's kernel and serves every session on one loop, so no client may
grow it without bound: uncommitted input audio, the number of items, the text they hold and any
single item are capped. Past a cap the request is refused with one ``error`` event (the session
stays open, nothing already held is dropped) whose message says what to do:

- ``max_input_audio_seconds`` -> ``input_audio_buffer_full`` (param ``audio``): send
  ``input_audio_buffer.commit`` (or ``.clear``) before appending more; the refused chunk was not
  added. A server-VAD turn is never cut: the append that would pass the cap is refused.
- ``max_items``, ``max_conversation_bytes`` -> ``conversation_full``: delete old items
  (``conversation.item.delete``) or start a new session. Refused: ``conversation.item.create``,
  ``input_audio_buffer.commit`` (the buffer is kept) and ``response.create`` into the
  conversation; a server-VAD turn ending in a full conversation gets the error (without
  ``event_id``) and its audio is dropped.
- ``max_item_bytes`` -> ``item_too_large`` (param ``item``): send the content in smaller items.

The defaults sit far above what a model can read (OpenAI's realtime models take 32k-128k tokens of
context, about 0.5 MB of text), so only a runaway or hostile client meets them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from realtime_widget.server._checks import ClientError

__all__ = ["Limits", "item_size"]


@dataclass(frozen=True)
class Limits:
    """Caps on what one session holds.

    Attributes:
        max_input_audio_seconds: uncommitted input audio (15 minutes; at 24 kHz PCM16 that is
            43 MB). Server VAD trims silence between turns, so this is met without turn
            detection, or by a single turn that never ends.
        max_items: items in the conversation.
        max_conversation_bytes: JSON bytes of all items, user audio excluded (it is capped by
            the conversation's ``max_audio_seconds``).
        max_item_bytes: JSON bytes of one item, its audio excluded.
    """

    max_input_audio_seconds: float = 15 * 60.0
    max_items: int = 4096
    max_conversation_bytes: int = 8 * 1024 * 1024
    max_item_bytes: int = 1024 * 1024

    def __post_init__(self) -> None:
        for name in ("max_input_audio_seconds", "max_items", "max_conversation_bytes"):
            value = getattr(self, name)
            if not value > 0:
                raise ValueError(f"{name} must be positive, not {value!r}")
        if not self.max_item_bytes > 0:
            raise ValueError(f"max_item_bytes must be positive, not {self.max_item_bytes!r}")

    def check_input_audio(self, buffered_samples: int, adding: int, rate: int) -> None:
        """Refuse an append that would take the uncommitted buffer past its cap.

        Raises:
            ClientError: ``input_audio_buffer_full``.
        """
        if (buffered_samples + adding) > self.max_input_audio_seconds * rate:
            minutes = self.max_input_audio_seconds / 60
            raise ClientError(
                "input_audio_buffer_full",
                f"The input audio buffer already holds {buffered_samples / rate:.1f} s of "
                f"uncommitted audio; this server keeps at most {minutes:g} minutes. Send "
                "input_audio_buffer.commit (or input_audio_buffer.clear) before appending more; "
                "this chunk was not added.",
                "audio",
            )

    def check_item(self, size: int) -> None:
        """Refuse one item over :attr:`max_item_bytes` (``size`` from :func:`item_size`).

        Raises:
            ClientError: ``item_too_large``.
        """
        if size > self.max_item_bytes:
            raise ClientError(
                "item_too_large",
                f"The item is {size} bytes of JSON; this server takes items of at most "
                f"{self.max_item_bytes} bytes (audio not counted). Send the content in "
                "smaller items.",
                "item",
            )

    def check_room(self, items: int, total_bytes: int, adding: int, param: str | None) -> None:
        """Refuse adding ``adding`` bytes to a conversation of ``items`` items and ``total_bytes``.

        Raises:
            ClientError: ``conversation_full``.
        """
        if items >= self.max_items:
            what = f"already has {items} items, the most this server keeps"
        elif total_bytes + adding > self.max_conversation_bytes:
            what = (
                f"holds {total_bytes} bytes of items; adding {adding} would pass the "
                f"{self.max_conversation_bytes}-byte limit of this server"
            )
        else:
            return
        raise ClientError(
            "conversation_full",
            f"The conversation {what}. Delete old items (conversation.item.delete) or start a "
            "new session.",
            param,
        )


def item_size(item: dict) -> int:
    """JSON bytes of a stored item, audio and image data not counted.

    Stored items carry no audio bytes (those are samples, capped by the conversation's
    ``max_audio_seconds``); an ``input_image``'s data URL (up to 8 MiB each) is capped by the
    conversation's ``max_image_bytes`` and the image checks instead, so it counts as empty here.
    """
    content = item.get("content")
    if isinstance(content, list) and any(_is_image(p) for p in content):
        item = {**item, "content": [{**p, "image_url": ""} if _is_image(p) else p for p in content]}
    return len(json.dumps(item))


def _is_image(part: object) -> bool:
    return isinstance(part, dict) and part.get("type") == "input_image"
