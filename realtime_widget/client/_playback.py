"""What the user really heard, for truncation on interruption (DESIGN §4).

The browser's player reports how many samples of each ``(item_id, content_index)`` it has
played; audio deltas say how many were received. A truncation must cut at what was heard,
``min(played, received)``: the server rejects ``audio_end_ms`` past the audio it sent ("already
shorter than"), and a truncate at 0 or of an unknown item is refused or pointless, so those are
skipped. Pure bookkeeping; counts are in samples at the output rate.
"""

from __future__ import annotations

__all__ = ["PlaybackTracker"]

Key = tuple[str, int]


def base64_samples(data: str, bytes_per_sample: int = 2) -> int:
    """Samples in a base64 payload without decoding it."""
    n = len(data)
    if n == 0:
        return 0
    padding = (data[-1] == "=") + (n > 1 and data[-2] == "=")
    return (n * 3 // 4 - padding) // bytes_per_sample


class PlaybackTracker:
    """Played and received sample counts per ``(item_id, content_index)``.

    Args:
        rate: output sample rate (24000 for PCM16; 8000 for G.711).
        bytes_per_sample: 2 for PCM16, 1 for G.711.
    """

    def __init__(self, rate: int = 24000, bytes_per_sample: int = 2) -> None:
        self.rate = rate
        self.bytes_per_sample = bytes_per_sample
        self.received: dict[Key, int] = {}
        self.played: dict[Key, int] = {}
        self.truncated: dict[Key, int] = {}
        self.last_played: Key | None = None

    def clear(self) -> None:
        """Forget every count."""
        self.received.clear()
        self.played.clear()
        self.truncated.clear()
        self.last_played = None

    def on_audio_delta(self, item_id: str, content_index: int, delta: str) -> None:
        """Count a ``response.output_audio.delta`` payload as received."""
        key = (item_id, content_index)
        n = base64_samples(delta, self.bytes_per_sample)
        self.received[key] = self.received.get(key, 0) + n

    def report_played(self, item_id: str, content_index: int, samples: int) -> None:
        """Record that ``samples`` (a running total, never decreasing) have been played."""
        key = (item_id, content_index)
        if samples > self.played.get(key, 0):
            self.played[key] = int(samples)
        self.last_played = key

    def forget(self, item_id: str) -> None:
        """Drop the counts of a deleted item."""
        for table in (self.received, self.played, self.truncated):
            for key in [k for k in table if k[0] == item_id]:
                del table[key]
        if self.last_played and self.last_played[0] == item_id:
            self.last_played = None

    def truncation_point(
        self, item_id: str, content_index: int, played: int | None = None
    ) -> int | None:
        """Samples to keep when truncating, or ``None`` when no truncate should be sent.

        Args:
            item_id: the assistant item.
            content_index: its audio content part.
            played: samples heard, as the caller knows it (``0``: nothing was heard, so cut
                everything, as the seed and openai-agents do, and the server forgets the
                transcript nobody heard); ``None``: what the player reported, where nothing
                reported means no truncate.

        Returns:
            ``min(heard, received)``; ``None`` when the player reported nothing (``played`` not
            given) or the part is already cut there or shorter.
        """
        key = (item_id, content_index)
        heard = self.played.get(key, 0) if played is None else max(0, int(played))
        keep = min(heard, self.received.get(key, 0))
        if (played is None and keep <= 0) or self.truncated.get(key, keep + 1) <= keep:
            return None
        return keep

    def playing(self) -> Key | None:
        """The part the player was last busy with, if it has not played all it received."""
        key = self.last_played
        if key is None or self.played.get(key, 0) >= self.received.get(key, 0):
            return None
        return key

    def mark_truncated(self, item_id: str, content_index: int, samples: int) -> None:
        """Remember a truncation so that the same cut is not sent twice."""
        key = (item_id, content_index)
        self.truncated[key] = min(samples, self.truncated.get(key, samples))
        self.received[key] = min(self.received.get(key, 0), samples)
        self.played[key] = min(self.played.get(key, 0), samples)

    def audio_end_ms(self, samples: int) -> int:
        """Samples -> the ``audio_end_ms`` of ``conversation.item.truncate``."""
        return samples * 1000 // self.rate
