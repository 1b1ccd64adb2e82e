"""realtime_widget.testing.schema: events against OpenAI's schemas, readable errors."""

from __future__ import annotations

import json
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_widget.protocol import CLIENT_EVENTS, SERVER_EVENTS
from realtime_widget.protocol.catalogue import TRANSCRIPTION_SESSION_EVENTS
from realtime_widget.testing.schema import (
    SPEC_FILES,
    SPEC_PATCHES,
    SchemaViolation,
    event_schema_names,
    load_spec,
    schema_errors,
    validate_event,
)
from tests.protocol.spec_examples import examples

DELTA = {
    "event_id": "event_1",
    "type": "response.output_audio.delta",
    "response_id": "resp_1",
    "item_id": "item_1",
    "output_index": 0,
    "content_index": 0,
    "delta": "AAAA",
}


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_schema_map_covers_every_catalogued_event(dialect):
    catalogued = CLIENT_EVENTS[dialect] | SERVER_EVENTS[dialect]
    if dialect == "ga":  # the GA schema comes from the SDK, which no longer types these
        catalogued -= TRANSCRIPTION_SESSION_EVENTS
    assert set(event_schema_names(dialect)) == catalogued


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_validator_accepts_most_of_openais_own_examples(dialect):
    # The examples are OpenAI's; a few contradict their own schema (named here), the rest pass.
    known_bad = {
        "ga": {"conversation.item.retrieved", "response.output_item.done"},
        "beta": {"transcription_session.updated"},
    }[dialect]
    failing = {t for t, ev in examples(dialect).items() if schema_errors(ev, dialect)}
    assert failing == known_bad


def test_validator_accepts_a_conforming_event_strictly():
    validate_event(DELTA, "ga", strict=True)


def test_validator_rejects_an_unknown_type_naming_it():
    with pytest.raises(SchemaViolation, match=r"'response.nope' \(ga\): unknown event type"):
        validate_event({"type": "response.nope"}, "ga")


def test_validator_hints_that_a_beta_name_needs_converting_for_ga():
    (message,) = schema_errors({**DELTA, "type": "response.audio.delta"}, "ga")
    assert "beta event type" in message


def test_validator_reports_event_type_json_path_and_problem():
    event = {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_txt", "text": "hi"}],
        },
    }
    (message,) = schema_errors(event, "ga")
    assert message.startswith("conversation.item.create (ga): at $.item.content[0].type: ")
    assert "'input_txt' is not one of" in message


def test_validator_reports_a_missing_required_field():
    event = {k: v for k, v in DELTA.items() if k != "delta"}
    assert schema_errors(event, "ga") == [
        "response.output_audio.delta (ga): at $: 'delta' is a required property"
    ]


def test_validator_explains_the_union_branch_the_event_aimed_at():
    event = {
        "type": "session.update",
        "session": {
            "type": "realtime",
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
        },
    }
    assert schema_errors(event, "ga") == [
        "session.update (ga): at $.session.audio.input.format.rate: 16000 is not one of [24000]"
    ]


def test_strict_validation_rejects_unknown_properties_at_any_depth_lenient_accepts_them():
    event = {
        "type": "conversation.item.create",
        "item": {
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hi", "colour": "red"}],
        },
        "extra": 1,
    }
    assert schema_errors(event, "ga") == []
    errors = schema_errors(event, "ga", strict=True)
    assert len(errors) == 2
    assert any("$.item.content[0]" in e and "'colour' was unexpected" in e for e in errors)
    assert any("at $:" in e and "'extra' was unexpected" in e for e in errors)


def test_optional_property_may_be_null_but_a_required_one_may_not():
    committed = {"event_id": "e", "type": "input_audio_buffer.committed", "item_id": "i"}
    assert schema_errors({**committed, "previous_item_id": None}, "ga", strict=True) == []
    assert schema_errors({**committed, "item_id": None}, "ga")


def test_openapi_nullable_allows_null():
    # GA `tracing` is declared `nullable: true` (OpenAPI 3.0 style inside a 3.1 document).
    event = {"type": "session.update", "session": {"type": "realtime", "tracing": None}}
    assert schema_errors(event, "ga", strict=True) == []


def test_validate_event_raises_a_value_error_subclass_listing_every_problem():
    with pytest.raises(ValueError) as info:
        validate_event({"type": "conversation.item.truncate"}, "beta")
    assert isinstance(info.value, SchemaViolation)
    for field in ("item_id", "content_index", "audio_end_ms"):
        assert field in str(info.value)


@pytest.mark.parametrize("event", [{"type": ["x"]}, {"type": None}, {}])
def test_validator_reports_a_missing_or_non_string_type(event):
    (message,) = schema_errors(event, "beta")
    assert "unknown event type" in message


@pytest.mark.parametrize("event", [None, "text", 3, ["type"]])
def test_validator_reports_a_non_object_event(event):
    (message,) = schema_errors(event, "ga")
    assert "must be a JSON object" in message


def test_spec_files_ship_inside_the_package_with_their_provenance():
    for dialect, name in SPEC_FILES.items():
        raw = json.loads(
            resources.files("realtime_widget.testing").joinpath("spec", name).read_text("utf-8")
        )
        source = raw["x-source"]
        if dialect == "ga":  # generated from the SDK; OpenAI's examples carried over
            assert source["repository"] == "openai/openai-python"
            assert source["package"].startswith("openai==") and "Apache" in source["license"]
            source = source["examples"]
        assert source["repository"] == "openai/openai-openapi"
        assert "MIT" in source["license"]
        assert load_spec(dialect)["x-source"] == raw["x-source"]


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_every_spec_patch_points_at_an_existing_node_and_says_why(dialect):
    name = SPEC_FILES[dialect]
    raw = json.loads(
        resources.files("realtime_widget.testing").joinpath("spec", name).read_text("utf-8")
    )
    for pointer, op, _value, why in SPEC_PATCHES[dialect]:
        node = raw
        for part in pointer.strip("/").split("/"):
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert op in ("extend", "merge", "set")
        assert len(why) > 20


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(sorted(event_schema_names("ga"))) | JSON,
    st.dictionaries(st.sampled_from(["item", "session", "response", "part", "delta"]), JSON),
    st.sampled_from(["ga", "beta"]),
    st.booleans(),
)
def test_validator_reports_rather_than_raises_on_garbage(etype, rest, dialect, strict):
    errors = schema_errors({**rest, "type": etype}, dialect, strict=strict)
    assert isinstance(errors, list)
    assert all(isinstance(e, str) for e in errors)
