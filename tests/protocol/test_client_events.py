"""normalize_client_event (beta -> GA) and to_beta_client_event (GA -> beta)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_widget.protocol import (
    CLIENT_EVENTS,
    normalize_client_event,
    to_beta_client_event,
)
from realtime_widget.testing.schema import schema_errors
from tests.protocol.spec_examples import examples

BETA_UPDATE = {
    "event_id": "evt_1",
    "type": "session.update",
    "session": {
        "modalities": ["text", "audio"],
        "instructions": "Be brief.",
        "voice": "sage",
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "input_audio_transcription": {"model": "whisper-1"},
        "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
        "tools": [],
        "tool_choice": "auto",
        "max_response_output_tokens": "inf",
    },
}
GA_UPDATE = {
    "event_id": "evt_1",
    "type": "session.update",
    "session": {
        "type": "realtime",
        "output_modalities": ["audio"],
        "instructions": "Be brief.",
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "whisper-1"},
                "turn_detection": {"type": "server_vad", "silence_duration_ms": 500},
            },
            "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "sage"},
        },
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
    },
}


def test_normalize_client_event_nests_a_flat_beta_session_update():
    assert normalize_client_event(BETA_UPDATE) == GA_UPDATE


def test_to_beta_client_event_flattens_a_ga_session_update():
    assert to_beta_client_event(GA_UPDATE) == BETA_UPDATE


def test_normalize_client_event_drops_temperature_which_ga_lacks():
    event = {**BETA_UPDATE, "session": {**BETA_UPDATE["session"], "temperature": 0.6}}
    assert normalize_client_event(event) == GA_UPDATE


def test_to_beta_client_event_drops_ga_only_settings_and_mcp_tools():
    mcp = {"type": "mcp", "server_label": "x", "server_url": "https://example.invalid"}
    fn = {"type": "function", "name": "f"}
    session = {**GA_UPDATE["session"], "tracing": "auto", "tools": [fn, mcp]}
    out = to_beta_client_event({**GA_UPDATE, "session": session})
    assert out == {**BETA_UPDATE, "session": {**BETA_UPDATE["session"], "tools": [fn]}}
    assert schema_errors(out, "beta", strict=True) == []


@pytest.mark.parametrize("event", [GA_UPDATE])
def test_a_ga_client_event_normalizes_to_itself(event):
    assert normalize_client_event(event) is event


def test_client_events_convert_assistant_item_content_both_ways():
    beta = {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "text", "text": "ok"}],
        },
    }
    ga = {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "ok"}],
        },
    }
    assert normalize_client_event(beta) == ga
    assert to_beta_client_event(ga) == beta


def test_client_events_reshape_response_create_both_ways():
    beta = {
        "type": "response.create",
        "response": {
            "modalities": ["text"],
            "voice": "ash",
            "output_audio_format": "g711_alaw",
            "max_response_output_tokens": 50,
            "instructions": "x",
            "input": [
                {"type": "message", "role": "assistant", "content": [{"type": "text", "text": "a"}]}
            ],
        },
    }
    ga = {
        "type": "response.create",
        "response": {
            "output_modalities": ["text"],
            "audio": {"output": {"voice": "ash", "format": {"type": "audio/pcma"}}},
            "max_output_tokens": 50,
            "instructions": "x",
            "input": [
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": "a"}],
                }
            ],
        },
    }
    assert normalize_client_event(beta) == ga
    assert to_beta_client_event(ga) == beta
    assert schema_errors(ga, "ga", strict=True) == []
    assert schema_errors(beta, "beta", strict=True) == []


def test_client_events_without_payload_differences_come_back_as_the_same_object():
    for event in (
        {"type": "input_audio_buffer.append", "audio": "AAAA"},
        {"type": "response.cancel"},
        {"type": "future.event", "session": {}},
        {"type": "session.update", "session": {"type": "transcription"}},
    ):
        assert normalize_client_event(event) is event
        assert to_beta_client_event(event) is event


def test_client_conversions_round_trip_openais_examples_without_modifying_them():
    for dialect, there, back in (
        ("beta", normalize_client_event, to_beta_client_event),
        ("ga", to_beta_client_event, normalize_client_event),
    ):
        for etype, event in examples(dialect).items():
            if etype not in CLIENT_EVENTS[dialect] or schema_errors(event, dialect, strict=True):
                continue
            before = copy.deepcopy(event)
            expected = copy.deepcopy(event)
            expected.get("session", {}).pop("temperature", None)  # beta-only: lost via GA
            assert back(there(event)) == expected, etype
            assert event == before


def test_converted_client_examples_conform_strictly_to_the_other_schema():
    for dialect, convert, other in (
        ("beta", normalize_client_event, "ga"),
        ("ga", to_beta_client_event, "beta"),
    ):
        for etype, event in examples(dialect).items():
            # Transcription sessions pass through unconverted (and their VAD settings differ).
            if etype == "transcription_session.update":
                continue
            if etype in CLIENT_EVENTS[dialect] and not schema_errors(event, dialect, strict=True):
                assert schema_errors(convert(event), other, strict=True) == [], etype


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)
KEYS = st.sampled_from(
    [
        "session",
        "response",
        "item",
        "input",
        "tools",
        "audio",
        "voice",
        "modalities",
        "type",
        "role",
        "content",
        "output_modalities",
    ]
)
GARBAGE = st.one_of(
    JSON,
    st.builds(
        lambda t, rest: {**rest, "type": t},
        st.sampled_from(sorted(CLIENT_EVENTS["ga"])) | JSON,
        st.dictionaries(KEYS, JSON | st.dictionaries(KEYS, JSON, max_size=4), max_size=4),
    ),
)


@settings(max_examples=300, deadline=None)
@given(GARBAGE)
def test_client_event_conversions_never_raise_on_garbage(event):
    normalize_client_event(event)
    to_beta_client_event(event)
