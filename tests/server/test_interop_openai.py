"""Interop: the official ``openai`` SDK's GA realtime client against the embedded server."""

from __future__ import annotations

import asyncio
import json

import pytest

from realtime_widget.audio import encode_base64
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.speech import formant_speech
from realtime_widget.testing.schema import validate_event
from tests.helpers import UNIT
from tests.server.driver import speech

openai = pytest.importorskip("openai")
pytestmark = pytest.mark.peer


async def _until(conn, kind: str, seen: list) -> object:
    async def read() -> object:
        async for event in conn:
            validate_event(event.to_dict(), "ga", strict=True)
            seen.append(event)
            if event.type == kind:
                return event
        raise AssertionError(f"connection ended before {kind}")

    return await asyncio.wait_for(read(), 10 * UNIT)


@pytest.fixture
async def server():
    async with LocalRealtimeServer(
        speed=0, synthesizer=lambda text: formant_speech(text).copy()
    ) as srv:
        yield srv


def _client(server):
    return openai.AsyncOpenAI(api_key="sk-test", websocket_base_url=server.base_url)


async def test_openai_sdk_completes_text_turn(server):
    seen: list = []
    async with _client(server).realtime.connect(model="gpt-realtime") as conn:
        created = await _until(conn, "session.created", seen)
        assert created.session.type == "realtime"
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await _until(conn, "session.updated", seen)
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "hello sdk"}],
            }
        )
        await conn.response.create()
        done = await _until(conn, "response.done", seen)
    assert done.response.status == "completed"
    assert done.response.output[0].content[0].text == "You said: hello sdk"
    assert "response.output_text.delta" in [e.type for e in seen]


async def test_openai_sdk_sends_an_image_the_server_stores_and_describes(server):
    import numpy as np

    from realtime_widget.images import image_data_url

    url = image_data_url(np.zeros((48, 64, 3), np.uint8))
    seen: list = []
    async with _client(server).realtime.connect(model="gpt-realtime") as conn:
        await _until(conn, "session.created", seen)
        await conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        await _until(conn, "session.updated", seen)
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "look"},
                    {"type": "input_image", "image_url": url, "detail": "low"},
                ],
            }
        )
        added = await _until(conn, "conversation.item.added", seen)
        await conn.response.create()
        done = await _until(conn, "response.done", seen)
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_image", "image_url": "data:image/png;base64,AAAA"}],
            }
        )
        error = await _until(conn, "error", seen)
    assert added.item.content[1].image_url == url and added.item.content[1].detail == "low"
    assert done.response.output[0].content[0].text == "I see an image (PNG 64x48). You said: look"
    assert error.error.param == "item.content[0].image_url"


async def test_openai_sdk_completes_audio_turn_with_server_vad(server):
    seen: list = []
    async with _client(server).realtime.connect(model="gpt-realtime") as conn:
        await _until(conn, "session.created", seen)
        await conn.session.update(
            session={
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": "whisper-1"}}},
            }
        )
        await _until(conn, "session.updated", seen)
        samples = speech("what is on the menu today")
        for start in range(0, len(samples), 1200):
            await conn.input_audio_buffer.append(audio=encode_base64(samples[start : start + 1200]))
        done = await _until(conn, "response.done", seen)
    kinds = [e.type for e in seen]
    for kind in (
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.input_audio_transcription.completed",
        "response.output_audio.delta",
        "response.output_audio_transcript.done",
    ):
        assert kind in kinds, kind
    assert done.response.status == "completed"
    assert done.response.output[0].content[0].transcript.startswith("You said: [speech")


