"""Transcription and translation sessions with the real local pipeline (issue 14, point 3).

espeak-ng speaks a known sentence into the embedded server: a transcription session's captions
hold its words (whisper), and a translation session answers with French text from the language
model and speech in French (espeak-ng's French voice), through the openai SDK's own clients.
"""

from __future__ import annotations

import asyncio
import re

import numpy as np
import pytest

from realtime_widget.audio import decode_base64, encode_base64
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.speech import espeak_speech
from tests.helpers import UNIT

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.local

SENTENCE = "The weather is very nice today and I am happy."


def _sentence() -> np.ndarray:
    silence = np.zeros(24000, np.int16)
    return np.concatenate([silence[:12000], espeak_speech(SENTENCE), silence, silence])


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-zà-ÿ]+", text.lower()))


def _client(server):
    return openai.AsyncOpenAI(
        api_key="sk-local", base_url=server.http_base_url, websocket_base_url=server.base_url
    )


async def _until(conn, kind: str, seen: list) -> object:
    async def read() -> object:
        while True:
            event = await conn.recv()
            seen.append(event)
            if event.type == kind:
                return event

    return await asyncio.wait_for(read(), 120 * UNIT)


async def test_local_transcription_session_captions_the_spoken_sentence(pipeline):
    seen: list = []
    async with LocalRealtimeServer(brain=pipeline) as server:
        async with _client(server).realtime.connect(model="gpt-realtime") as conn:
            await _until(conn, "session.created", seen)
            await conn.session.update(
                session={
                    "type": "transcription",
                    "audio": {"input": {"transcription": {"model": "whisper-1"}}},
                }
            )
            await _until(conn, "session.updated", seen)
            audio = _sentence()
            for start in range(0, len(audio), 4800):
                await conn.input_audio_buffer.append(
                    audio=encode_base64(audio[start : start + 4800])
                )
            done = await _until(conn, "conversation.item.input_audio_transcription.completed", seen)
    deltas = [e.delta for e in seen if e.type.endswith("input_audio_transcription.delta")]
    assert len(deltas) > 3 and "".join(deltas) == done.transcript  # word by word
    assert {"weather", "today", "happy"} <= _words(done.transcript), done.transcript
    assert not [e for e in seen if e.type.startswith("response.")]


async def test_local_translation_session_speaks_french(pipeline):
    seen: list = []
    async with LocalRealtimeServer(brain=pipeline) as server:
        async with _client(server).realtime.translations.connect(model="gpt-realtime") as conn:
            await _until(conn, "session.created", seen)
            await conn.session.update(
                session={
                    "audio": {
                        "output": {"language": "fr"},
                        "input": {"transcription": {"model": "whisper-1"}},
                    }
                }
            )
            await _until(conn, "session.updated", seen)
            audio = _sentence()
            for start in range(0, len(audio), 4800):
                await conn.session.input_audio_buffer.append(
                    audio=encode_base64(audio[start : start + 4800])
                )
            await conn.session.close()
            await _until(conn, "session.closed", seen)
    source = "".join(e.delta for e in seen if e.type == "session.input_transcript.delta")
    target = "".join(e.delta for e in seen if e.type == "session.output_transcript.delta")
    assert {"weather", "today"} <= _words(source), source
    assert target and _words(target) & {"le", "la", "est", "aujourd", "très", "je", "suis"}, target
    speech = [decode_base64(e.delta) for e in seen if e.type == "session.output_audio.delta"]
    assert sum(map(len, speech)) > 24000  # more than a second of French speech
