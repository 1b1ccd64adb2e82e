"""Translation sessions on the embedded server, driven by the openai SDK's own client (issue 14).

``client.realtime.translations.connect(model=...)`` opens ``/v1/realtime/translations``; every
event the server sends is parsed by the SDK's models (strictly: no field they lack) and, with the
echo brain's stand-ins, the translation is the source transcript marked with the target language.
"""

from __future__ import annotations

import asyncio
import json

import numpy as np
import pytest
import websockets

from realtime_widget.audio import decode_base64, encode_base64
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.speech import formant_speech
from tests.helpers import UNIT
from tests.sdk_models import extras_of
from tests.server.driver import speech

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.peer

KEY = "sk-local-translate-key-1"


@pytest.fixture
async def server():
    async with LocalRealtimeServer(
        api_key=KEY, speed=0, synthesizer=lambda text: formant_speech(text).copy()
    ) as srv:
        yield srv


def _client(server, key: str = KEY):
    return openai.AsyncOpenAI(
        api_key=key,
        base_url=server.http_base_url,
        websocket_base_url=server.base_url,
        max_retries=0,
    )


async def _events_until(conn, kind: str, seen: list) -> object:
    async def read() -> object:
        while True:
            event = await conn.recv()
            assert extras_of(event) == [], event  # strictly the SDK's model
            seen.append(event)
            if event.type == kind:
                return event

    return await asyncio.wait_for(read(), 20 * UNIT)


async def _speak(conn, samples: np.ndarray, chunk_ms: int = 200) -> None:
    step = 24000 * chunk_ms // 1000
    for start in range(0, len(samples), step):
        await conn.session.input_audio_buffer.append(
            audio=encode_base64(samples[start : start + step])
        )


async def test_sdk_translation_session_translates_each_phrase_and_closes(server):
    seen: list = []
    async with _client(server).realtime.translations.connect(
        model="gpt-realtime-translate"
    ) as conn:
        created = await _events_until(conn, "session.created", seen)
        assert created.session.type == "translation"
        assert created.session.model == "gpt-realtime-translate"
        await conn.session.update(
            session={
                "audio": {
                    "output": {"language": "fr"},
                    "input": {"transcription": {"model": "gpt-4o-mini-transcribe"}},
                }
            }
        )
        updated = await _events_until(conn, "session.updated", seen)
        assert updated.session.audio.output.language == "fr"
        await _speak(conn, speech("bonjour tout le monde", tail=1.0))
        await _events_until(conn, "session.output_audio.delta", seen)
        await _speak(conn, speech("second phrase", tail=0.1))  # still being spoken at close
        await conn.session.close()
        await _events_until(conn, "session.closed", seen)
    kinds = [e.type for e in seen]
    source = "".join(e.delta for e in seen if e.type == "session.input_transcript.delta")
    target = "".join(e.delta for e in seen if e.type == "session.output_transcript.delta")
    assert source.startswith("[speech ") and source.count("[speech") == 2  # close flushed it
    assert target.startswith("[fr] [speech") and target.count("[fr]") == 2
    audio = [e for e in seen if e.type == "session.output_audio.delta"]
    assert audio and all(e.sample_rate == 24000 and e.format == "pcm16" for e in audio)
    assert sum(len(decode_base64(e.delta)) for e in audio) > 24000 // 2
    assert all(e.elapsed_ms % 200 == 0 for e in seen if hasattr(e, "elapsed_ms") and e.elapsed_ms)
    assert kinds[-1] == "session.closed"


async def test_translation_without_transcription_sends_no_source_transcript(server):
    seen: list = []
    async with _client(server).realtime.translations.connect(model="m") as conn:
        await _events_until(conn, "session.created", seen)
        await _speak(conn, speech("hello"))
        await _events_until(conn, "session.output_audio.delta", seen)
    assert "session.input_transcript.delta" not in [e.type for e in seen]
    assert "".join(e.delta for e in seen if e.type == "session.output_transcript.delta").startswith(
        "[en] "
    )  # the default target


