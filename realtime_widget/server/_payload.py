"""Events carrying long audio, serialized off the event loop in small steps (issue 13; pure).

``conversation.item.retrieve`` of a 10-minute user item answers with 38 MB of base64 inside one
JSON event. Encoding it and ``json.dumps`` of the result held the loop that serves every
session for over two seconds, and neither releases the GIL, so moving the same calls to a thread
alone does not help. So the session puts a :class:`LazyAudio` where the base64 goes; the I/O
layer hands such an event to a worker thread, which writes the base64 in pieces of a fraction of
a millisecond each (the loop thread takes the GIL between them) around the JSON of the rest of
the event, and the writer sends the pieces as the fragments of one websocket message: no copy
of the whole 38 MB is ever made on the loop (each such copy took 10-100 ms there).
"""

from __future__ import annotations

import binascii
import json
import secrets
from typing import Any

import numpy as np

__all__ = ["LAZY_AUDIO_SECONDS", "LazyAudio", "lazy_size", "serialize"]

LAZY_AUDIO_SECONDS = 10.0
"""Audio at least this long (at 24 kHz) is encoded off the loop; shorter costs less than a hop."""

_PIECE = 3 * (1 << 17)  # bytes per base64 piece: a multiple of 3, so pieces concatenate


class LazyAudio:
    """PCM16 samples to be written as base64 when the event is serialized.

    Args:
        samples: int16 mono samples (kept by reference: the conversation never changes them).
    """

    __slots__ = ("samples",)

    def __init__(self, samples: np.ndarray) -> None:
        self.samples = samples

    def __repr__(self) -> str:
        return f"<LazyAudio {len(self.samples)} samples>"


def _find(node: Any, path: tuple = ()) -> tuple | None:
    if isinstance(node, LazyAudio):
        return path
    children = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in children:
        found = _find(child, (*path, key))
        if found is not None:
            return found
    return None


def lazy_size(event: dict) -> int | None:
    """Estimated JSON bytes of an event holding a :class:`LazyAudio`, or ``None`` without one."""
    path = _find(event)
    if path is None:
        return None
    node = event
    for key in path:
        node = node[key]
    return -(-node.samples.size * 2 // 3) * 4 + 1024


def serialize(event: dict) -> list[str]:
    """JSON of ``event``, its (one) :class:`LazyAudio` as base64, in pieces (a worker's job).

    Returns:
        Strings whose concatenation is the event's JSON, each at most about 512 kB: the
        fragments of one websocket text message. The event is not modified.
    """
    path = _find(event)
    if path is None:
        return [json.dumps(event)]
    *parents, last = path
    # A fresh random mark: a client cannot put it in a transcript to split the JSON elsewhere.
    mark = f"\x00lazy-audio-{secrets.token_hex(16)}\x00"

    def replaced(node: Any, depth: int) -> Any:
        # Copies only the containers on the path to the audio.
        if depth == len(parents):
            copy = dict(node) if isinstance(node, dict) else list(node)
            copy[last] = mark
            return copy
        key = parents[depth]
        copy = dict(node) if isinstance(node, dict) else list(node)
        copy[key] = replaced(node[key], depth + 1)
        return copy

    lazy = event
    for key in path:
        lazy = lazy[key]
    head, tail = json.dumps(replaced(event, 0)).split(json.dumps(mark), 1)
    data = memoryview(np.ascontiguousarray(lazy.samples, dtype="<i2")).cast("B")
    pieces = [head, '"']
    for start in range(0, len(data), _PIECE):
        pieces.append(binascii.b2a_base64(data[start : start + _PIECE], newline=False).decode())
    pieces += ['"', tail]
    return pieces
