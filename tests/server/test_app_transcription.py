"""Transcription sessions on the embedded server through the openai SDK (issue 14, point 5).

``client.realtime.connect`` then ``session.update`` with ``type: "transcription"``: every event
is parsed by the SDK's models (strictly) and validated against the GA schema.
"""

from __future__ import annotations

import asyncio

import pytest

from realtime_widget.audio import encode_base64
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.testing.schema import validate_event
from tests.helpers import UNIT
from tests.sdk_models import sdk_errors
from tests.server.driver import speech

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.peer


@pytest.fixture
async def server():
    async with LocalRealtimeServer(
        speed=0, transcriber=lambda audio, rate: "hello my friend"
    ) as srv:
        yield srv


def _client(server, key: str = "sk-test"):
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=server.http_base_url,
        websocket_base_url=server.base_url,
        max_retries=0,
    )


async def _until(conn, kind: str, seen: list) -> object:
    async def read() -> object:
        while True:
            event = await conn.recv()
            raw = event.to_dict()
            validate_event(raw, "ga", strict=True)
            assert sdk_errors(raw) == [], sdk_errors(raw)
            seen.append(event)
            if event.type == kind:
                return event

    return await asyncio.wait_for(read(), 20 * UNIT)


async def _speak(conn, samples) -> None:
    for start in range(0, len(samples), 2400):
        await conn.input_audio_buffer.append(audio=encode_base64(samples[start : start + 2400]))


async def test_sdk_transcription_session_streams_captions_per_turn(server):
    seen: list = []
    async with _client(server).realtime.connect(model="gpt-realtime") as conn:
        await _until(conn, "session.created", seen)
        await conn.session.update(
            session={
                "type": "transcription",
                "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}},
            }
        )
        updated = await _until(conn, "session.updated", seen)
        assert updated.session.type == "transcription"
        await _speak(conn, speech())
        done = await _until(conn, "conversation.item.input_audio_transcription.completed", seen)
        await conn.response.create()
        error = await _until(conn, "error", seen)
    kinds = [e.type for e in seen]
    for kind in ("speech_started", "speech_stopped", "committed"):
        assert f"input_audio_buffer.{kind}" in kinds
    deltas = [e.delta for e in seen if e.type.endswith("input_audio_transcription.delta")]
    assert deltas == ["hello", " my", " friend"] and done.transcript == "hello my friend"
    assert not [k for k in kinds if k.startswith("response.")]
    assert "creates no responses" in error.error.message


async def test_intent_transcription_starts_a_transcription_session(server):
    seen: list = []
    async with _client(server).realtime.connect(
        model="gpt-realtime", extra_query={"intent": "transcription"}
    ) as conn:
        created = await _until(conn, "session.created", seen)
    assert created.session.type == "transcription"


async def test_transcription_client_secret_opens_a_transcription_session(server):
    client = _client(server)
    secret = await client.realtime.client_secrets.create(
        session={
            "type": "transcription",
            "audio": {"input": {"transcription": {"model": "whisper-1"}}},
        }
    )
    assert secret.session.type == "transcription"
    seen: list = []
    async with _client(server, secret.value).realtime.connect(model="gpt-realtime") as conn:
        created = await _until(conn, "session.created", seen)
    assert created.session.type == "transcription"
    assert created.session.audio.input.transcription.model == "whisper-1"
    with pytest.raises(openai.BadRequestError) as bad:
        await client.realtime.client_secrets.create(
            session={"type": "transcription", "audio": {"input": {"transcription": {"model": "x"}}}}
        )
    assert "'gpt-4o-transcribe'" in bad.value.body["message"]
