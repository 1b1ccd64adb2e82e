"""Audio storage for the conversation reducer: per-item growable audio and the input-audio ring.

Two costs the seed client gets wrong (DESIGN §4):

- it re-concatenates an item's whole audio on every ``response.audio.delta`` (O(n²) per item);
- its VAD input buffer holds every sample the user spoke for the whole session.

``FormattedItem`` keeps an item's audio as a list of decoded chunks (append is O(1), no copy) and
materialises ``formatted["audio"]`` on read into a buffer that grows geometrically, so reading
after every delta is amortised O(delta) too. ``InputAudioRing`` keeps the last few minutes of
input audio addressed by absolute session sample index, which is what ``audio_start_ms`` /
``audio_end_ms`` of ``input_audio_buffer.speech_*`` count from.

Pure: numpy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FormattedItem", "InputAudioRing"]

_EMPTY = np.zeros(0, dtype=np.int16)
_EMPTY.flags.writeable = False
_GROWTH = 1.5  # geometric growth on read-while-streaming; 1.5 keeps the slack (memory) modest


class FormattedItem(dict):
    """The ``formatted`` dict of an item, whose ``"audio"`` value is assembled lazily.

    Behaves as a plain dict with keys ``text``, ``transcript``, ``audio`` (int16 array) and, where
    they apply, ``tool`` and ``output``. Audio deltas are appended as chunks; reading
    ``formatted["audio"]`` (also through ``get``, ``items``, ``values``, ``copy``, ``dict(f)``,
    ``{**f}``, ``repr``, pickling and ``copy.deepcopy``) returns one contiguous read-only int16
    array of everything received so far. Arrays handed out earlier stay valid snapshots: later
    appends never write inside them, and a truncation builds a new buffer.

    Only C-level access that bypasses Python methods (``dict.__getitem__(f, "audio")``, ``==``)
    can see a stale array; use normal indexing.
    """

    __slots__ = ("_buf", "_pending", "_size")

    def __init__(self, text: str = "", transcript: str = "", audio: Any = None, **extra: Any):
        super().__init__(text=text, transcript=transcript, audio=_EMPTY, **extra)
        self._buf: np.ndarray = _EMPTY  # capacity; samples [0, _size) are valid
        self._size = 0
        self._pending: list[np.ndarray] = []  # chunks received since the last read
        if audio is not None:
            self["audio"] = audio

    # -- audio -------------------------------------------------------------------------------

    def append_audio(self, chunk: np.ndarray) -> None:
        """Append decoded int16 samples (kept by reference until the next read: no copy)."""
        self._pending.append(chunk)

    @property
    def audio_length(self) -> int:
        """Number of samples received, without materialising the array."""
        return self._size + sum(len(chunk) for chunk in self._pending)

    def truncate_audio(self, end: int) -> None:
        """Keep samples ``[0, end)`` in a fresh buffer (earlier snapshots stay untouched)."""
        self._sync()
        kept = self._buf[: max(0, min(end, self._size))].copy()
        self._set_audio(kept)

    def _set_audio(self, samples: Any) -> None:
        array = np.ascontiguousarray(samples, dtype=np.int16).reshape(-1)
        # The buffer's capacity equals its length, so a later append reallocates instead of
        # writing into an array the caller still owns.
        self._buf = array
        self._size = len(array)
        self._pending = []
        view = array[:]
        view.flags.writeable = False
        dict.__setitem__(self, "audio", view)

    def _sync(self) -> None:
        pending = self._pending
        if not pending:
            return
        size = self._size
        total = size + sum(len(chunk) for chunk in pending)
        buf = self._buf
        if total > len(buf):
            # Exact size on the first read (the common "read once when done" case uses no slack);
            # geometric growth when reading while the item streams keeps that amortised O(1).
            capacity = total if size == 0 else max(total, int(len(buf) * _GROWTH))
            grown = np.empty(capacity, dtype=np.int16)
            grown[:size] = buf[:size]
            buf = self._buf = grown
        for chunk in pending:
            end = size + len(chunk)
            buf[size:end] = chunk
            size = end
        self._size = size
        self._pending = []
        view = buf[:size]
        view.flags.writeable = False
        dict.__setitem__(self, "audio", view)

    # -- dict protocol: make every ordinary read see the assembled audio ---------------------

    def __getitem__(self, key: str) -> Any:
        if key == "audio" and self._pending:
            self._sync()
        return dict.__getitem__(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "audio":
            self._set_audio(value)
        else:
            dict.__setitem__(self, key, value)

    def __iter__(self):
        # Overriding __iter__ makes dict(f) and {**f} use keys() + __getitem__ (CPython's fast
        # merge path only applies to subclasses that keep dict's own iterator).
        return dict.__iter__(self)

    def get(self, key: str, default: Any = None) -> Any:
        if key == "audio":
            self._sync()
        return dict.get(self, key, default)

    def items(self):
        self._sync()
        return dict.items(self)

    def values(self):
        self._sync()
        return dict.values(self)

    def copy(self) -> dict:
        """A plain ``dict`` copy with the audio assembled."""
        self._sync()
        return dict(dict.items(self))

    def __repr__(self) -> str:
        self._sync()
        return dict.__repr__(self)

    def __reduce__(self):
        # copy.deepcopy and pickle get a plain dict: no shared chunk list between copies.
        self._sync()
        return (dict, (dict(dict.items(self)),))


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
