"""Fuzz: mutated and random client events never crash the server, and every answer validates."""

from __future__ import annotations

import asyncio
import copy
import json
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_widget.audio import encode_base64
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.vad import VAD_ENV
from tests.fuzzing import json_paths, json_values
from tests.helpers import UNIT
from tests.server.checked import CheckedClient, checked
from tests.server.driver import StateDriver, speech

_AUDIO = encode_base64((np.sin(np.arange(4800) / 3) * 8000).astype(np.int16))
_TOOL = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}

VALID: list[dict] = [
    {
        "type": "session.update",
        "session": {"type": "realtime", "instructions": "x", "tools": [_TOOL]},
    },
    {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "output_modalities": ["text"],
            "audio": {"input": {"turn_detection": None}},
        },
    },
    {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "audio": {
                "input": {
                    "format": {"type": "audio/pcmu"},
                    "transcription": {"model": "whisper-1"},
                },
                "output": {"format": {"type": "audio/pcma"}, "voice": "ash"},
            },
        },
    },
    {"type": "input_audio_buffer.append", "audio": _AUDIO},
    {"type": "input_audio_buffer.commit"},
    {"type": "input_audio_buffer.clear"},
    {
        "type": "conversation.item.create",
        "previous_item_id": None,
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "what time"}],
        },
    },
    {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "audio": _AUDIO}],
        },
    },
    {
        "type": "conversation.item.create",
        "item": {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_time",
            "arguments": "{}",
        },
    },
    {
        "type": "conversation.item.create",
        "item": {"type": "function_call_output", "call_id": "call_1", "output": "noon"},
    },
    {"type": "conversation.item.delete", "item_id": "item_0001"},
    {"type": "conversation.item.retrieve", "item_id": "item_0005"},
    {
        "type": "conversation.item.truncate",
        "item_id": "item_0010",
        "content_index": 0,
        "audio_end_ms": 50,
    },
    {"type": "response.create"},
    {
        "type": "response.create",
        "response": {
            "conversation": "none",
            "output_modalities": ["text"],
            "input": [{"type": "item_reference", "id": "item_0007"}],
        },
    },
    {"type": "response.cancel"},
    {"type": "output_audio_buffer.clear"},
]

JSON = json_values(max_int=2**40, max_text=12, max_items=4, max_leaves=12)


@st.composite
def mutated_events(draw):
    """A valid client event with one field dropped, retyped or garbled, or random JSON."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return draw(JSON)
    event = copy.deepcopy(draw(st.sampled_from(VALID)))
    if choice <= 2:
        return event  # some valid events keep the state machine moving
    paths = [p for p in json_paths(event) if p]
    path = draw(st.sampled_from(paths))
    parent = event
    for key in path[:-1]:
        parent = parent[key]
    mode = draw(st.sampled_from(["drop", "retype", "garble", "add"]))
    if mode == "drop":
        del parent[path[-1]]
    elif mode == "retype":
        parent[path[-1]] = draw(JSON)
    elif mode == "garble" and isinstance(parent[path[-1]], str):
        parent[path[-1]] = parent[path[-1]][::-1] + draw(st.text(max_size=3))
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=6))] = draw(JSON)
    return event


FRAMES = st.one_of(
    mutated_events().map(json.dumps),
    st.binary(max_size=16),
    st.text(max_size=20),
)


def _quick_voice(text: str) -> np.ndarray:
    return np.zeros(3600, np.int16)  # 150 ms: two deltas per spoken item, fast to encode


SEEN = {"frames": 0}  # 300 examples x >= 8 frames: thousands of frames per run


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.lists(FRAMES, min_size=8, max_size=20), dialect=st.sampled_from(["ga", "beta"]))
def test_state_machine_survives_mutated_events_and_answers_validate(frames, dialect):
    d = StateDriver(dialect)
    SEEN["frames"] += len(frames)
    for frame in frames:
        d.send(frame)  # StateDriver validates every event strictly
        for _ in range(6):
            request = d.state.audio_request
            if request is not None:
                d.state.provide_audio(_quick_voice(request[0]))
            step = d.state.next_output()
            if step is None:
                break
            d._keep(step.events)
    # whatever happened, the session still answers a plain request
    d.send({"type": "response.cancel"}) if d.state.response_active else None
    d.drain()
    out = d.say("still alive?")
    assert out and out[0]["type"] in ("conversation.item.added", "conversation.item.created")


async def test_websocket_survives_fuzzed_frames_while_other_session_talks(monkeypatch):
    # The bystander speaks with the formant voice, one turn only for the energy VAD (Silero
    # hears a pause inside it and splits the turn, cancelling the first answer).
    monkeypatch.setenv(VAD_ENV, "energy")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # .example() is fine for drawing one fixed corpus here
        frames = [FRAMES.example() for _ in range(200)]
    async with LocalRealtimeServer(speed=0, synthesizer=_quick_voice) as server:
        victim = await CheckedClient.connect(server.url)
        bystander = await CheckedClient.connect(server.url)

        async def reader():
            while True:
                await victim.recv(30 * UNIT)

        task = asyncio.create_task(reader())
        for frame in frames:
            await victim.ws.send(frame)
        samples = speech("are you still there")
        for start in range(0, len(samples), 2400):
            await bystander.send(
                {
                    "type": "input_audio_buffer.append",
                    "audio": encode_base64(samples[start : start + 2400]),
                }
            )
        done = (await bystander.until("response.done"))[-1]
        assert done["response"]["status"] == "completed"
        await victim.ws.send(
            json.dumps({"type": "input_audio_buffer.clear", "event_id": "evt_last"})
        )
        for _ in range(int(200 * UNIT)):  # up to 10 s
            if any(e["type"] == "input_audio_buffer.cleared" for e in victim.received):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the fuzzed session stopped answering")
        task.cancel()
        checked(victim.received)
        assert not any(
            e["type"] == "error" and e["error"]["type"] == "server_error" for e in victim.received
        )
        await victim.close()
        await bystander.close()