async def test_openai_sdk_completes_tool_call_round_trip(server):
    tool = {
        "type": "function",
        "name": "add",
        "description": "Add two numbers.",
        "parameters": {
            "type": "object",
            "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
            "required": ["a", "b"],
        },
    }
    seen: list = []
    async with _client(server).realtime.connect(model="gpt-realtime") as conn:
        await _until(conn, "session.created", seen)
        await conn.session.update(
            session={"type": "realtime", "tools": [tool], "output_modalities": ["text"]}
        )
        await _until(conn, "session.updated", seen)
        await conn.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": 'call add with {"a": 2, "b": 3}'}],
            }
        )
        await conn.response.create()
        call = await _until(conn, "response.function_call_arguments.done", seen)
        await _until(conn, "response.done", seen)
        args = json.loads(call.arguments)
        await conn.conversation.item.create(
            item={
                "type": "function_call_output",
                "call_id": call.call_id,
                "output": str(args["a"] + args["b"]),
            }
        )
        await conn.response.create()
        done = await _until(conn, "response.done", seen)
    assert args == {"a": 2, "b": 3}
    assert done.response.output[0].content[0].text == "add returned 5."


async def test_openai_sdk_sends_current_ga_settings_and_the_server_takes_them(server):
    # Issue 12: a config OpenAI accepts works offline too, sent by the SDK's own client.
    seen: list = []
    session = {
        "type": "realtime",
        "model": "gpt-realtime-2",
        "reasoning": {"effort": "low"},
        "parallel_tool_calls": False,
        "tools": [
            {"type": "mcp", "server_label": "docs", "server_url": "http://127.0.0.1:9/mcp"},
        ],
        "tool_choice": {"type": "mcp", "server_label": "docs"},
        "audio": {
            "input": {
                "noise_reduction": {"type": "far_field", "strength": 0.4},
                "transcription": {
                    "model": "gpt-live-transcribe",
                    "languages": ["fr", "en"],
                    "keywords": ["Jupyter"],
                },
            },
            "output": {"voice": {"id": "voice_1234"}},
        },
    }
    async with _client(server).realtime.connect(model="gpt-realtime-2") as conn:
        await _until(conn, "session.created", seen)
        await conn.session.update(session=session)
        updated = await _until(conn, "session.updated", seen)
        await conn.response.create(response={"reasoning": {"effort": "high"}})
        done = await _until(conn, "response.done", seen)
    # the only error: the MCP server at port 9 does not exist (listing it fails, named)
    errors = [e.error for e in seen if e.type == "error"]
    assert [e.code for e in errors] == ["mcp_list_tools_failed"], errors
    assert "'docs'" in errors[0].message
    assert updated.session.reasoning.effort == "low"
    assert updated.session.audio.input.noise_reduction.strength == 0.4
    assert updated.session.audio.input.transcription.languages == ["fr", "en"]
    assert updated.session.audio.output.voice.id == "voice_1234"
    assert updated.session.tool_choice.server_label == "docs"
    assert done.response.status == "completed"
    assert done.response.audio.output.voice == "voice_1234"


async def test_openai_sdk_runs_out_of_band_response_beside_in_band_audio():
    from tests.sdk_models import sdk_errors

    seen: list = []
    async with LocalRealtimeServer(
        speed=2.0, synthesizer=lambda text: formant_speech(text).copy()
    ) as paced:
        async with _client(paced).realtime.connect(model="gpt-realtime") as conn:
            await _until(conn, "session.created", seen)
            await conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "tell me about the weather"}],
                }
            )
            added = await _until(conn, "conversation.item.added", seen)
            await conn.response.create()
            await _until(conn, "response.output_audio.delta", seen)
            in_band = next(e for e in seen if e.type == "response.created").response.id
            await conn.response.create(
                response={
                    "conversation": "none",
                    "output_modalities": ["text"],
                    "instructions": "Summarize the conversation in one line.",
                    "metadata": {"purpose": "summary"},
                    "input": [{"type": "item_reference", "id": added.item.id}],
                }
            )
            first_done = await _until(conn, "response.done", seen)
            second_done = await _until(conn, "response.done", seen)
    assert first_done.response.id != in_band  # the summary did not wait for the audio
    assert first_done.response.metadata == {"purpose": "summary"}
    assert first_done.response.conversation_id is None
    assert first_done.response.output[0].content[0].text == "You said: tell me about the weather"
    assert second_done.response.id == in_band and second_done.response.status == "completed"
    oob_items = {i.id for i in first_done.response.output}
    announced = {e.item.id for e in seen if e.type == "conversation.item.added"}
    assert not oob_items & announced
    assert [p for e in seen for p in sdk_errors(e.to_dict())] == []
