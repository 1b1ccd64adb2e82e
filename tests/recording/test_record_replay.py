"""Record a live session (client + embedded server) and replay it: the same items come back."""

from __future__ import annotations

import json
import threading
import time

import pytest

from realtime_widget.conversation import RealtimeConversation
from realtime_widget.protocol import DEFAULT_MODEL
from realtime_widget.recording import (
    FORMAT,
    ReplayClient,
    read_recording,
    replay_conversation,
    replay_conversation_async,
)
from tests.helpers import UNIT
from tests.recording._live_session import API_KEY, record_live_session, summarize


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """(path, live item summaries) of one recorded live session, shared by this module."""
    path = tmp_path_factory.mktemp("recording") / "session.jsonl"
    return path, record_live_session(path)


def test_live_session_covers_text_audio_tool_and_vad_turns(recorded):
    _, live = recorded
    kinds = [(i["type"], i["role"]) for i in live]
    assert ("function_call", None) in kinds and ("function_call_output", None) in kinds
    users = [i for i in live if i["role"] == "user"]
    assert [bool(u["audio"]) for u in users] == [False, True, False, True]
    assert users[0]["text"] == "hello there"
    assert all(i["status"] == "completed" for i in live)
    assert all(i["audio"] for i in live if i["role"] == "assistant")


def test_recording_starts_with_a_header_and_never_contains_the_key(recorded):
    path, _ = recorded
    text = path.read_text()
    header = json.loads(text.split("\n", 1)[0])
    assert header["format"] == FORMAT and header["version"] == 1
    assert header["model"] == DEFAULT_MODEL and header["dialect"] == "ga"
    assert header["created"].endswith("+00:00") and "127.0.0.1" in header["url"]
    assert API_KEY not in text


def test_recording_holds_every_event_both_ways_with_audio_and_monotonic_times(recorded):
    recording = read_recording(recorded[0])
    times = [e.t for e in recording.entries]
    assert times == sorted(times) and times[0] >= 0
    assert {e.direction for e in recording.entries} == {"client", "server", "local"}
    sent = [e["type"] for e in recording.client_events()]
    assert sent[0] == "session.update" and "input_audio_buffer.commit" in sent
    appends = [e for e in recording.client_events() if e["type"] == "input_audio_buffer.append"]
    assert appends and all(e["audio"] for e in appends)
    received = [e["type"] for e in recording.server_events()]
    assert received[0] == "session.created"
    assert "response.output_audio.delta" in received
    assert "input_audio_buffer.speech_stopped" in received
    assert recording.entries[-1].event["type"] == "close" and not recording.truncated


def test_replay_into_a_conversation_reproduces_the_live_items(recorded):
    path, live = recorded
    conversation = replay_conversation(path, speed=None)
    assert summarize(conversation.get_items()) == live


async def test_async_replay_into_a_given_conversation_reproduces_the_live_items(recorded):
    path, live = recorded
    conversation = RealtimeConversation()
    result = await replay_conversation_async(path, conversation, speed=None)
    assert result is conversation
    assert summarize(conversation.get_items()) == live


def test_replay_client_reproduces_items_events_and_usage_without_a_server(recorded, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    path, live = recorded
    client = ReplayClient(path, speed=None)
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def count(name):
        def on(event):
            with lock:
                seen[name] = seen.get(name, 0) + 1

        return on

    for name in ("realtime.event", "conversation.item.completed", "usage.updated", "close"):
        client.on(name, count(name))
    assert client.play(timeout=10 * UNIT)
    time.sleep(0.05 * UNIT)  # the close listener runs right after the last event
    assert summarize(client.conversation.get_items()) == live
    recording = read_recording(path)
    assert seen["realtime.event"] == len(recording.server_events()) + len(recording.client_events())
    assert seen["conversation.item.completed"] == len(live)
    assert seen["usage.updated"] == 5 and client.usage["responses"] == 5
    assert seen["close"] == 1 and not client.is_connected


def test_replay_client_plays_again_from_an_empty_conversation(recorded):
    path, live = recorded
    client = ReplayClient(path, speed=None)
    assert client.play(timeout=10 * UNIT)
    assert client.play(timeout=10 * UNIT)
    assert summarize(client.conversation.get_items()) == live


def test_replay_client_refuses_to_send_and_says_it_is_a_replay(recorded):
    client = ReplayClient(recorded[0], speed=None)
    client.connect()
    with pytest.raises(RuntimeError, match="replay of a recorded session"):
        client.send_user_message_content("hello?")
    client.append_input_audio(b"\x00\x00" * 10)  # a live microphone is ignored, not an error
    client.disconnect()
    assert client.finished and not client.is_connected


def test_replay_keeps_the_original_pace_scaled_by_speed(recorded):
    recording = read_recording(recorded[0])
    speed = recording.duration / (0.3 * UNIT)  # the whole session in about 0.3 units
    started = time.monotonic()
    replay_conversation(recording, speed=speed)
    elapsed = time.monotonic() - started
    assert 0.29 * UNIT <= elapsed < 3 * UNIT


def test_replay_client_stops_on_disconnect_midway(recorded):
    path, live = recorded
    recording = read_recording(path)
    client = ReplayClient(recording, speed=recording.duration / (3 * UNIT))
    client.connect()
    time.sleep(0.5 * UNIT)
    client.disconnect()
    assert client.finished and not client.is_connected
    count = len(client.conversation.get_items())
    time.sleep(0.3 * UNIT)
    assert len(client.conversation.get_items()) == count < len(live)


def test_speed_must_be_positive_or_none(recorded):
    with pytest.raises(ValueError, match="speed must be > 0"):
        replay_conversation(recorded[0], speed=0)


def test_exports_read_a_recording_path_directly(recorded):
    from realtime_widget.export import to_markdown, to_records

    path, live = recorded
    assert [r["id"] for r in to_records(path)] == [i["id"] for i in live]
    md = to_markdown(path)
    assert "**User:** hello there" in md and '`add({"a": 2, "b": 3})` → `5`' in md
