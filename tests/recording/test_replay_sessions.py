"""Replays across session boundaries (a dropped and reopened connection) and of beta sessions."""

from __future__ import annotations

import asyncio
import threading

import numpy as np

from realtime_widget.client import RealtimeClient
from realtime_widget.recording import Recorder, ReplayClient, read_recording, replay_conversation
from realtime_widget.server import LocalRealtimeServer, ScriptedBrain, synthesize
from realtime_widget.testing.faults import FaultProxy
from tests.helpers import UNIT
from tests.recording._live_session import ResponseCounter, summarize


async def _speak(client: RealtimeClient, responses: ResponseCounter, count: int, text: str):
    silence = np.zeros(12000, dtype=np.int16)
    audio = np.concatenate([silence, synthesize(text), silence])
    for start in range(0, len(audio), 2400):
        client.append_input_audio(audio[start : start + 2400])
    await asyncio.to_thread(responses.wait, count)


async def test_vad_turns_after_a_reconnect_replay_with_their_own_session_audio(tmp_path):
    path = tmp_path / "dropped.jsonl"
    async with (
        LocalRealtimeServer(speed=0) as server,
        FaultProxy(server.url) as proxy,
    ):
        client = RealtimeClient(
            url=proxy.url,
            api_key="k",
            session_config={"turn_detection": {"type": "server_vad"}},
            reconnect_delay=0.05,
        )
        responses = ResponseCounter(client)
        reconnected = threading.Event()
        client.on("reconnected", lambda event: reconnected.set())
        with Recorder(client, path):
            await client.connect_async()
            await _speak(client, responses, 1, "first turn before the drop")
            proxy.drop()
            assert await asyncio.to_thread(reconnected.wait, 10 * UNIT)
            await client.wait_for_session_created_async(10 * UNIT)
            await _speak(client, responses, 2, "second turn in a new session")
            live = summarize(client.conversation.get_items())
            await client.disconnect_async()
        client.close()
    users = [i for i in live if i["role"] == "user" and i["audio"]]
    assert len(users) == 2  # both VAD turns carry their audio slice
    recording = read_recording(path)
    local = [e.event["type"] for e in recording.entries if e.direction == "local"]
    assert local[:1] == ["reconnecting"]
    assert summarize(replay_conversation(recording).get_items()) == live
    replayed = ReplayClient(recording, speed=None)
    assert await replayed.wait_until_finished_async(0) is False
    await replayed.connect_async()
    assert await replayed.wait_until_finished_async(10 * UNIT)
    assert summarize(replayed.conversation.get_items()) == live


async def test_a_response_cut_by_a_drop_replays_as_incomplete(tmp_path):
    path = tmp_path / "cut.jsonl"
    brain = ScriptedBrain(["A long answer that the network will cut in the middle of it."])
    async with (
        LocalRealtimeServer(speed=1.0, brain=brain) as server,
        FaultProxy(server.url) as proxy,
    ):
        client = RealtimeClient(url=proxy.url, api_key="k", auto_reconnect=False)
        deltas = threading.Event()
        client.on(
            "realtime.event",
            lambda e: deltas.set() if e["event"]["type"] == "response.output_audio.delta" else None,
        )
        closed = threading.Event()
        client.on("close", lambda event: closed.set())
        with Recorder(client, path):
            await client.connect_async()
            client.send_user_message_content("talk")
            assert await asyncio.to_thread(deltas.wait, 10 * UNIT)
            proxy.drop()
            assert await asyncio.to_thread(closed.wait, 10 * UNIT)
            live = summarize(client.conversation.get_items())
        client.close()
    assert live[-1]["status"] == "incomplete"
    assert summarize(replay_conversation(path).get_items()) == live
    replayed = ReplayClient(path, speed=None)
    await replayed.connect_async()
    assert await replayed.wait_until_finished_async(10 * UNIT)
    assert summarize(replayed.conversation.get_items()) == live


async def test_beta_dialect_session_replays_to_the_same_items(tmp_path):
    path = tmp_path / "beta.jsonl"
    async with LocalRealtimeServer(speed=0) as server:
        client = RealtimeClient(url=server.url, api_key="k", dialect="beta")
        responses = ResponseCounter(client)
        with Recorder(client, path):
            await client.connect_async()
            client.send_user_message_content("hola")
            await asyncio.to_thread(responses.wait, 1)
            live = summarize(client.conversation.get_items())
            await client.disconnect_async()
        client.close()
    recording = read_recording(path)
    assert recording.header["dialect"] == "beta"
    assert summarize(replay_conversation(recording).get_items()) == live
    assert live[-1]["transcript"] == "You said: hola"
