"""One connection's outgoing events: serialized once, in order, bounded by bytes (issue 13).

The server's tasks (reader, pump, transcriber, producers) put events here without ever waiting;
the connection's writer takes them one by one and waits for the socket. A client that stops
reading leaves the writer stuck on one frame while events pile up behind it: each request it
sends may have a large answer (``conversation.item.retrieve`` of a long audio item is megabytes),
so without a bound a few kilobytes of requests grow the server by gigabytes, in the process that
serves every other session too (the widget's server runs inside the kernel).

The server's own output (a response's deltas, unpaced at ``speed=0``) is not a reason to close:
the pump waits in :meth:`Outbox.wait_for_room` while more than half the limit waits, so a burst
goes out at the speed the client reads; only a writer that takes nothing for ``stall_seconds``
counts as a client that stopped reading.

So the outbox counts the bytes of JSON waiting behind the frame being sent. Past
``max_bytes`` (with more than one event waiting: a single large answer to a client that does read
always goes) it drops what is waiting, refuses everything after, and calls ``on_overflow`` with a
reason, so the connection closes with 1008 instead of blocking anybody. Events are serialized when
they are put (ASCII JSON: characters are bytes), so the count is exact and the writer only sends
strings. An event too large to serialize on the loop (long audio, ``_payload``) is put as a future
of its JSON (in pieces: the fragments of one message) with an estimate of its size
(:meth:`Outbox.put_later`): it keeps its place in the order and the writer waits for it.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from collections.abc import Callable

__all__ = ["DEFAULT_MAX_PENDING_BYTES", "Outbox"]

DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024
"""8 MiB of JSON waiting: about 170 s of 24 kHz audio deltas, far beyond any reading client."""


class Outbox:
    """A FIFO of outgoing frames (JSON text, or a close request) with a byte limit.

    Args:
        max_bytes: JSON bytes allowed to wait behind the frame being sent.
        on_overflow: called once, with a close reason, when the limit is passed.

    Attributes:
        pending_bytes: bytes of JSON waiting (not counting the frame the writer holds).
        overflowed: the limit was passed; nothing more is queued.
    """

    def __init__(
        self,
        max_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        on_overflow: Callable[[str], None] | None = None,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, not {max_bytes!r}")
        self.max_bytes = max_bytes
        self.on_overflow = on_overflow
        self.pending_bytes = 0
        self.overflowed = False
        self._frames: deque[str | tuple[int, str] | _Later] = deque()
        self._ready = asyncio.Event()
        self._taken = asyncio.Event()  # the writer took a frame (the client is reading)

    def __len__(self) -> int:
        return len(self._frames)

    def put_nowait(self, event: dict) -> None:
        """Queue one server event (serialized now); dropped once the outbox has overflowed."""
        if self.overflowed:
            return
        text = json.dumps(event)
        self._frames.append(text)
        self.pending_bytes += len(text)
        self._ready.set()
        if self.pending_bytes > self.max_bytes and len(self._frames) > 1:
            self._overflow()

    def put_later(self, text: asyncio.Future[list[str]], size: int) -> None:
        """Queue the JSON a worker is still writing, in order; ``size`` estimates its bytes.

        The future gives the JSON in pieces, sent as the fragments of one message.

        Dropped (and its future cancelled) once the outbox has overflowed.
        """
        if self.overflowed:
            text.cancel()
            return
        self._frames.append(_Later(text, size))
        self.pending_bytes += size
        self._ready.set()
        if self.pending_bytes > self.max_bytes and len(self._frames) > 1:
            self._overflow()

    def put_close(self, code: int, reason: str) -> None:
        """Queue a close after the events already queued (the writer closes the socket)."""
        if not self.overflowed:
            self._frames.append((code, reason))
            self._ready.set()

    async def get(self) -> str | list[str] | tuple[int, str]:
        """The next frame: a JSON string, its pieces, or ``(code, reason)`` to close with."""
        while not self._frames:
            self._ready.clear()
            await self._ready.wait()
        frame = self._frames.popleft()
        if isinstance(frame, str):
            self.pending_bytes -= len(frame)
        elif isinstance(frame, _Later):
            self.pending_bytes -= frame.size
            self._taken.set()
            return await frame.text
        self._taken.set()
        return frame

    async def wait_for_room(self, stall_seconds: float) -> bool:
        """Wait while more than half the limit waits; the server's own output calls this.

        Args:
            stall_seconds: how long the writer may take nothing before the client counts as
                not reading (then the outbox overflows).

        Returns:
            False when the outbox has overflowed (the connection is closing), else True.
        """
        while not self.overflowed and self.pending_bytes > self.max_bytes // 2:
            self._taken.clear()
            try:
                await asyncio.wait_for(self._taken.wait(), stall_seconds)
            except TimeoutError:
                self._overflow(f"client is not reading: nothing read for {stall_seconds:g} s")
        return not self.overflowed

    def _overflow(self, reason: str | None = None) -> None:
        if reason is None:
            mib = self.max_bytes / (1024 * 1024)
            reason = f"client is not reading: over {mib:g} MiB of events waiting"
        self.overflowed = True
        for frame in self._frames:
            if isinstance(frame, _Later):
                frame.text.cancel()
        self._frames.clear()
        self.pending_bytes = 0
        if self.on_overflow is not None:
            self.on_overflow(reason)


class _Later:
    """A frame whose JSON a worker thread is writing, and its estimated size."""

    __slots__ = ("size", "text")

    def __init__(self, text: asyncio.Future[list[str]], size: int) -> None:
        self.text, self.size = text, size
