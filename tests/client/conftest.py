"""Fixtures for black-box client tests: the embedded server on the test's loop, a wire probe."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from realtime_widget.client import RealtimeClient
from realtime_widget.server import LocalRealtimeServer
from tests.helpers import UNIT


class Probe:
    """Records everything a client saw and sent (callbacks run on the runtime thread).

    ``sent``/``received`` list wire event types in order, from ``realtime.event``; ``events``
    holds the client's own custom events by name.
    """

    NAMES = (
        "conversation.updated",
        "conversation.item.appended",
        "conversation.item.completed",
        "conversation.interrupted",
        "usage.updated",
        "reconnecting",
        "reconnected",
        "error",
        "close",
    )

    def __init__(self, client: RealtimeClient) -> None:
        self._lock = threading.Lock()
        self.wire: list[tuple[str, dict]] = []
        self.events: dict[str, list[dict]] = {name: [] for name in self.NAMES}
        client.on("realtime.event", self._on_wire)
        for name in self.NAMES:
            client.on(name, lambda event, name=name: self._on_event(name, event))

    def _on_wire(self, event: dict) -> None:
        with self._lock:
            self.wire.append((event["source"], event["event"]))

    def _on_event(self, name: str, event: dict) -> None:
        item = event.get("item") if isinstance(event, dict) else None
        if isinstance(item, dict):  # items are live: keep what they were when announced
            event = {**event, "status_then": item.get("status")}
        with self._lock:
            self.events[name].append(event)

    def sent(self, *types: str) -> list[dict]:
        with self._lock:
            return [e for s, e in self.wire if s == "client" and (not types or e["type"] in types)]

    def received(self, *types: str) -> list[dict]:
        with self._lock:
            return [e for s, e in self.wire if s == "server" and (not types or e["type"] in types)]

    def of(self, name: str) -> list[dict]:
        with self._lock:
            return list(self.events[name])

    async def until(self, condition: Callable[[], Any], timeout: float = 10 * UNIT) -> Any:
        """Wait until ``condition()`` is truthy; returns its value."""

        async def poll() -> Any:
            while not (value := condition()):
                await asyncio.sleep(0.01)
            return value

        return await asyncio.wait_for(poll(), timeout)

    async def received_type(self, kind: str, count: int = 1, timeout: float = 10 * UNIT):
        return await self.until(
            lambda: len(self.received(kind)) >= count and self.received(kind), timeout
        )


@pytest.fixture
async def server():
    """The embedded server on the test's loop, sending as fast as possible."""
    async with LocalRealtimeServer(speed=0) as srv:
        yield srv


@pytest.fixture
async def make_client():
    """Factory for connected-later clients pointed at a URL; disconnects them at the end."""
    clients: list[RealtimeClient] = []

    def make(url: str, **options: Any) -> tuple[RealtimeClient, Probe]:
        options.setdefault("api_key", "sk-local-test")
        client = RealtimeClient(url=url, **options)
        clients.append(client)
        return client, Probe(client)

    yield make
    for client in clients:
        await client.disconnect_async()
