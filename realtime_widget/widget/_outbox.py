"""Coalescing of kernel -> browser traffic (DESIGN §4, §5; docs/widget-protocol.md).

Jupyter's server drops kernel -> browser messages above about 1000 per second, and a model can
emit hundreds of deltas per second. Everything the browser needs is therefore collected here and
leaves as at most one `frame` custom message per `frame_interval` (item patches, audio merged per
item part as binary buffers, log entries, the clear-playback flag), plus at most one trait update
per `trait_interval`. Pure bookkeeping: the caller passes the clock and does the sending.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["Outbox"]

Key = tuple[str, int]


class Outbox:
    """Pending kernel -> browser state, released at a bounded rate.

    Args:
        frame_interval: minimum seconds between two frames (0.025 -> at most 40 frames/s).
        trait_interval: minimum seconds between two trait updates (0.25 -> at most 4/s).
    """

    def __init__(self, frame_interval: float = 0.025, trait_interval: float = 0.25) -> None:
        self.frame_interval = frame_interval
        self.trait_interval = trait_interval
        self._seq = 0
        self._items: dict[str, dict[str, Any]] = {}
        self._removed: list[str] = []
        self._audio: dict[Key, list[bytes]] = {}
        self._audio_offset: dict[Key, int] = {}
        self._audio_done: list[Key] = []
        self._log: dict[int, dict[str, Any]] = {}
        self._clear = False
        self._traits: dict[str, Any] = {}
        # Samples forwarded per part, to give each audio entry its offset.
        self._forwarded: dict[Key, int] = {}
        self._ended: set[Key] = set()
        self._cut: set[str] = set()
        self._last_frame = -math.inf
        self._last_traits = -math.inf

    # ------------------------------------------------------------------ collecting
    def patch_item(self, view: dict[str, Any]) -> None:
        """Queue the current view of an item (a later patch of the same item replaces it)."""
        self._items[view["id"]] = view

    def remove_item(self, item_id: str) -> None:
        """Queue the removal of an item from the browser's view."""
        self._items.pop(item_id, None)
        self._removed.append(item_id)

    def add_audio(self, item_id: str, content_index: int, pcm: bytes) -> bool:
        """Queue Int16 LE audio of one item part; False when the part was cut by a clear."""
        if item_id in self._cut or not pcm:
            return False
        key = (item_id, content_index)
        chunks = self._audio.get(key)
        if chunks is None:
            self._audio[key] = chunks = []
            self._audio_offset[key] = self._forwarded.get(key, 0)
        chunks.append(pcm)
        self._forwarded[key] = self._forwarded.get(key, 0) + len(pcm) // 2
        return True

    def end_audio(self, item_id: str, content_index: int) -> None:
        """No more audio will come for this part."""
        key = (item_id, content_index)
        if key not in self._ended and item_id not in self._cut:
            self._ended.add(key)
            self._audio_done.append(key)

    def clear_playback(self, notify: bool = True) -> list[str]:
        """Stop playback now: drop queued audio and cut every part still streaming.

        Args:
            notify: set the frame's `clear` flag (False when the browser cleared already).

        Returns:
            The ids of the items cut (their later audio is dropped).
        """
        cut = sorted({k[0] for k in self._forwarded if k not in self._ended})
        self._cut.update(cut)
        self._audio.clear()
        self._audio_offset.clear()
        self._audio_done = [k for k in self._audio_done if k[0] not in self._cut]
        self._clear = self._clear or notify
        return cut

    def log(self, entry: dict[str, Any]) -> None:
        """Queue a new or updated event-log entry (keyed by its `seq`)."""
        self._log[entry["seq"]] = entry

    def set_trait(self, name: str, value: Any) -> None:
        """Queue a trait value (the latest value per trait wins)."""
        self._traits[name] = value

    def forwarded(self, item_id: str, content_index: int) -> int:
        """Samples of this part queued for the browser so far."""
        return self._forwarded.get((item_id, content_index), 0)

    # ------------------------------------------------------------------ releasing
    def has_frame(self) -> bool:
        """True when a frame has something to carry."""
        return bool(
            self._items
            or self._removed
            or self._audio
            or self._audio_done
            or self._log
            or self._clear
        )

    def due(self, now: float) -> float | None:
        """The earliest time something may be sent, or None when nothing is pending."""
        times = []
        if self.has_frame():
            times.append(max(now, self._last_frame + self.frame_interval))
        if self._traits:
            times.append(max(now, self._last_traits + self.trait_interval))
        return min(times) if times else None

    def take_frame(self, now: float) -> tuple[dict[str, Any], list[bytes]] | None:
        """The next frame and its buffers, or None when nothing is pending or it is too soon."""
        if not self.has_frame() or now < self._last_frame + self.frame_interval:
            return None
        buffers: list[bytes] = []
        audio = []
        for (item_id, content_index), chunks in self._audio.items():
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            audio.append(
                {
                    "item_id": item_id,
                    "content_index": content_index,
                    "offset": self._audio_offset[(item_id, content_index)],
                    "samples": len(data) // 2,
                    "buffer": len(buffers),
                }
            )
            buffers.append(data)
        self._seq += 1
        frame = {
            "type": "frame",
            "seq": self._seq,
            "clear": self._clear,
            "items": list(self._items.values()),
            "removed": self._removed,
            "audio": audio,
            "audio_done": [{"item_id": i, "content_index": c} for i, c in self._audio_done],
            "log": list(self._log.values()),
        }
        self._items = {}
        self._removed = []
        self._audio = {}
        self._audio_offset = {}
        self._audio_done = []
        self._log = {}
        self._clear = False
        self._last_frame = now
        return frame, buffers

    def trait_slot(self, now: float) -> float:
        """The earliest time a trait update may be sent."""
        return max(now, self._last_traits + self.trait_interval)

    def take_traits(self, now: float) -> dict[str, Any] | None:
        """Trait values to apply now, or None when nothing is pending or it is too soon."""
        if not self._traits or now < self._last_traits + self.trait_interval:
            return None
        traits, self._traits = self._traits, {}
        self._last_traits = now
        return traits
