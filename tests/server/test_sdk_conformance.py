"""The embedded server against the openai SDK's GA types (issue 12 point 3, DESIGN §6).

The installed SDK is the source of truth for what OpenAI serves now. For every client event type
the SDK can send, samples covering every field, union branch and literal of its TypedDict
(``tests/sdk_models.py``) go to a fresh session: each must be accepted (no ``error``) and its
response run to the end. Every event the server emits on the way validates strictly against the
SDK's model of its type and the JSON schema (``tests/server/checked.py`` does this for every
server test). A field or event the SDK adds then fails here with a message naming it.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from realtime_widget.protocol import CLIENT_EVENTS, SERVER_EVENTS
from realtime_widget.server.speech import synthesize
from tests.helpers import require
from tests.server.driver import StateDriver

require(importlib.util.find_spec("openai") is not None, "the openai package (test extra)")

from tests.sdk_models import (  # noqa: E402 - needs openai
    client_event_params,
    covering_samples,
    field_paths,
    sdk_errors,
    server_event_models,
)

SEED_ITEMS = [
    {
        "id": "item_user",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "What is the weather in Paris?"}],
    },
    {
        "id": "item_call",
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    },
    {
        "id": "mcpr_1",
        "type": "mcp_approval_request",
        "server_label": "docs",
        "name": "search",
        "arguments": '{"q": "weather"}',
    },
]
"""What every sample's session holds first: the ids ``FIELD_VALUES`` refers to."""

LATER: dict[tuple[str, str], tuple[str, str]] = {}
"""(event type, ``session.type``) the server still refuses on purpose: (param it names, why)."""


def _finish(d: StateDriver) -> None:
    """Run the active response to its end, synthesizing with the response's voice as app.py does."""
    while d.state.response_active:
        request = d.state.audio_request
        if request is not None:
            text, voice = request
            assert isinstance(voice, str), f"the synthesizer got voice {voice!r}"
            d.state.provide_audio(synthesize(text, voice))
        step = d.state.next_output()
        if step is None:
            break
        d._keep(step.events)  # validated like everything the driver sees (both oracles)


def _session(etype: str) -> tuple[StateDriver, dict]:
    """A seeded session ready for ``etype``, and the values its samples must use."""
    d = StateDriver()
    for item in SEED_ITEMS:
        assert _errors(d.send({"type": "conversation.item.create", "item": item})) == []
    values: dict = {}
    if etype == "input_audio_buffer.commit":
        d.send({"type": "input_audio_buffer.append", "audio": "A" * 6400})  # 100 ms
    elif etype == "response.cancel":
        created = d.send({"type": "response.create"})
        values["response_id"] = [created[0]["response"]["id"]]
    elif etype == "conversation.item.truncate":
        d.send({"type": "response.create"})
        _finish(d)
        (item,) = [e["item"] for e in d.events if e["type"] == "response.output_item.done"]
        values["item_id"] = [item["id"]]
    return d, values


def _errors(events: list[dict]) -> list[dict]:
    return [e["error"] for e in events if e["type"] == "error"]


def _samples(etype: str) -> list[dict]:
    """The covering samples of ``etype``, with the ids a fresh ``_session(etype)`` provides."""
    return covering_samples(client_event_params()[etype], _session(etype)[1])


def test_sdk_client_events_are_the_catalogued_ones():
    # transcription_session.update is in OpenAI's spec but not in the SDK's GA union.
    sdk = set(client_event_params())
    assert not sdk - CLIENT_EVENTS["ga"], (
        f"client events the catalogue lacks: {sdk - CLIENT_EVENTS['ga']}"
    )


def test_every_sdk_server_event_type_is_in_the_catalogue():
    missing = set(server_event_models()) - SERVER_EVENTS["ga"]
    assert not missing, (
        f"server events the SDK defines and realtime_widget.protocol lacks: {missing}"
    )


@pytest.mark.parametrize("etype", sorted(client_event_params()))
def test_server_accepts_every_field_the_sdk_can_send(etype):
    refused = []
    for sample in _samples(etype):
        d, _ = _session(etype)  # a fresh session each: ids are deterministic, so they match
        out = d.send(sample)  # the driver checks every emitted event against both oracles
        later = LATER.get((etype, (sample.get("session") or {}).get("type")))
        if later is not None:
            (error,) = _errors(out)
            assert error["param"] == later[0], error
            continue
        for error in _errors(out):
            refused.append(f"{error['param']}: {error['message']}\n  sample: {json.dumps(sample)}")
        _finish(d)
    assert not refused, f"{etype}: the server refuses what the SDK sends:\n" + "\n".join(refused)


@pytest.mark.parametrize("etype", sorted(client_event_params()))
def test_samples_are_events_the_sdks_own_client_models_parse(etype):
    # The samples stand for what the SDK can send: its pydantic client-event models agree.
    from openai.types.realtime import RealtimeClientEvent
    from pydantic import TypeAdapter

    adapter = TypeAdapter(RealtimeClientEvent)
    samples = _samples(etype)
    assert samples
    for sample in samples:
        assert adapter.validate_python(sample).type == etype


def test_samples_cover_each_literal_of_the_sdk_types():
    session_samples = _samples("session.update")
    efforts = {s["session"].get("reasoning", {}).get("effort") for s in session_samples}
    assert efforts >= {"minimal", "low", "medium", "high", "xhigh"}
    tool_types = {t["type"] for s in session_samples for t in s["session"].get("tools", [])}
    assert tool_types == {"function", "mcp"}
    paths = set().union(*(field_paths(s) for s in session_samples))
    for path in (
        "session.audio.input.noise_reduction.strength",
        "session.audio.input.transcription.languages[]",
        "session.audio.output.voice.id",
        "session.tool_choice.server_label",
    ):
        assert path in paths


def test_sdk_oracle_names_a_field_the_sdk_does_not_define():
    event = {"type": "conversation.item.deleted", "event_id": "e", "item_id": "i", "colour": 1}
    assert sdk_errors(event) == [
        "conversation.item.deleted: at $.colour: not a field of the SDK's "
        "ConversationItemDeletedEvent"
    ]
    assert "SDK defines no server event" in sdk_errors({"type": "response.nope"})[0]
    (missing,) = sdk_errors({"type": "conversation.item.deleted", "event_id": "e"})
    assert "item_id" in missing
