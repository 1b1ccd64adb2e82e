"""A recorder of one RealtimeClient session's wire traffic, and a client+server session."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from contextlib import asynccontextmanager

from realtime_widget import LocalRealtimeServer, RealtimeClient
from realtime_widget.tools import ToolRegistry
from tests.helpers import UNIT


class Wire:
    """Every event of one client session, both directions, as the client logged them."""

    def __init__(self, client: RealtimeClient) -> None:
        self.events: list[tuple[str, dict]] = []
        self._lock = threading.Lock()
        client.on("realtime.event", self._record)

    def _record(self, event: dict) -> None:
        with self._lock:
            self.events.append((event["source"], event["event"]))

    def of(self, source: str, type_: str) -> list[dict]:
        with self._lock:
            return [e for s, e in self.events if s == source and e.get("type") == type_]

    def calls(self) -> dict[str, str]:
        """call_id -> tool name of every function call the server completed."""
        calls = {}
        for done in self.of("server", "response.done"):
            for item in done["response"].get("output") or []:
                if item.get("type") == "function_call":
                    calls[item["call_id"]] = item["name"]
        return calls

    def outputs(self) -> list[tuple[str, str]]:
        """(call_id, output) of every function_call_output the client sent, in order."""
        return [
            (e["item"]["call_id"], e["item"]["output"])
            for e in self.of("client", "conversation.item.create")
            if e["item"].get("type") == "function_call_output"
        ]

    def replies(self) -> list[str]:
        """Text of the assistant messages of completed responses."""
        texts = []
        for done in self.of("server", "response.done"):
            for item in done["response"].get("output") or []:
                if item.get("type") == "message":
                    texts += [p.get("text") or p.get("transcript") or "" for p in item["content"]]
        return texts

    async def until(self, predicate, what: str, timeout: float = 10 * UNIT) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; wire: {self.summary()}")
            await asyncio.sleep(0.01 * UNIT)

    def summary(self) -> list[str]:
        with self._lock:
            return [f"{s}:{e.get('type')}" for s, e in self.events]

    async def turn(self, client: RealtimeClient, text: str, replies: int = 1) -> None:
        """Say ``text`` and wait until ``replies`` more assistant messages completed."""
        before = len(self.replies())
        client.send_user_message_content(text)
        await self.until(lambda: len(self.replies()) >= before + replies, f"reply to {text!r}")

    def assert_each_call_answered_once(self) -> None:
        calls = self.calls()
        assert calls, "the server made no function call"
        assert Counter(call_id for call_id, _ in self.outputs()) == Counter(dict.fromkeys(calls, 1))
        # one response.create per user turn plus one per response that had calls
        responses_with_calls = sum(
            any(i.get("type") == "function_call" for i in d["response"].get("output") or [])
            for d in self.of("server", "response.done")
        )
        user_turns = sum(
            e["item"].get("type") == "message"
            for e in self.of("client", "conversation.item.create")
        )
        assert len(self.of("client", "response.create")) == user_turns + responses_with_calls
        assert self.of("server", "error") == []

    def output_of(self, name: str) -> str:
        calls = self.calls()
        outputs = [out for call_id, out in self.outputs() if calls.get(call_id) == name]
        assert len(outputs) == 1, (name, outputs)
        return outputs[0]


@asynccontextmanager
async def session(registry: ToolRegistry, brain=None):
    async with LocalRealtimeServer(speed=0, brain=brain) as server:
        client = RealtimeClient(
            {"output_modalities": ["text"]}, url=server.url, tools=registry, api_key="sk-test"
        )
        wire = Wire(client)
        await client.connect_async()
        assert await client.wait_for_session_created_async(5 * UNIT) is not None
        try:
            yield client, wire
        finally:
            await client.disconnect_async()
            client.close()
