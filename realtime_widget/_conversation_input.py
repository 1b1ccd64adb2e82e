"""``InputAudioRing``: the last few minutes of the session's input audio, by session sample.

The seed client keeps every input sample of the session in one array (and re-copies it on every
append) so that ``input_audio_buffer.speech_started/stopped`` times can index into it. This ring
keeps a bounded window addressed the same way. Pure: numpy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["InputAudioRing"]


class InputAudioRing:
    """The last ``capacity`` samples of the session's input audio, addressed by session sample.

    Sample ``n`` is the ``n``-th sample appended since the session started (or since ``clear``),
    which is how ``input_audio_buffer.speech_started.audio_start_ms`` counts (DESIGN §6). Memory is
    bounded by ``capacity`` (grown on demand, never beyond); older samples are forgotten, so a
    slice that starts before ``start`` comes back shortened at the front.

    Args:
        capacity: samples kept, e.g. ``300 * 24000`` for five minutes at 24 kHz.
    """

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be a positive number of samples, got {capacity}")
        self.capacity = int(capacity)
        self._buf = np.zeros(0, dtype=np.int16)
        self._end = 0  # samples ever appended

    @property
    def end(self) -> int:
        """Session sample index one past the newest sample."""
        return self._end

    @property
    def start(self) -> int:
        """Session sample index of the oldest sample still held."""
        return max(0, self._end - self.capacity)

    def __len__(self) -> int:
        return self._end - self.start

    def clear(self) -> None:
        """Forget everything and restart session time at 0."""
        self._buf = np.zeros(0, dtype=np.int16)
        self._end = 0

    def append(self, samples: Any) -> None:
        """Append int16 samples (bytes are read as PCM16 little-endian)."""
        if isinstance(samples, (bytes, bytearray, memoryview)):
            samples = np.frombuffer(samples, dtype="<i2")
        chunk = np.asarray(samples, dtype=np.int16).reshape(-1)
        n = len(chunk)
        if n == 0:
            return
        cap = self.capacity
        new_end = self._end + n
        if new_end <= cap:
            # Still filling: session sample s sits at index s (which is also s % cap).
            if new_end > len(self._buf):
                self._grow(min(cap, max(new_end, 2 * len(self._buf))))
            self._buf[self._end : new_end] = chunk
        else:
            if len(self._buf) < cap:
                self._grow(cap)
            kept = chunk[n - cap :] if n > cap else chunk
            first = (new_end - len(kept)) % cap
            head = min(len(kept), cap - first)
            self._buf[first : first + head] = kept[:head]
            self._buf[: len(kept) - head] = kept[head:]
        self._end = new_end

    def _grow(self, size: int) -> None:
        grown = np.zeros(size, dtype=np.int16)
        held = min(self._end, len(self._buf))
        grown[:held] = self._buf[:held]
        self._buf = grown

    def slice(self, start: int, stop: int) -> np.ndarray:
        """Copy of session samples ``[start, stop)``, clipped to what is still held."""
        start = max(int(start), self.start)
        stop = min(int(stop), self._end)
        if stop <= start:
            return np.zeros(0, dtype=np.int16)
        if self._end <= len(self._buf):
            return self._buf[start:stop].copy()
        cap = self.capacity
        a, b = start % cap, stop % cap
        if a < b:
            return self._buf[a:b].copy()
        return np.concatenate([self._buf[a:], self._buf[:b]])
