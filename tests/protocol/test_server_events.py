"""normalize_server_event (beta -> GA) and to_beta_server_event (GA -> beta)."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_widget.protocol import (
    GA_ONLY_SERVER_EVENTS,
    SERVER_EVENTS,
    normalize_server_event,
    to_beta_server_event,
)
from realtime_widget.testing.schema import schema_errors
from tests.protocol.spec_examples import examples

# Written out independently of the alias table (DESIGN §6), so a typo there fails here.
BETA_TO_GA = [
    ("response.text.delta", "response.output_text.delta"),
    ("response.text.done", "response.output_text.done"),
    ("response.audio.delta", "response.output_audio.delta"),
    ("response.audio.done", "response.output_audio.done"),
    ("response.audio_transcript.delta", "response.output_audio_transcript.delta"),
    ("response.audio_transcript.done", "response.output_audio_transcript.done"),
]
ITEM_EVENTS = [
    "conversation.item.created",
    "conversation.item.added",
    "conversation.item.done",
    "conversation.item.retrieved",
    "response.output_item.added",
    "response.output_item.done",
]


def _assistant(*types: str) -> dict:
    return {
        "id": "item_1",
        "type": "message",
        "role": "assistant",
        "content": [{"type": t, "transcript": ""} for t in types],
    }


@pytest.mark.parametrize(("beta", "ga"), BETA_TO_GA)
def test_normalize_renames_every_beta_only_event(beta, ga):
    event = {"type": beta, "event_id": "e", "item_id": "i", "delta": "x"}
    assert normalize_server_event(event) == {**event, "type": ga}


@pytest.mark.parametrize(("beta", "ga"), BETA_TO_GA)
def test_to_beta_renames_every_ga_event_back(beta, ga):
    event = {"type": ga, "event_id": "e", "item_id": "i", "delta": "x"}
    assert to_beta_server_event(event) == {**event, "type": beta}


@pytest.mark.parametrize("etype", ITEM_EVENTS)
def test_normalize_renames_assistant_content_types_inside_items(etype):
    event = {"type": etype, "event_id": "e", "item": _assistant("text", "audio")}
    out = normalize_server_event(event)
    assert [p["type"] for p in out["item"]["content"]] == ["output_text", "output_audio"]
    assert out["type"] == etype  # conversation.item.created keeps its name in GA


@pytest.mark.parametrize("etype", ITEM_EVENTS)
def test_to_beta_renames_assistant_content_types_back(etype):
    event = {"type": etype, "event_id": "e", "item": _assistant("output_text", "output_audio")}
    out = to_beta_server_event(event)
    if etype == "conversation.item.done":
        assert out is None
        return
    assert [p["type"] for p in out["item"]["content"]] == ["text", "audio"]


def test_normalize_keeps_user_content_types():
    item = {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "hi"},
            {"type": "input_audio", "transcript": None},
        ],
    }
    event = {"type": "conversation.item.created", "item": item}
    assert normalize_server_event(event) is event
    assert to_beta_server_event(event) is event


@pytest.mark.parametrize("etype", ["response.content_part.added", "response.content_part.done"])
def test_normalize_renames_content_part_types_both_ways(etype):
    beta = {"type": etype, "item_id": "i", "part": {"type": "audio", "transcript": ""}}
    ga = {"type": etype, "item_id": "i", "part": {"type": "output_audio", "transcript": ""}}
    assert normalize_server_event(beta) == ga
    assert to_beta_server_event(ga) == beta


def test_normalize_renames_items_in_response_output_and_nests_response_settings():
    beta = {
        "type": "response.done",
        "response": {
            "id": "resp_1",
            "status": "completed",
            "output": [_assistant("audio"), {"type": "function_call", "name": "f"}],
            "modalities": ["text", "audio"],
            "voice": "alloy",
            "output_audio_format": "pcm16",
            "temperature": 0.8,
            "max_output_tokens": "inf",
        },
    }
    assert normalize_server_event(beta) == {
        "type": "response.done",
        "response": {
            "id": "resp_1",
            "status": "completed",
            "output": [_assistant("output_audio"), {"type": "function_call", "name": "f"}],
            "output_modalities": ["audio"],
            "audio": {"output": {"voice": "alloy", "format": {"type": "audio/pcm", "rate": 24000}}},
            "max_output_tokens": "inf",
        },
    }


def test_normalize_nests_the_flat_session_of_session_created():
    beta = {
        "type": "session.created",
        "session": {
            "id": "sess_1",
            "object": "realtime.session",
            "modalities": ["text"],
            "voice": "sage",
            "input_audio_format": "g711_ulaw",
            "turn_detection": None,
            "temperature": 0.8,
            "max_response_output_tokens": 200,
        },
    }
    assert normalize_server_event(beta)["session"] == {
        "type": "realtime",
        "id": "sess_1",
        "object": "realtime.session",
        "output_modalities": ["text"],
        "audio": {
            "input": {"format": {"type": "audio/pcmu"}, "turn_detection": None},
            "output": {"voice": "sage"},
        },
        "max_output_tokens": 200,
    }


def test_to_beta_sends_item_added_as_item_created():
    event = {"type": "conversation.item.added", "previous_item_id": None, "item": _assistant()}
    assert to_beta_server_event(event)["type"] == "conversation.item.created"


@pytest.mark.parametrize(
    "etype",
    sorted(GA_ONLY_SERVER_EVENTS - {"conversation.item.added", *(ga for _, ga in BETA_TO_GA)}),
)
def test_to_beta_returns_none_for_a_ga_event_without_beta_twin(etype):
    assert to_beta_server_event({"type": etype, "event_id": "e"}) is None


def test_normalize_returns_a_ga_or_unknown_event_as_the_same_object():
    unknown = {"type": "response.future_thing", "text": "audio", "part": {"type": "audio"}}
    assert normalize_server_event(unknown) is unknown
    assert to_beta_server_event(unknown) is unknown
    # Some of OpenAI's GA examples still use beta content names (which normalise renames).
    beta_named = {
        "conversation.item.retrieved",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
    }
    for etype, event in examples("ga").items():
        if etype in SERVER_EVENTS["ga"] and etype not in beta_named:
            assert normalize_server_event(event) is event, etype
        ga = normalize_server_event(event)
        assert normalize_server_event(ga) is ga, etype


def test_conversions_never_modify_their_input():
    for dialect, convert in (("beta", normalize_server_event), ("ga", to_beta_server_event)):
        for event in examples(dialect).values():
            before = copy.deepcopy(event)
            convert(event)
            assert event == before


def test_to_beta_undoes_normalize_on_every_beta_example():
    lossy = {"response.created", "response.done", "session.created", "session.updated"}
    for etype, event in examples("beta").items():
        if etype in SERVER_EVENTS["beta"] and etype not in lossy:
            assert to_beta_server_event(normalize_server_event(event)) == event, etype


def test_round_trip_through_ga_only_drops_beta_only_settings():
    event = examples("beta")["session.created"]
    back = to_beta_server_event(normalize_server_event(event))
    assert back["session"] == {k: v for k, v in event["session"].items() if k != "temperature"}


def test_normalize_undoes_to_beta_on_every_ga_example():
    # Fields beta lacks cannot come back; everything else must.
    lost = {
        "response.function_call_arguments.done": {"name"},
        "conversation.item.input_audio_transcription.completed": {"languages"},
    }
    for etype, example in examples("ga").items():
        if etype not in SERVER_EVENTS["ga"]:
            continue
        event = normalize_server_event(example)
        beta = to_beta_server_event(event)
        if beta is None:
            continue
        back = normalize_server_event(beta)
        if etype in ("session.created", "session.updated"):
            assert back["session"]["audio"]["output"]["voice"] == "marin"
            continue
        expected = {k: v for k, v in event.items() if k not in lost.get(etype, set())}
        if etype == "conversation.item.added":
            expected["type"] = "conversation.item.created"
        assert back == expected, etype


def test_converted_beta_examples_conform_to_the_ga_schema():
    cannot_invent = {"'usage' is a required property", "'name' is a required property"}
    for etype, event in examples("beta").items():
        if etype in SERVER_EVENTS["beta"] and not schema_errors(event, "beta"):
            for error in schema_errors(normalize_server_event(event), "ga"):
                assert any(reason in error for reason in cannot_invent), error


def test_converted_ga_examples_conform_strictly_to_the_beta_schema():
    for etype, event in examples("ga").items():
        ga = normalize_server_event(event)
        beta = to_beta_server_event(ga)
        if etype in SERVER_EVENTS["ga"] and beta is not None and not schema_errors(ga, "ga"):
            errors = schema_errors(beta, "beta", strict=True)
            # OpenAI's examples carry fields their own schemas lack (obfuscation, image_tokens,
            # a content `format`); the conversion itself must add no problem of its own.
            assert all(
                any(x in e for x in ("'obfuscation'", "'image_tokens'", "'format'")) for e in errors
            ), errors


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "item",
        "part",
        "response",
        "session",
        "output",
        "content",
        "role",
        "audio",
        "modalities",
        "voice",
        "type",
        "output_modalities",
    ]
)
EVENT_TYPES = st.sampled_from(sorted(SERVER_EVENTS["ga"] | SERVER_EVENTS["beta"]))
GARBAGE = st.one_of(
    JSON,
    st.builds(
        lambda t, rest: {**rest, "type": t},
        EVENT_TYPES | JSON,
        st.dictionaries(KEYS, JSON | st.dictionaries(KEYS, JSON, max_size=5), max_size=5),
    ),
)


@settings(max_examples=300, deadline=None)
@given(GARBAGE)
def test_server_event_conversions_never_raise_on_garbage(event):
    normalize_server_event(event)
    to_beta_server_event(event)
