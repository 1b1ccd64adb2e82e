"""Spoken turns against a Realtime server, as a microphone would send them (tests and bench).

Each turn is real speech (espeak-ng) streamed in 40 ms appends at real time, then silence until
the server's VAD ends the turn and the answer is done. What the server did is kept with wall
times taken as events arrive, so ``speech_stopped -> first audio delta`` is the latency a
listener would feel (minus the network, here loopback).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field

import numpy as np
import websockets

from realtime_widget.audio import encode_base64
from realtime_widget.server.speech import espeak_speech

CHUNK = 960  # 40 ms at 24 kHz


@dataclass
class Turn:
    """What one spoken turn produced."""

    said: str
    heard: str = ""  # the server's transcript of the user's turn
    answer: str = ""  # the assistant's transcript (or text)
    calls: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    stopped_at: float | None = None
    first_audio_at: float | None = None
    status: str = ""

    @property
    def latency(self) -> float | None:
        """Seconds from ``speech_stopped`` to the first audio delta."""
        if self.stopped_at is None or self.first_audio_at is None:
            return None
        return self.first_audio_at - self.stopped_at


class VoiceSession:
    """One websocket session that speaks turns and answers tool calls.

    Args:
        url: the server's ``ws://.../v1/realtime``.
        tools: ``{name: callable(**arguments) -> result}``; their JSON schemas in ``schemas``.
        schemas: function tool definitions for ``session.update``.
        instructions: the session's instructions.
    """

    def __init__(
        self,
        url: str,
        *,
        tools: dict | None = None,
        schemas: list[dict] | None = None,
        instructions: str = "",
    ) -> None:
        self.url, self.tools, self.schemas = url, tools or {}, schemas or []
        self.instructions = instructions
        self.ws = None

    async def __aenter__(self) -> VoiceSession:
        self.ws = await websockets.connect(self.url, max_size=None)
        await self._recv_until("session.created")
        session = {
            "type": "realtime",
            "instructions": self.instructions,
            "audio": {
                "input": {
                    "transcription": {"model": "whisper-1"},
                    # espeak-ng pauses ~300 ms at a full stop; a person's turn needs longer
                    "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
                }
            },
            "tools": self.schemas,
        }
        await self.send({"type": "session.update", "session": session})
        await self._recv_until("session.updated")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def send(self, event: dict) -> None:
        await self.ws.send(json.dumps(event))

    async def _recv_until(self, kind: str) -> dict:
        while True:
            event = json.loads(await self.ws.recv())
            if event["type"] == kind:
                return event

    async def speak(self, text: str, *, timeout: float = 60.0, tail_s: float = 1.2) -> Turn:
        """Say ``text``, then wait for the answer (through tool calls) to finish."""
        speech = np.asarray(espeak_speech(text))
        audio = np.concatenate(
            [np.zeros(4800, np.int16), speech, np.zeros(int(24000 * tail_s), np.int16)]
        )
        turn = Turn(text)
        reader = asyncio.create_task(self._collect(turn))
        start = time.perf_counter()
        for n, offset in enumerate(range(0, len(audio), CHUNK)):
            delay = start + n * CHUNK / 24000 - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if reader.done():
                break
            chunk = audio[offset : offset + CHUNK]
            await self.send({"type": "input_audio_buffer.append", "audio": encode_base64(chunk)})
        await asyncio.wait_for(reader, timeout)
        return turn

    async def _collect(self, turn: Turn) -> None:
        while True:
            event = json.loads(await self.ws.recv())
            turn.events.append(event)
            kind = event["type"]
            now = time.perf_counter()
            if kind == "input_audio_buffer.speech_stopped" and turn.stopped_at is None:
                turn.stopped_at = now
            elif kind == "response.output_audio.delta" and turn.first_audio_at is None:
                turn.first_audio_at = now
            elif kind == "conversation.item.input_audio_transcription.completed":
                turn.heard += event["transcript"]
            elif kind in ("response.output_audio_transcript.delta", "response.output_text.delta"):
                turn.answer += event["delta"]
            elif kind == "response.done":
                response = event["response"]
                turn.status = response["status"]
                calls = [o for o in response["output"] if o["type"] == "function_call"]
                if not calls or response["status"] != "completed":
                    return
                for call in calls:
                    turn.calls.append(call)
                    fn = self.tools.get(call["name"])
                    try:
                        result = fn(**json.loads(call["arguments"])) if fn else "unknown tool"
                    except Exception as exc:
                        result = {"error": str(exc)}
                    item = {
                        "type": "function_call_output",
                        "call_id": call["call_id"],
                        "output": json.dumps(result),
                    }
                    await self.send({"type": "conversation.item.create", "item": item})
                await self.send({"type": "response.create"})
