"""The recorder's file: periodic flushes, crash safety, the key never written, bad files refused."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import textwrap
import time

import pytest

from realtime_widget.client import RealtimeClient
from realtime_widget.recording import Recorder, RecordingError, read_recording
from realtime_widget.server import LocalRealtimeServer
from tests.helpers import UNIT
from tests.recording._live_session import API_KEY, ResponseCounter

_CRASHING_SESSION = textwrap.dedent(
    """
    import os, sys, time
    from realtime_widget.client import RealtimeClient
    from realtime_widget.recording import Recorder
    from realtime_widget.server import LocalRealtimeServer
    from tests.recording._live_session import ResponseCounter

    with LocalRealtimeServer(speed=0) as server:
        client = RealtimeClient(url=server.url, api_key="k")
        Recorder(client, sys.argv[1], flush_interval=0.05)
        responses = ResponseCounter(client)
        client.connect(10)
        client.send_user_message_content("remember me")
        responses.wait(1)
        time.sleep(0.3)  # a few flush intervals
        os._exit(3)  # no close(), no atexit: as a killed kernel
    """
)


def test_a_session_killed_mid_way_leaves_a_readable_recording(tmp_path):
    path = tmp_path / "crash.jsonl"
    done = subprocess.run(
        [sys.executable, "-c", _CRASHING_SESSION, str(path)],
        timeout=60 * UNIT,
        capture_output=True,
        cwd=pathlib.Path(__file__).resolve().parents[2],  # the repo root, for `tests.`
        text=True,
    )
    assert done.returncode == 3, done.stderr
    recording = read_recording(path)
    types = [e.event["type"] for e in recording.entries]
    assert "response.done" in types
    user = [e for e in recording.client_events() if e["type"] == "conversation.item.create"]
    assert user[0]["item"]["content"][0]["text"] == "remember me"


def test_recorder_flushes_periodically_while_the_session_runs(tmp_path):
    path = tmp_path / "live.jsonl"
    with LocalRealtimeServer(speed=0) as server:
        client = RealtimeClient(url=server.url, api_key="k")
        responses = ResponseCounter(client)
        with Recorder(client, path, flush_interval=0.05) as recorder:
            client.connect(10 * UNIT)
            client.send_user_message_content("hi")
            responses.wait(1)
            time.sleep(0.3 * UNIT)
            on_disk = read_recording(path)  # still recording
            assert any(e.event["type"] == "response.done" for e in on_disk.entries)
            client.disconnect()
        client.close()
    assert recorder.closed
    final = read_recording(path)
    assert len(final.entries) == recorder.events_recorded >= len(on_disk.entries)


def test_recorder_redacts_the_key_even_when_an_event_contains_it(tmp_path):
    path = tmp_path / "secret.jsonl"
    with LocalRealtimeServer(speed=0, api_key=API_KEY) as server:
        client = RealtimeClient(url=server.url + f"?api-key={API_KEY}", api_key=API_KEY)
        responses = ResponseCounter(client)
        with Recorder(client, path):
            client.connect(10 * UNIT)
            client.send_user_message_content(f"my key is {API_KEY}")
            responses.wait(1)
            client.disconnect()
        client.close()
    text = path.read_text()
    assert API_KEY not in text
    assert "my key is [redacted]" in text
    assert "api-key" not in json.loads(text.split("\n", 1)[0])["url"]


def test_recorder_stops_listening_at_close_and_close_is_idempotent(tmp_path):
    client = RealtimeClient(url="ws://127.0.0.1:9/v1/realtime", api_key="k")
    recorder = Recorder(client, tmp_path / "r.jsonl")
    client.dispatch("realtime.event", {"source": "client", "event": {"type": "a"}})
    recorder.close()
    recorder.close()
    client.dispatch("realtime.event", {"source": "client", "event": {"type": "b"}})
    assert [e.event["type"] for e in read_recording(tmp_path / "r.jsonl").entries] == ["a"]


def test_reader_skips_an_incomplete_last_line_and_says_so(tmp_path):
    path = tmp_path / "cut.jsonl"
    client = RealtimeClient(url="ws://127.0.0.1:9/v1/realtime", api_key="k")
    with Recorder(client, path):
        client.dispatch("realtime.event", {"source": "server", "event": {"type": "x"}})
    with open(path, "a") as f:
        f.write('{"t": 9.0, "dir": "server", "ev')
    recording = read_recording(path)
    assert recording.truncated and [e.event["type"] for e in recording.entries] == ["x"]


def test_reader_refuses_a_file_that_is_not_a_recording(tmp_path):
    path = tmp_path / "notes.jsonl"
    path.write_text('{"hello": 1}\n')
    with pytest.raises(RecordingError, match="not a realtime_widget recording"):
        read_recording(path)


def test_reader_refuses_a_newer_format_version_with_what_to_do(tmp_path):
    path = tmp_path / "future.jsonl"
    path.write_text('{"format": "realtime_widget.recording", "version": 99}\n')
    with pytest.raises(RecordingError, match="upgrade realtime_widget"):
        read_recording(path)


def test_reader_names_the_line_of_a_corrupt_event(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"format": "realtime_widget.recording", "version": 1}\n{"t": 1}\n')
    with pytest.raises(RecordingError, match="line 2"):
        read_recording(path)


def test_a_one_letter_test_key_does_not_corrupt_the_audio(tmp_path):
    path = tmp_path / "k.jsonl"
    client = RealtimeClient(url="ws://127.0.0.1:9/v1/realtime", api_key="A")
    with Recorder(client, path):
        event = {"type": "input_audio_buffer.append", "audio": "AAAAAA=="}
        client.dispatch("realtime.event", {"source": "client", "event": event})
    assert read_recording(path).entries[0].event["audio"] == "AAAAAA=="


def test_header_url_drops_credentials_but_keeps_the_model():
    from realtime_widget.recording._format import safe_url

    url = "wss://user:pw@example.org/v1/realtime?model=gpt-realtime&api-key=s3cret&sig=x"
    assert safe_url(url) == "wss://example.org/v1/realtime?model=gpt-realtime"


def test_recorder_refuses_a_non_positive_flush_interval(tmp_path):
    client = RealtimeClient(url="ws://127.0.0.1:9/v1/realtime", api_key="k")
    with pytest.raises(ValueError, match="flush_interval must be positive"):
        Recorder(client, tmp_path / "x.jsonl", flush_interval=0)
