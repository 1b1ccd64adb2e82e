"""Item audio for the conversation reducer: ``FormattedItem``, a dict with lazily joined audio.

The seed client re-concatenates an item's whole audio on every ``response.audio.delta``, O(n²)
per item (DESIGN §4). ``FormattedItem`` keeps an item's audio as the list of decoded chunks
(append is O(1): the array that ``np.frombuffer`` made over the decoded bytes, no copy) and
assembles ``formatted["audio"]`` on read into a buffer that grows geometrically, so even reading
after every delta is amortised O(1) per sample.

Measured alternatives (bench/bench_conversation_replay.py): copying each delta into large shared
slabs was slower here (transparent huge pages were not reliably granted, so it saved no page
faults and added a copy); keeping the bytes instead of the arrays made no difference.

Pure: numpy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["FormattedItem"]

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

    __slots__ = ("_buf", "_size", "pending_audio")

    def __init__(self, text: str = "", transcript: str = "", audio: Any = None, **extra: Any):
        super().__init__(text=text, transcript=transcript, audio=_EMPTY, **extra)
        self._buf: np.ndarray = _EMPTY  # capacity; samples [0, _size) are valid
        self._size = 0
        # int16 chunks received since the last read, kept by reference; the reducer's hot path
        # appends to this list directly (append_audio, inlined).
        self.pending_audio: list[np.ndarray] = []
        if audio is not None:
            self["audio"] = audio

    # -- audio -------------------------------------------------------------------------------

    def append_audio(self, chunk: Any) -> None:
        """Append int16 samples (an int16 array is kept by reference until the next read)."""
        if not (isinstance(chunk, np.ndarray) and chunk.dtype == np.int16 and chunk.ndim == 1):
            chunk = np.array(chunk, dtype=np.int16).reshape(-1)
        self.pending_audio.append(chunk)

    @property
    def audio_length(self) -> int:
        """Number of samples received, without materialising the array."""
        return self._size + sum(len(chunk) for chunk in self.pending_audio)

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
        self.pending_audio = []
        view = array[:]
        view.flags.writeable = False
        dict.__setitem__(self, "audio", view)

    def _sync(self) -> None:
        pending = self.pending_audio
        if not pending:
            return
        size = self._size
        total = size + sum(len(chunk) for chunk in pending)
        if total == size:  # only empty chunks: nothing to write (the buffer may be read-only)
            self.pending_audio = []
            return
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
        self.pending_audio = []
        view = buf[:size]
        view.flags.writeable = False
        dict.__setitem__(self, "audio", view)

    # -- dict protocol: make every ordinary read see the assembled audio ---------------------

    def __getitem__(self, key: str) -> Any:
        if key == "audio" and self.pending_audio:
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
