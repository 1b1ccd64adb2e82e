"""The event catalogues and the alias table, checked against OpenAI's schemas."""

from __future__ import annotations

import pytest

from realtime_widget.protocol import (
    BETA_ONLY_SERVER_EVENTS,
    BETA_TO_GA_SERVER_EVENTS,
    CLIENT_EVENTS,
    GA_ONLY_SERVER_EVENTS,
    GA_TO_BETA_SERVER_EVENTS,
    SERVER_EVENTS,
    check_dialect,
)
from realtime_widget.protocol.catalogue import TRANSCRIPTION_SESSION_EVENTS
from realtime_widget.testing.schema import load_spec


def _schema_types(dialect: str, prefix: str) -> set[str]:
    types = set()
    for name, schema in load_spec(dialect)["components"]["schemas"].items():
        if name.startswith(prefix) and name != prefix:
            enum = schema["properties"]["type"]["enum"]
            assert schema["x-oaiMeta"]["name"] == enum[0]
            types.update(enum)
    return types


def _catalogued(table: dict, dialect: str) -> frozenset[str]:
    # The GA schema is generated from the SDK, which no longer types transcription_session.*.
    return table[dialect] - (TRANSCRIPTION_SESSION_EVENTS if dialect == "ga" else frozenset())


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_catalogue_lists_exactly_the_client_events_of_the_schema(dialect):
    assert _schema_types(dialect, "RealtimeClientEvent") == _catalogued(CLIENT_EVENTS, dialect)


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_catalogue_lists_exactly_the_server_events_of_the_schema(dialect):
    assert _schema_types(dialect, "RealtimeServerEvent") == _catalogued(SERVER_EVENTS, dialect)


def test_catalogue_accepts_the_ga_only_server_events_design_names():
    design = {
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.dtmf_event_received",
        "conversation.item.input_audio_transcription.segment",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "mcp_list_tools.failed",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
        "conversation.item.added",
        "conversation.item.done",
    }
    assert design <= SERVER_EVENTS["ga"]


def test_alias_table_maps_every_beta_only_server_event_to_a_ga_only_one():
    assert set(BETA_TO_GA_SERVER_EVENTS) == BETA_ONLY_SERVER_EVENTS
    assert set(BETA_TO_GA_SERVER_EVENTS.values()) <= GA_ONLY_SERVER_EVENTS
    assert SERVER_EVENTS["beta"] - SERVER_EVENTS["ga"] == BETA_ONLY_SERVER_EVENTS


def test_alias_table_inverse_sends_item_added_to_item_created():
    assert GA_TO_BETA_SERVER_EVENTS["conversation.item.added"] == "conversation.item.created"
    assert "conversation.item.done" not in GA_TO_BETA_SERVER_EVENTS
    assert set(GA_TO_BETA_SERVER_EVENTS.values()) <= SERVER_EVENTS["beta"]


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_client_and_server_event_names_never_overlap(dialect):
    assert not CLIENT_EVENTS[dialect] & SERVER_EVENTS[dialect]


def test_check_dialect_rejects_an_unknown_dialect_naming_the_allowed_ones():
    assert check_dialect("beta") == "beta"
    with pytest.raises(ValueError, match=r"'ga'.*'beta'"):
        check_dialect("v1")
