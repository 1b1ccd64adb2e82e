"""Limits of the embedded server (issue 13): what it refuses, with which error, over a real socket.

Every refusal is one ``error`` event naming the field and what to do; the session stays usable.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import numpy as np
import pytest

from realtime_widget.audio import decode_base64, encode_base64
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server._limits import Limits
from realtime_widget.server.state import split_append
from tests.helpers import UNIT
from tests.server.checked import CheckedClient
from tests.server.driver import StateDriver, speech


def _tool(name: str) -> dict:
    return {"type": "function", "name": name, "parameters": {"type": "object"}}


@pytest.mark.parametrize(
    "name",
    ["x" * 300 + "\x00\u202e", "get\x00key", "get\u202ekey", "get key", "", "x" * 65],
)
async def test_server_refuses_an_invalid_tool_name_and_keeps_the_session(name):
    async with LocalRealtimeServer(speed=0) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(
            {
                "type": "session.update",
                "event_id": "evt_tools",
                "session": {"type": "realtime", "tools": [_tool("ok"), _tool(name)]},
            }
        )
        error = await client.error("invalid_value")
        assert error["param"] == "session.tools[1].name"
        assert error["event_id"] == "evt_tools"
        assert "a-zA-Z0-9_-" in error["message"] and "get_weather" in error["message"]
        assert "\x00" not in error["message"] and "\u202e" not in error["message"]
        assert len(error["message"]) < 300
        # Nothing changed, and the session still takes a valid update.
        await client.send(
            {"type": "session.update", "session": {"type": "realtime", "tools": [_tool("a-b_9")]}}
        )
        updated = (await client.until("session.updated"))[-1]
        assert [t["name"] for t in updated["session"]["tools"]] == ["a-b_9"]
        await client.close()


async def test_server_refuses_an_invalid_function_name_in_tool_choice():
    async with LocalRealtimeServer(speed=0) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "tool_choice": {"type": "function", "name": "a b"}},
            }
        )
        error = await client.error("invalid_value")
        assert error["param"] == "session.tool_choice.name"
        await client.close()


def _append(seconds: float, level: int = 3000) -> dict:
    samples = (np.random.default_rng(1).standard_normal(int(seconds * 24000)) * level).astype(
        np.int16
    )
    return {"type": "input_audio_buffer.append", "audio": encode_base64(samples)}


def _text_item(text: str, event_id: str | None = None) -> dict:
    event = {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        },
    }
    return {**event, "event_id": event_id} if event_id else event


async def _no_turn_detection(client: CheckedClient) -> None:
    await client.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        }
    )
    await client.until("session.updated")


async def _answer(client: CheckedClient, event: dict, kind: str) -> dict:
    await client.send(event)
    return (await client.until(kind))[-1]


def test_server_limits_default_to_the_documented_values_and_must_be_positive():
    server = LocalRealtimeServer()
    assert server.limits == Limits()
    assert (Limits.max_input_audio_seconds, Limits.max_items) == (900.0, 4096)
    assert (Limits.max_conversation_bytes, Limits.max_item_bytes) == (8 << 20, 1 << 20)
    for name in ("max_input_audio_seconds", "max_items", "max_conversation_bytes"):
        with pytest.raises(ValueError, match=name):
            LocalRealtimeServer(**{name: 0})
    with pytest.raises(ValueError, match="max_item_bytes"):
        LocalRealtimeServer(max_item_bytes=-1)


async def test_server_refuses_uncommitted_audio_past_its_cap_and_the_buffer_still_commits():
    async with LocalRealtimeServer(speed=0, max_input_audio_seconds=2) as server:
        client = await CheckedClient.connect(server.url)
        await _no_turn_detection(client)
        [state] = server.sessions
        for _ in range(3):
            await client.send(_append(0.6))
        await client.send({**_append(0.6), "event_id": "evt_over"})
        error = await client.error("input_audio_buffer_full")
        assert (error["param"], error["event_id"]) == ("audio", "evt_over")
        assert "input_audio_buffer.commit" in error["message"] and "not added" in error["message"]
        assert state.input.buffered_samples == int(1.8 * 24000)  # the refused chunk is not kept
        # What was held is committed whole, and the buffer takes audio again.
        await client.send({"type": "input_audio_buffer.commit"})
        committed = (await client.until("input_audio_buffer.committed"))[-1]
        record = state.conversation.get(committed["item_id"])
        assert len(record.audio) == int(1.8 * 24000)
        await client.send(_append(1.5))
        await client.send({"type": "input_audio_buffer.commit"})
        await client.until("input_audio_buffer.committed")
        await client.close()


async def test_server_refuses_items_past_max_items_until_one_is_deleted():
    async with LocalRealtimeServer(speed=0, max_items=3) as server:
        client = await CheckedClient.connect(server.url)
        await _no_turn_detection(client)
        ids = [
            (await _answer(client, _text_item(f"item {n}"), "conversation.item.done"))["item"]["id"]
            for n in range(3)
        ]
        await client.send(_text_item("one too many", "evt_full"))
        error = await client.error("conversation_full")
        assert error["event_id"] == "evt_full" and error["param"] == "item"
        assert "3 items" in error["message"] and "conversation.item.delete" in error["message"]
        # A commit is refused and keeps its audio; a response into the conversation is refused.
        await client.send(_append(0.5))
        await client.send({"type": "input_audio_buffer.commit", "event_id": "evt_commit"})
        assert (await client.error("conversation_full"))["event_id"] == "evt_commit"
        await client.send({"type": "response.create", "event_id": "evt_resp"})
        assert (await client.error("conversation_full"))["event_id"] == "evt_resp"
        # An out-of-band response writes nothing into the conversation: it still runs.
        await client.send(
            {"type": "response.create", "response": {"conversation": "none", "input": []}}
        )
        assert (await client.until("response.done"))[-1]["response"]["status"] == "completed"
        [state] = server.sessions
        assert len(state.conversation) == 3
        await client.send({"type": "conversation.item.delete", "item_id": ids[0]})
        await client.until("conversation.item.deleted")
        await client.send({"type": "input_audio_buffer.commit"})  # the kept audio commits now
        await client.until("input_audio_buffer.committed")
        await client.close()


async def test_server_refuses_items_past_the_conversation_byte_limit():
    async with LocalRealtimeServer(speed=0, max_conversation_bytes=5000) as server:
        client = await CheckedClient.connect(server.url)
        for n in range(3):
            await _answer(client, _text_item(f"{n}" * 1200), "conversation.item.done")
        await client.send(_text_item("x" * 1200))
        error = await client.error("conversation_full")
        assert "5000-byte limit" in error["message"]
        [state] = server.sessions
        assert state.conversation.total_bytes <= 5000
        # Small items still fit; and a response's own items are counted once it ends.
        await _answer(client, _text_item("hi"), "conversation.item.done")
        before = state.conversation.total_bytes
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        await client.until("response.done")
        assert state.conversation.total_bytes > before
        assert state.conversation.total_bytes == sum(r.size for r in state.conversation.records())
        await client.close()


async def test_server_refuses_one_item_over_max_item_bytes_and_goes_on():
    async with LocalRealtimeServer(speed=0, max_item_bytes=10_000) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(_text_item("y" * 20_000, "evt_big"))
        error = await client.error("item_too_large")
        assert (error["param"], error["event_id"]) == ("item", "evt_big")
        assert "smaller items" in error["message"]
        [state] = server.sessions
        assert len(state.conversation) == 0
        await _answer(client, _text_item("y" * 5000), "conversation.item.done")
        await client.close()


async def test_server_vad_turn_in_a_full_conversation_gets_an_error_and_the_session_goes_on():
    async with LocalRealtimeServer(speed=0, max_items=1, vad="energy") as server:
        client = await CheckedClient.connect(server.url)
        first = await _answer(client, _text_item("the only item"), "conversation.item.done")
        audio = speech()
        for start in range(0, len(audio), 2400):
            chunk = encode_base64(audio[start : start + 2400])
            await client.send({"type": "input_audio_buffer.append", "audio": chunk})
        events = await client.until("error")
        kinds = [e["type"] for e in events]
        assert "input_audio_buffer.speech_stopped" in kinds
        assert "input_audio_buffer.committed" not in kinds
        error = events[-1]["error"]
        assert error["code"] == "conversation_full" and error["event_id"] is None
        assert "not committed" in error["message"]
        await client.send({"type": "conversation.item.delete", "item_id": first["item"]["id"]})
        await client.until("conversation.item.deleted")
        for start in range(0, len(audio), 2400):
            chunk = encode_base64(audio[start : start + 2400])
            await client.send({"type": "input_audio_buffer.append", "audio": chunk})
        await client.until("input_audio_buffer.committed")
        await client.close()


class _LoopLag:
    """The longest the server's loop took to run a task due every millisecond."""

    def __init__(self) -> None:
        self.worst = 0.0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.001)
            self.worst = max(self.worst, loop.time() - before - 0.001)


