"""A fault-injecting websocket proxy for reliability tests (issue 8).

:class:`FaultProxy` sits between a client and an upstream Realtime server (usually the embedded
:class:`~realtime_widget.server.LocalRealtimeServer`) and forwards every frame both ways until told
to misbehave. Faults are rules applied to server -> client frames, or actions taken at once:

- ``drop``: abort the client's TCP connection with no close frame (a network drop), optionally
  when a matching server event passes;
- ``stall``: hold server frames for a while, then deliver them in order;
- ``split``: deliver a server event as a fragmented websocket message;
- ``corrupt``: deliver a server event as malformed JSON (truncated text);
- ``inject``: send an arbitrary event or raw text to the client(s);
- ``close``: close the client connection with a code and reason (e.g. 1001 at the session cap),
  at once or right after a matching server event (e.g. every ``session.created``).

The proxy counts what it did (:attr:`FaultProxy.stats`) so tests and the bench fault matrix can
report faults tried. Everything binds to loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed, InvalidStatus

logger = logging.getLogger(__name__)

__all__ = ["Fault", "FaultProxy"]

Match = Callable[[dict], bool]

# Headers the proxy passes through to the upstream server, lower-case.
_FORWARDED_HEADERS = ("authorization", "openai-beta", "api-key")
_ACTIONS = frozenset({"drop", "split", "corrupt", "delay", "swallow", "close"})


@dataclass
class Fault:
    """A rule applied to server -> client events.

    Args:
        action: ``"drop"`` (abort the connection instead of delivering the event), ``"split"``
            (deliver it fragmented), ``"corrupt"`` (deliver truncated, unparsable JSON),
            ``"delay"`` (deliver it after ``seconds``), ``"swallow"`` (never deliver it), or
            ``"close"`` (deliver it, then close the connection with ``code`` and ``reason``).
        match: the event ``type`` to match, a predicate over the event dict, or ``None`` for any.
        times: how many matching events the rule applies to before it retires.
        seconds: the delay for ``"delay"``.
        skip: how many matching events to let through untouched first.
        code: the close code for ``"close"`` (1011: the server failed).
        reason: the close reason for ``"close"``.
    """

    action: str
    match: str | Match | None = None
    times: int = 1
    seconds: float = 0.0
    skip: int = 0
    code: int = 1011
    reason: str = ""
    applied: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.action not in _ACTIONS:
            raise ValueError(f"unknown fault action {self.action!r}; use one of {sorted(_ACTIONS)}")

    def matches(self, event: dict) -> bool:
        """Whether this fault acts on ``event`` (a match while ``skip`` > 0 only uses up one skip).

        Args:
            event: the wire event passing through the proxy.

        Returns:
            True when the fault should act on this event.
        """
        if self.applied >= self.times:
            return False
        if self.match is None:
            hit = True
        elif isinstance(self.match, str):
            hit = event.get("type") == self.match
        else:
            hit = bool(self.match(event))
        if hit and self.skip > 0:
            self.skip -= 1
            return False
        return hit


class FaultProxy:
    """A websocket proxy that forwards to ``upstream_url`` and injects faults on request.

    Args:
        upstream_url: the server's websocket URL (``ws://127.0.0.1:PORT/v1/realtime``); the
            client's path query (e.g. ``?model=...``) replaces the upstream's.
        host: interface to bind (loopback by default).
        port: port to bind (0 picks a free one).

    Use ``async with FaultProxy(server.url) as proxy:`` and point the client at ``proxy.url``.
    """

    def __init__(self, upstream_url: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.upstream_url = upstream_url
        self.host = host
        self.port = port
        self.rules: list[Fault] = []
        self.stats: dict[str, int] = {"connections": 0}
        self._server: Any = None
        self._clients: set[ServerConnection] = set()
        self._stall_until = 0.0

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        """The proxy's websocket URL, with the upstream's path."""
        path = self.upstream_url.split("://", 1)[1].split("/", 1)
        suffix = "/" + path[1].split("?", 1)[0] if len(path) > 1 else ""
        return f"ws://{self.host}:{self.port}{suffix}"

    async def start(self) -> FaultProxy:
        """Start listening (on the current loop)."""
        self._server = await serve(
            self._handle, self.host, self.port, max_size=None, compression=None
        )
        self.port = next(iter(self._server.sockets)).getsockname()[1]
        return self

    async def stop(self) -> None:
        """Stop listening and close every proxied connection."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> FaultProxy:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ faults, now
    def add(self, fault: Fault) -> Fault:
        """Add a rule for server -> client events; returns it (its ``applied`` counts hits)."""
        self.rules.append(fault)
        return fault

    def stall(self, seconds: float) -> None:
        """Hold every server -> client frame for ``seconds`` from now, then deliver in order."""
        self._stall_until = asyncio.get_running_loop().time() + seconds
        self._count("stall")

    def drop(self) -> None:
        """Abort every client connection now, with no close frame (a network drop)."""
        for ws in list(self._clients):
            ws.transport.abort()
        self._count("drop")

    async def close(self, code: int = 1001, reason: str = "") -> None:
        """Close every client connection with ``code`` and ``reason``."""
        for ws in list(self._clients):
            await ws.close(code, reason)
        self._count("close")

    async def inject(self, event: dict | str) -> None:
        """Send ``event`` (a dict, or raw text such as malformed JSON) to every client."""
        text = event if isinstance(event, str) else json.dumps(event)
        for ws in list(self._clients):
            with contextlib.suppress(ConnectionClosed):
                await ws.send(text)
        self._count("inject")

    def _count(self, what: str) -> None:
        self.stats[what] = self.stats.get(what, 0) + 1

    # ------------------------------------------------------------------ forwarding
    async def _handle(self, client: ServerConnection) -> None:
        request = client.request
        assert request is not None
        headers = {k: v for k, v in request.headers.raw_items() if k.lower() in _FORWARDED_HEADERS}
        query = request.path.split("?", 1)[1] if "?" in request.path else ""
        target = self.upstream_url.split("?", 1)[0] + (f"?{query}" if query else "")
        self.stats["connections"] += 1
        try:
            upstream = await connect(
                target,
                additional_headers=headers,
                max_size=None,
                compression=None,
                subprotocols=None,
                # Never pause reading upstream: when the client side is gone mid-response, unread
                # frames would otherwise hide the server's close frame and stall close() 10 s.
                max_queue=None,
            )
        except (OSError, InvalidStatus) as exc:
            logger.info("= proxy could not reach upstream: %s", exc)
            await client.close(1011, "upstream unavailable")
            return
        self._clients.add(client)
        try:
            await self._pump(client, upstream)
        finally:
            self._clients.discard(client)
            await upstream.close()

    async def _pump(self, client: ServerConnection, upstream: Any) -> None:
        async def up() -> None:
            async for message in client:
                await upstream.send(message)

        async def down() -> None:
            async for message in upstream:
                await self._deliver(client, message)

        tasks = [asyncio.create_task(up()), asyncio.create_task(down())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await task
            if upstream.close_code is not None and client.close_code is None:
                # Mirror the server's close (e.g. 1001 at the session cap) to the client.
                await client.close(upstream.close_code, upstream.close_reason or "")

    async def _deliver(self, client: ServerConnection, message: str | bytes) -> None:
        loop = asyncio.get_running_loop()
        if (wait := self._stall_until - loop.time()) > 0:
            await asyncio.sleep(wait)
        event: dict = {}
        if isinstance(message, str):
            with contextlib.suppress(ValueError):
                parsed = json.loads(message)
                event = parsed if isinstance(parsed, dict) else {}
        rule = next((r for r in self.rules if r.matches(event)), None)
        if rule is None:
            await client.send(message)
            return
        rule.applied += 1
        self._count(rule.action)
        await _APPLY[rule.action](client, message, rule)


async def _apply_drop(client: ServerConnection, message: str | bytes, rule: Fault) -> None:
    client.transport.abort()


async def _apply_split(client: ServerConnection, message: str | bytes, rule: Fault) -> None:
    third = max(1, len(message) // 3)
    await client.send([message[i : i + third] for i in range(0, len(message), third)])


async def _apply_corrupt(client: ServerConnection, message: str | bytes, rule: Fault) -> None:
    await client.send(message[: max(1, len(message) // 2)])


async def _apply_delay(client: ServerConnection, message: str | bytes, rule: Fault) -> None:
    await asyncio.sleep(rule.seconds)
    await client.send(message)


async def _apply_close(client: ServerConnection, message: str | bytes, rule: Fault) -> None:
    await client.send(message)
    await client.close(rule.code, rule.reason)


async def _apply_swallow(client: ServerConnection, message: str | bytes, rule: Fault) -> None:
    return None


_APPLY = {
    "drop": _apply_drop,
    "split": _apply_split,
    "corrupt": _apply_corrupt,
    "delay": _apply_delay,
    "swallow": _apply_swallow,
    "close": _apply_close,
}
