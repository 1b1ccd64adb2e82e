"""A websocket relay that timestamps when each response's first audio delta leaves the server.

Put it between any client (the widget's kernel, a bare page) and the embedded server: it forwards
frames untouched both ways and, for server -> client text frames, records ``time.time()`` when it
forwards the first ``response.output_audio.delta`` (or beta ``response.audio.delta``) of each
response, and when ``response.done`` passes. The relay hop costs well under a millisecond and is
the same for every path it serves, so side-by-side comparisons stay fair.

It also keeps ``events``: ``(time.time(), direction, type)`` of every other text frame (``<`` from
the server, ``>`` from the client; audio deltas and ``input_audio_buffer.append`` left out), so a
bench can count e.g. ``input_audio_buffer.speech_started`` and the client's truncates.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

_DELTA_TYPES = ('"response.output_audio.delta"', '"response.audio.delta"')
_FORWARDED = ("authorization", "openai-beta", "api-key")
_UNLOGGED = (*_DELTA_TYPES, '"input_audio_buffer.append"')
MAX_EVENTS = 100_000
"""Events the relay keeps (oldest dropped first)."""


@dataclass
class ResponseTiming:
    """Wall-clock marks of one response, as seen by the relay.

    Attributes:
        response_id: the server's response id.
        first_delta: ``time.time()`` when its first audio delta was forwarded.
        done: ``time.time()`` when ``response.done`` was forwarded (None until then).
        audio_bytes: base64-decoded size of all its audio deltas so far.
    """

    response_id: str
    first_delta: float
    done: float | None = None
    audio_bytes: int = 0


@dataclass
class DeltaClock:
    """The relay. ``with DeltaClock(upstream_url) as clock:`` runs it on a thread of its own.

    Args:
        upstream_url: the server's websocket URL (e.g. ``LocalRealtimeServer.url``).
    """

    upstream_url: str
    responses: list[ResponseTiming] = field(default_factory=list)
    events: list[tuple[float, str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server = None
        self.port = 0

    @property
    def url(self) -> str:
        """Where clients connect: same path as upstream, on the relay's port."""
        path = self.upstream_url.split("/", 3)[3] if self.upstream_url.count("/") >= 3 else ""
        return f"ws://127.0.0.1:{self.port}/{path}"

    def count(self) -> int:
        """How many responses have sent audio so far."""
        with self._lock:
            return len(self.responses)

    def wait_response(self, index: int, timeout: float, done: bool = False) -> ResponseTiming:
        """Wait until response number ``index`` (0-based) has audio (and is done if ``done``)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.responses) > index and (not done or self.responses[index].done):
                    return self.responses[index]
            time.sleep(0.01)
        raise TimeoutError(f"response {index} not seen by the relay in {timeout}s")

    def __enter__(self) -> DeltaClock:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _start(self) -> None:
        self._server = await serve(self._handle, "127.0.0.1", 0, max_size=None)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, client: ServerConnection) -> None:
        base = self.upstream_url.split("/", 3)
        target = "/".join(base[:3]) + client.request.path
        headers = {k: v for k, v in client.request.headers.items() if k.lower() in _FORWARDED}
        async with connect(target, additional_headers=headers, max_size=None) as upstream:

            async def up() -> None:
                async for message in client:
                    if isinstance(message, str):
                        self._log(">", message)
                    await upstream.send(message)

            async def down() -> None:
                async for message in upstream:
                    if isinstance(message, str):
                        self._note(message)
                    await client.send(message)

            tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
            with contextlib.suppress(ConnectionClosed):
                await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()

    def _log(self, direction: str, message: str) -> None:
        # A substring test first: audio frames are most of the traffic and never logged.
        if any(t in message for t in _UNLOGGED):
            return
        try:
            kind = str(json.loads(message).get("type", ""))
        except (ValueError, AttributeError):
            kind = "?"
        with self._lock:
            if len(self.events) >= MAX_EVENTS:
                del self.events[: MAX_EVENTS // 10]
            self.events.append((time.time(), direction, kind))

    def _note(self, message: str) -> None:
        self._log("<", message)
        now = time.time()
        # A substring test is C-speed and exact: base64 payloads never contain a double quote.
        if any(t in message for t in _DELTA_TYPES):
            event = json.loads(message)
            rid = event.get("response_id", "")
            size = len(event.get("delta", "")) * 3 // 4
            with self._lock:
                timing = next((r for r in self.responses if r.response_id == rid), None)
                if timing is None:
                    self.responses.append(ResponseTiming(rid, now, audio_bytes=size))
                else:
                    timing.audio_bytes += size
        elif '"response.done"' in message:
            rid = json.loads(message).get("response", {}).get("id", "")
            with self._lock:
                for timing in self.responses:
                    if timing.response_id == rid:
                        timing.done = now
