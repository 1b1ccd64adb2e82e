"""Client-event and item builders, and ids: every built event conforms strictly to the schema."""

from __future__ import annotations

import os
import re
import string

import pytest

from realtime_widget.protocol import (
    CLIENT_EVENTS,
    assistant_text_item,
    conversation_item_create,
    conversation_item_delete,
    conversation_item_retrieve,
    conversation_item_truncate,
    function_call_item,
    function_call_output_item,
    generate_id,
    input_audio_buffer_append,
    input_audio_buffer_clear,
    input_audio_buffer_commit,
    output_audio_buffer_clear,
    response_cancel,
    response_create,
    session_update,
    system_text_item,
    transcription_session_update,
    user_audio_item,
    user_text_item,
)
from realtime_widget.protocol.catalogue import TRANSCRIPTION_SESSION_EVENTS
from realtime_widget.testing.schema import schema_errors


def _built(dialect: str) -> list[dict]:
    items = [
        user_text_item("hi"),
        user_text_item("hi", item_id="item_1"),
        user_audio_item("AAAA"),
        user_audio_item("AAAA", transcript="hi", item_id="item_2"),
        system_text_item("be brief"),
        assistant_text_item("hello", dialect),
        assistant_text_item("hello", "ga"),  # GA-shaped input converts for beta
        function_call_item("call_1", "add", '{"a": 1}'),
        function_call_output_item("call_1", "2", item_id="item_3"),
    ]
    return [
        session_update({"voice": "alloy", "modalities": ["text", "audio"]}, dialect),
        session_update(
            {"audio": {"input": {"format": "g711_alaw"}}, "tool_choice": "none"}, dialect
        ),
        transcription_session_update(
            {"input_audio_format": "pcm16", "input_audio_transcription": {"model": "whisper-1"}}
        ),
        input_audio_buffer_append("AAAA"),
        input_audio_buffer_commit(),
        input_audio_buffer_clear(),
        output_audio_buffer_clear(),
        *(conversation_item_create(item, dialect=dialect) for item in items),
        conversation_item_create(user_text_item("x"), previous_item_id="root", dialect=dialect),
        conversation_item_retrieve("item_1"),
        conversation_item_truncate("item_1", 0, 1500),
        conversation_item_delete("item_1"),
        response_create(dialect=dialect),
        response_create({"instructions": "Say hi.", "modalities": ["text"]}, dialect),
        response_create(
            {
                "output_modalities": ["audio"],
                "voice": "ash",
                "output_audio_format": "pcm16",
                "conversation": "none",
                "metadata": {"topic": "x"},
                "tool_choice": "auto",
                "tools": [],
                "max_response_output_tokens": 100,
                "input": [user_text_item("q"), assistant_text_item("a", "beta")],
            },
            dialect,
        ),
        response_cancel(),
        response_cancel("resp_1"),
    ]


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_every_built_event_conforms_strictly_to_the_schema(dialect):
    for event in _built(dialect):
        if dialect == "ga" and event["type"] in TRANSCRIPTION_SESSION_EVENTS:
            continue  # not in the SDK's GA types, so not in the GA schema (catalogue.py)
        assert schema_errors(event, dialect, strict=True) == [], event


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_builders_cover_every_client_event_type(dialect):
    assert {event["type"] for event in _built(dialect)} == CLIENT_EVENTS[dialect]


def test_each_built_event_gets_a_fresh_event_id():
    ids = [event["event_id"] for event in _built("ga")]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith("evt_") for i in ids)


def test_item_builders_produce_the_wire_shapes():
    assert user_text_item("hi") == {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "hi"}],
    }
    assert assistant_text_item("ok") == {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": "ok"}],
    }
    assert assistant_text_item("ok", "beta")["content"] == [{"type": "text", "text": "ok"}]
    assert function_call_output_item("call_1", "42") == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": "42",
    }
    assert user_audio_item("AAAA", item_id="i")["id"] == "i"


def test_conversation_item_create_converts_assistant_content_for_the_dialect():
    beta = conversation_item_create(assistant_text_item("ok", "ga"), dialect="beta")
    assert beta["item"]["content"][0]["type"] == "text"
    ga = conversation_item_create(assistant_text_item("ok", "beta"))
    assert ga["item"]["content"][0]["type"] == "output_text"
    assert "previous_item_id" not in ga


def test_response_create_reshapes_settings_for_the_dialect():
    ga = response_create({"modalities": ["text", "audio"], "voice": "ash"})
    assert ga["response"] == {"output_modalities": ["audio"], "audio": {"output": {"voice": "ash"}}}
    beta = response_create({"output_modalities": ["text"], "max_output_tokens": 5}, "beta")
    assert beta["response"] == {"modalities": ["text"], "max_response_output_tokens": 5}
    assert "response" not in response_create()


def test_session_update_rejects_what_build_session_rejects():
    with pytest.raises(ValueError, match="did you mean 'voice'"):
        session_update({"voise": "ash"})


def test_generate_id_has_the_prefix_length_and_url_safe_alphabet():
    new = generate_id("item_")
    assert re.fullmatch(r"item_[A-Za-z0-9]{21}", new)
    assert len(generate_id("", 8)) == 8
    assert set(generate_id("x", 200)[1:]) <= set(string.ascii_letters + string.digits)


def test_generate_id_does_not_repeat():
    ids = {generate_id("evt_") for _ in range(2000)}
    assert len(ids) == 2000


def test_generate_id_rejects_a_negative_length():
    with pytest.raises(ValueError, match="length must be >= 0"):
        generate_id("evt_", -1)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_generate_id_streams_differ_between_a_process_and_its_forked_child():
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its next id and leave at once
        os.write(write_end, generate_id("").encode())
        os._exit(0)
    os.close(write_end)
    parent_id = generate_id("")
    with os.fdopen(read_end) as pipe:
        child_id = pipe.read()
    os.waitpid(pid, 0)
    assert len(child_id) == 21
    assert child_id != parent_id
