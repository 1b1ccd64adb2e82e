"""The conversation's audio, read from the client for `play`, `save_audio` and Replay.

Split out of `widget` to keep modules small. Audio lives only in the client's conversation
(never in a trait); these helpers read it as Int16 arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["audio_or_raise", "item_audio"]


def item_audio(client: Any, item_id: str | None) -> np.ndarray | None:
    """One item's audio (Int16, 24 kHz), or None when the item is unknown or has none."""
    item = client.conversation.get_item(item_id) if item_id else None
    if item is None:
        return None
    audio = (item.get("formatted") or {}).get("audio")
    return None if audio is None else np.asarray(audio, dtype=np.int16)


def audio_or_raise(client: Any, items: list[dict[str, Any]], item_id: str | None) -> np.ndarray:
    """One item's audio, or (``item_id`` None) every message's audio in conversation order.

    Raises:
        ValueError: there is no such audio; the message says where to find item ids.
    """
    if item_id is None:
        parts = [item_audio(client, v["id"]) for v in items if v["type"] == "message"]
        audio = np.concatenate([p for p in parts if p is not None and len(p)] or [[]])
    else:
        audio = item_audio(client, item_id)
    if audio is None or not len(audio):
        what = f"item {item_id!r}" if item_id else "the conversation"
        raise ValueError(f"{what} has no audio; pick an item id from w.items with audio_samples")
    return audio.astype(np.int16)
