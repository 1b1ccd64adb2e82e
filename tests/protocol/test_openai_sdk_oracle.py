"""A second, independent oracle (DESIGN §6): the openai SDK's pydantic models of every event."""

from __future__ import annotations

import importlib.util

import pytest

from realtime_widget.protocol import SERVER_EVENTS, normalize_server_event, to_beta_server_event
from tests.helpers import require
from tests.protocol.spec_examples import examples
from tests.protocol.test_builders import _built


def _adapters():
    require(importlib.util.find_spec("openai") is not None, "the openai package (test extra)")
    from openai.types.beta.realtime import RealtimeClientEvent as BetaClient
    from openai.types.beta.realtime import RealtimeServerEvent as BetaServer
    from openai.types.realtime import RealtimeClientEvent as GAClient
    from openai.types.realtime import RealtimeServerEvent as GAServer
    from pydantic import TypeAdapter

    return {
        "ga": TypeAdapter(GAClient),
        "beta": TypeAdapter(BetaClient),
        "beta-server": TypeAdapter(BetaServer),
        "ga-server": TypeAdapter(GAServer),
    }


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_every_built_client_event_parses_with_the_openai_sdk(dialect):
    adapter = _adapters()[dialect]
    for event in _built(dialect):
        if dialect == "ga" and event["type"] == "transcription_session.update":
            continue  # the SDK's GA union has no transcription_session.update (the spec has)
        parsed = adapter.validate_python(event)
        assert parsed.type == event["type"]


def test_ga_examples_converted_to_beta_parse_with_the_sdks_beta_models():
    adapter = _adapters()["beta-server"]
    checked = 0
    for etype, event in examples("ga").items():
        beta = to_beta_server_event(normalize_server_event(event))
        if etype not in SERVER_EVENTS["ga"] or beta is None or etype.startswith("transcription"):
            continue
        assert adapter.validate_python(beta).type == beta["type"], etype
        checked += 1
    assert checked >= 30


def test_beta_examples_normalized_to_ga_parse_with_the_sdks_ga_models():
    adapter = _adapters()["ga-server"]
    skip = {
        # The SDK (like the GA schema) still names content *parts* text/audio; normalise
        # renames them to output_* on purpose (see server_events.py).
        "response.content_part.added",
        "response.content_part.done",
        # GA requires fields a beta server never sent; a conversion cannot invent them.
        "response.function_call_arguments.done",
        "conversation.item.input_audio_transcription.completed",
    }
    checked = 0
    for etype, event in examples("beta").items():
        if etype not in SERVER_EVENTS["beta"] or etype in skip or etype.startswith("transcr"):
            continue
        ga = normalize_server_event(event)
        assert adapter.validate_python(ga).type == ga["type"], etype
        checked += 1
    assert checked >= 25
