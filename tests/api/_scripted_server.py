"""A tiny websocket server for faults the embedded server cannot produce.

Refused handshakes (any HTTP status and body), raw frames (malformed JSON, binary), unknown
events and abrupt closes. It records each connection's request headers, path and received
events. Runs on the test's own loop, on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Response


@dataclass
class Connection:
    """One accepted client: what it sent and a handle to push frames to it."""

    ws: ServerConnection
    path: str
    headers: dict[str, str]
    received: list[dict] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)
    cursor: int = 0  # events already returned by next_event

    async def send(self, event: dict | str | bytes) -> None:
        await self.ws.send(event if isinstance(event, (str, bytes)) else json.dumps(event))

    async def next_event(self, timeout: float) -> dict:
        """The first event not returned yet, waiting for it if needed."""

        async def poll() -> dict:
            while len(self.received) <= self.cursor:
                await asyncio.sleep(0.005)
            self.cursor += 1
            return self.received[self.cursor - 1]

        return await asyncio.wait_for(poll(), timeout)


class ScriptedServer:
    """``async with ScriptedServer(refuse=401, body=...) as srv:`` then ``srv.url``.

    Args:
        refuse: an HTTP status to answer every handshake with (no websocket).
        body: the refusal's body.
        greet: send a ``session.created`` on connect.
    """

    def __init__(self, refuse: int | None = None, body: bytes = b"", greet: bool = True) -> None:
        self.refuse = refuse
        self.body = body
        self.greet = greet
        self.connections: list[Connection] = []
        self.connected = asyncio.Event()
        self._server: Any = None

    @property
    def url(self) -> str:
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/v1/realtime"

    async def __aenter__(self) -> ScriptedServer:
        self._server = await serve(self._handle, "127.0.0.1", 0, process_request=self._process)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()

    def _process(self, connection: ServerConnection, request: Any) -> Response | None:
        if self.refuse is None:
            return None
        headers = Headers([("Content-Type", "application/json")])
        reason = HTTPStatus(self.refuse).phrase
        return Response(self.refuse, reason, headers, self.body)

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        conn = Connection(ws, request.path, {k.lower(): v for k, v in request.headers.raw_items()})
        self.connections.append(conn)
        self.connected.set()
        if self.greet:
            await conn.send({"type": "session.created", "event_id": "e0", "session": {"id": "s1"}})
        try:
            async for message in ws:
                conn.received.append(json.loads(message))
        except Exception:
            pass
        finally:
            conn.closed.set()

    async def connection(self, timeout: float) -> Connection:
        await asyncio.wait_for(self.connected.wait(), timeout)
        return self.connections[-1]