@pytest.mark.parametrize(
    ("session", "param", "words"),
    [
        ({"audio": {"output": {"language": "tlh"}}}, "session.audio.output.language", "'fr'"),
        (
            {"audio": {"input": {"transcription": {"model": "wisper"}}}},
            "session.audio.input.transcription.model",
            "'whisper-1'",
        ),
        (
            {"audio": {"input": {"format": {"type": "audio/pcmu"}}}},
            "session.audio.input.format",
            "24 kHz PCM16",
        ),
    ],
)
async def test_translation_session_refuses_bad_settings_naming_them(server, session, param, words):
    seen: list = []
    async with _client(server).realtime.translations.connect(model="m") as conn:
        await _events_until(conn, "session.created", seen)
        await conn.send({"type": "session.update", "session": session, "event_id": "evt_u"})
        error = await _events_until(conn, "error", seen)
    assert error.error.param == param
    assert words in error.error.message
    assert error.error.event_id == "evt_u"


async def test_translation_session_refuses_audio_in_the_wrong_format(server):
    seen: list = []
    async with _client(server).realtime.translations.connect(model="m") as conn:
        await _events_until(conn, "session.created", seen)
        await conn.session.input_audio_buffer.append(audio="AAA")  # 2 bytes? no: odd/invalid
        error = await _events_until(conn, "error", seen)
        assert error.error.param == "audio" and "PCM16" in error.error.message
        await conn.send({"type": "input_audio_buffer.append", "audio": "AAAA"})
        error = await _events_until(conn, "error", seen)
        assert "session.input_audio_buffer.append" in error.error.message


async def test_sdk_creates_a_translation_secret_and_connects_with_it(server):
    client = _client(server)
    created = await client.realtime.translations.client_secrets.create(
        session={"model": "gpt-realtime-translate", "audio": {"output": {"language": "de"}}},
    )
    assert created.value.startswith("ek_") and extras_of(created) == []
    assert created.session.type == "translation"
    seen: list = []
    async with _client(server, created.value).realtime.translations.connect(model="x") as conn:
        event = await _events_until(conn, "session.created", seen)
    assert event.session.audio.output.language == "de"
    # A translation secret opens no realtime session, and the other way round.
    import websockets

    with pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(
            server.url, additional_headers={"Authorization": f"Bearer {created.value}"}
        ):
            pass
    assert info.value.response.status_code == 401
    with pytest.raises(openai.BadRequestError) as bad:
        await client.realtime.translations.client_secrets.create(
            session={"model": "m", "audio": {"output": {"language": "xx"}}}
        )
    assert bad.value.body["param"] == "session.audio.output.language"


async def _first_error(url: str, frame: str) -> dict:
    async with websockets.connect(url, additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
        await asyncio.wait_for(ws.recv(), 10 * UNIT)  # session.created
        await ws.send(frame)
        while True:
            event = json.loads(await asyncio.wait_for(ws.recv(), 10 * UNIT))
            if event["type"] == "error":
                return event["error"]


@pytest.mark.parametrize("frame", ['{"event_id": "evt_typeless"}', '{"type": ["session.close"]}'])
async def test_server_refuses_a_bad_envelope_on_a_translation_session_as_on_a_realtime_one(
    server, frame
):
    # Over real sockets: no type was 'invalid_value' on a translation session (the realtime
    # session's 'missing_required_parameter'), and a list as type was a server bug there
    # ('server_error' from a TypeError) where a realtime session refuses it as 'invalid_value'.
    realtime = await _first_error(server.url, frame)
    translation = await _first_error(f"{server.base_url}/realtime/translations", frame)
    keys = ("type", "code", "param", "event_id")
    assert [translation[k] for k in keys] == [realtime[k] for k in keys]
    assert translation["type"] == "invalid_request_error"
    words = [error["message"].split(" Supported values")[0] for error in (translation, realtime)]
    assert words[0] == words[1]
