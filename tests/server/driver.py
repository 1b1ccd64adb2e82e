"""Drives the pure :class:`SessionState` like the I/O layer does, validating every event."""

from __future__ import annotations

import itertools
import json

import numpy as np

from realtime_widget.audio import encode_base64
from realtime_widget.server.speech import formant_speech
from realtime_widget.server.state import SessionState
from tests.server.checked import checked


class StateDriver:
    """A session state with deterministic ids; every event it emits is schema-checked.

    Attributes:
        state: the session state.
        events: everything emitted so far.
    """

    def __init__(self, dialect: str = "ga", **kwargs) -> None:
        counter = itertools.count(1)
        self.dialect = dialect
        self.state = SessionState(
            dialect=dialect,
            new_id=lambda prefix: f"{prefix}{next(counter):04d}",
            now=1.7e9,
            **kwargs,
        )
        self.events: list[dict] = []
        self.start = self._keep(self.state.start())

    def _keep(self, events: list[dict]) -> list[dict]:
        checked(events, self.dialect)
        self.events += events
        return events

    def send(self, event: dict | str | bytes) -> list[dict]:
        """Feed one client event (dict, JSON text or bytes); return what the server answers."""
        if isinstance(event, dict):
            event = json.dumps(event)
        return self._keep(self.state.receive(event))

    def drain(self, max_steps: int | None = None) -> list[dict]:
        """Pull the active response's steps (synthesizing with the built-in voice)."""
        out: list[dict] = []
        for _ in itertools.count() if max_steps is None else range(max_steps):
            request = self.state.audio_request
            if request is not None:
                self.state.provide_audio(formant_speech(request[0]).copy())
            step = self.state.next_output()
            if step is None:
                if self.state.audio_request is not None:
                    continue  # the brain went on (after MCP results) with speech to synthesize
                break
            out += self._keep(step.events)
        return out

    def say(self, text: str) -> list[dict]:
        """Add a user text message."""
        return self.send(
            {
                "type": "conversation.item.create",
                "item": {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                },
            }
        )

    def append(self, samples: np.ndarray, chunk_ms: int = 50, rate: int = 24000) -> list[dict]:
        """Append audio in chunks, like a microphone; return all events answered."""
        step = rate * chunk_ms // 1000
        out: list[dict] = []
        for start in range(0, len(samples), step):
            audio = encode_base64(samples[start : start + step])
            out += self.send({"type": "input_audio_buffer.append", "audio": audio})
        return out


def speech(text: str = "hello there my friend", lead: float = 0.5, tail: float = 1.0) -> np.ndarray:
    """Speech-like audio at 24 kHz with silence before and after."""
    return np.concatenate(
        [
            np.zeros(int(lead * 24000), np.int16),
            formant_speech(text),
            np.zeros(int(tail * 24000), np.int16),
        ]
    )


def of_type(events: list[dict], kind: str) -> list[dict]:
    """The events of one type."""
    return [e for e in events if e["type"] == kind]


def assert_alive(driver: StateDriver) -> None:
    """The session still answers: an item is added and a text response completes."""
    added = driver.say("are you still there?")
    assert added and added[0]["type"] in ("conversation.item.added", "conversation.item.created")
    created = driver.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    assert [e["type"] for e in created] == ["response.created"]
    done = of_type(driver.drain(), "response.done")
    assert done and done[0]["response"]["status"] == "completed"
