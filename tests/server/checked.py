"""A raw websocket client for the embedded server that validates everything it receives.

Every server event a test sees goes through :func:`checked`, which validates it strictly against
the schema of the connection's dialect (issue 3, "Done means"): no test can look at an event that
the real service's schema would reject.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
from collections.abc import Iterable

import websockets

from realtime_widget.testing.schema import validate_event
from tests.helpers import UNIT
from tests.sdk_models import sdk_errors

HAVE_SDK = importlib.util.find_spec("openai") is not None


def checked(events: Iterable[dict], dialect: str = "ga") -> list[dict]:
    """Validate each event strictly for ``dialect`` and return them as a list.

    GA events are also checked strictly against the openai SDK's model of their type (the second
    oracle, DESIGN §6) when the SDK is installed.
    """
    events = list(events)
    for event in events:
        validate_event(event, dialect, strict=True)
        if dialect == "ga" and HAVE_SDK:
            problems = sdk_errors(event)
            assert not problems, "\n".join(problems)
    return events


def types(events: Iterable[dict]) -> list[str]:
    """The ``type`` of each event."""
    return [e["type"] for e in events]


class CheckedClient:
    """One websocket connection to the server; every received event is schema-checked.

    Attributes:
        received: every event received so far, in order.
    """

    def __init__(self, ws, dialect: str) -> None:
        self.ws, self.dialect = ws, dialect
        self.received: list[dict] = []

    @classmethod
    async def connect(
        cls, url: str, dialect: str = "ga", headers: dict | None = None, **kwargs
    ) -> CheckedClient:
        """Connect (adding the beta header for ``dialect="beta"``) and read the greeting."""
        headers = {"Authorization": "Bearer sk-test", **(headers or {})}
        if dialect == "beta":
            headers.setdefault("OpenAI-Beta", "realtime=v1")
        ws = await websockets.connect(
            url, additional_headers=headers, max_size=None, compression=None, **kwargs
        )
        client = cls(ws, dialect)
        await client.until("conversation.created")
        return client

    async def send(self, event: dict) -> None:
        """Send one client event (a dict) as a JSON text frame."""
        await self.ws.send(json.dumps(event))

    async def recv(self, timeout: float = 5 * UNIT) -> dict:
        """The next event, validated."""
        event = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
        validate_event(event, self.dialect, strict=True)
        self.received.append(event)
        return event

    async def until(self, kind: str, timeout: float = 10 * UNIT) -> list[dict]:
        """Events up to and including the first of type ``kind``."""
        seen: list[dict] = []
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            left = deadline - asyncio.get_running_loop().time()
            seen.append(await self.recv(max(left, 0.001)))
            if seen[-1]["type"] == kind:
                return seen

    async def error(self, code: str, timeout: float = 5 * UNIT) -> dict:
        """Wait for an ``error`` event and check its code; return its ``error`` object."""
        events = await self.until("error", timeout)
        error = events[-1]["error"]
        assert error["code"] == code, error
        assert error["type"] == "invalid_request_error"
        return error

    async def close(self) -> None:
        """Close the connection."""
        await self.ws.close()