# Before the fix, best of 3 on 2 loaded cores: commit 0.27-1.3 s, retrieve 0.5-2.5 s, flood
# 0.1-0.6 s; after: at most 0.06 s (appends and the flood, one frame's work at a time). One
# 5-minute append (near the 15 MiB limit): 0.12-0.19 s with turn detection off and 1.5-1.8 s
# with server VAD before it was taken a second at a time; 0.02-0.06 s after.
MAX_LAG = 0.15
PHASES = ["append", "commit", "retrieve", "flood", "respond", "big_append", "big_vad_append"]


def _phase_lags(server: LocalRealtimeServer, lag: _LoopLag) -> dict[str, float]:
    """The server loop's worst lag during each phase of one heavy client's run."""
    client = subprocess.Popen(
        [sys.executable, "-m", "tests.server.heavy_client", server.url, *PHASES],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    worst = {}
    try:
        time.sleep(0.1)
        lag.worst = 0.0
        for phase in PHASES:
            line = client.stdout.readline()
            assert line == f"done {phase}\n", f"the client failed in {phase}: {line!r}"
            worst[phase] = lag.worst
            lag.worst = 0.0
            client.stdin.write("\n")
            client.stdin.flush()
        assert client.wait(30 * UNIT) == 0
    finally:
        client.kill()
    return worst


def test_server_loop_never_stalls_on_long_audio_or_a_flood_of_items():
    # A stall in the server repeats on every run; another process taking the cores (the
    # machine is shared) rarely hits the same phase three times: each phase's best of up to 3.
    lag = _LoopLag()
    best: dict[str, float] = {}
    with LocalRealtimeServer(speed=0) as server:
        ticker = asyncio.run_coroutine_threadsafe(lag.run(), server._loop)
        try:
            for _ in range(3):
                for phase, seconds in _phase_lags(server, lag).items():
                    best[phase] = min(best.get(phase, seconds), seconds)
                if all(seconds < MAX_LAG * UNIT for seconds in best.values()):
                    break
        finally:
            ticker.cancel()
    assert all(seconds < MAX_LAG * UNIT for seconds in best.values()), best


@pytest.mark.parametrize("dialect", ["ga", "beta"])
async def test_server_retrieve_of_long_audio_sends_it_whole_and_exact(dialect):
    samples = (np.random.default_rng(5).standard_normal(24000 * 12) * 3000).astype(np.int16)
    async with LocalRealtimeServer(speed=0) as server:
        client = await CheckedClient.connect(server.url, dialect)
        if dialect == "ga":
            await _no_turn_detection(client)
        else:
            await client.send({"type": "session.update", "session": {"turn_detection": None}})
            await client.until("session.updated")
        await client.send({"type": "input_audio_buffer.append", "audio": encode_base64(samples)})
        await client.send({"type": "input_audio_buffer.commit"})
        item_id = (await client.until("input_audio_buffer.committed"))[-1]["item_id"]
        await client.send({"type": "conversation.item.retrieve", "item_id": item_id})
        await client.send({"type": "conversation.item.retrieve", "item_id": "item_none"})
        events = await client.until("error")  # the order is kept: the long answer comes first
        retrieved = [e for e in events if e["type"] in ("conversation.item.retrieved", "error")]
        assert [e["type"] for e in retrieved] == ["conversation.item.retrieved", "error"]
        assert retrieved[0]["item"]["content"][0]["audio"] == encode_base64(samples)
        await client.close()


def test_a_long_append_is_cut_into_pieces_that_decode_to_the_same_audio():
    samples = (np.random.default_rng(1).standard_normal(24000 * 5) * 3000).astype(np.int16)
    event = {"type": "input_audio_buffer.append", "audio": encode_base64(samples), "event_id": "e"}
    pieces = split_append(event, 64_000)
    assert len(pieces) == 5 and all(p["event_id"] == "e" for p in pieces)
    assert all(len(p["audio"]) % 4 == 0 for p in pieces)
    assert np.array_equal(np.concatenate([decode_base64(p["audio"]) for p in pieces]), samples)
    short = {"type": "input_audio_buffer.append", "audio": encode_base64(samples[:2400])}
    assert split_append(short, 64_000) == [short]
    huge = {"type": "input_audio_buffer.append", "audio": "A" * (21 * 1024 * 1024)}
    assert split_append(huge, 64_000) == [huge]  # refused whole by the 15 MiB check
    assert split_append({"type": "input_audio_buffer.clear"}, 1) == [
        {"type": "input_audio_buffer.clear"}
    ]
    assert split_append(["not", "an", "event"], 1) == [["not", "an", "event"]]


def test_a_long_append_in_pieces_gives_the_same_turns_as_one_append():
    audio = np.concatenate([speech("hello there my friend"), speech("and once more")])
    event = {"type": "input_audio_buffer.append", "audio": encode_base64(audio)}

    def turns(events: list[dict]) -> list[tuple]:
        keys = ("audio_start_ms", "audio_end_ms")
        return [
            (e["type"], *(e.get(k) for k in keys)) for e in events if "input_audio" in e["type"]
        ]

    whole, cut = StateDriver(vad="energy"), StateDriver(vad="energy")
    one = whole.state.receive_parsed(event)
    pieces = [e for piece in split_append(event, 64_000) for e in cut.state.receive_parsed(piece)]
    assert turns(one) and turns(one) == turns(pieces)
