"""A recorded live session (client + embedded server) and item summaries to compare replays with.

Named for what it is (not a test module): ``record_live_session`` runs a text turn, a manual
audio turn, a tool call and a server-VAD audio turn against the embedded server while a
``Recorder`` writes the file, and returns the live conversation's items.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from realtime_widget.client import RealtimeClient
from realtime_widget.recording import Recorder
from realtime_widget.server import LocalRealtimeServer, synthesize
from tests.helpers import UNIT

API_KEY = "sk-test-recording-key-0123456789"


class ResponseCounter:
    """Counts ``response.done`` server events seen by a client (callbacks on the runtime thread)."""

    def __init__(self, client: Any) -> None:
        self.done = 0
        self._cond = threading.Condition()
        client.on("realtime.event", self._on_event)

    def _on_event(self, event: dict) -> None:
        if event["source"] == "server" and event["event"]["type"] == "response.done":
            with self._cond:
                self.done += 1
                self._cond.notify_all()

    def wait(self, count: int, timeout: float = 20 * UNIT) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: self.done >= count, timeout):
                raise TimeoutError(f"only {self.done} of {count} responses finished")


def tone(seconds: float, hz: float = 220.0) -> np.ndarray:
    n = int(24000 * seconds)
    return (np.sin(np.arange(n) * 2 * np.pi * hz / 24000) * 8000).astype(np.int16)


def summarize(items: list[dict]) -> list[dict]:
    """What a replay must reproduce of each item: text, transcripts, tool calls, audio bytes."""
    out = []
    for item in items:
        formatted = item.get("formatted") or {}
        audio = formatted.get("audio")
        tool = formatted.get("tool")
        out.append(
            {
                "id": item.get("id"),
                "type": item.get("type"),
                "role": item.get("role"),
                "status": item.get("status"),
                "text": formatted.get("text"),
                "transcript": formatted.get("transcript"),
                "tool": dict(tool) if tool else None,
                "output": formatted.get("output"),
                "audio": b"" if audio is None else np.asarray(audio, np.int16).tobytes(),
            }
        )
    return out


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def record_live_session(path: Any) -> list[dict]:
    """Run the session while recording to ``path``; returns the live items' summaries."""
    with LocalRealtimeServer(speed=0, api_key=API_KEY) as server:
        client = RealtimeClient(url=server.url, api_key=API_KEY)
        client.add_tool(add)
        responses = ResponseCounter(client)
        recorder = Recorder(client, path, flush_interval=0.05)
        try:
            client.connect(10 * UNIT)
            client.wait_for_session_created(10 * UNIT)
            client.send_user_message_content("hello there")  # text turn
            responses.wait(1)
            client.append_input_audio(tone(0.5))  # manual audio turn (commit)
            client.create_response()
            responses.wait(2)
            client.send_user_message_content('call add with {"a": 2, "b": 3}')  # tool call
            responses.wait(4)
            client.update_session(turn_detection={"type": "server_vad"})  # VAD audio turn
            silence = np.zeros(12000, dtype=np.int16)
            audio = np.concatenate([silence, synthesize("hello from the microphone"), silence])
            for start in range(0, len(audio), 2400):
                client.append_input_audio(audio[start : start + 2400])
            responses.wait(5)
            items = summarize(client.conversation.get_items())
            client.disconnect()
        finally:
            recorder.close()
            client.close()
    return items
