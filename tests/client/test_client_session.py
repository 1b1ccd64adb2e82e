"""Session settings of the client (issue 12): current default models, deprecated ones warn;
updates carry only what changed, and a refused one is rolled back without blocking later ones."""

from __future__ import annotations

import warnings

import pytest

from realtime_widget.client import RealtimeClient
from realtime_widget.protocol import (
    DEFAULT_MODEL,
    DEFAULT_TRANSCRIPTION_MODEL,
    DeprecatedModelWarning,
)
from realtime_widget.protocol import models as models_module
from tests.helpers import UNIT


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Forget which models this process already warned about (the warning is once per process)."""
    monkeypatch.setattr(models_module, "_warned", set())


async def connected(make_client, url: str, **options):
    client, probe = make_client(url, **options)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    return client, probe


async def test_client_defaults_to_current_models_on_the_wire(server, make_client):
    client, probe = await connected(make_client, server.url)
    assert client.realtime.model == DEFAULT_MODEL
    assert client.realtime.url.endswith(f"?model={DEFAULT_MODEL}")
    update = probe.sent("session.update")[0]["session"]
    assert update["audio"]["input"]["transcription"] == {"model": DEFAULT_TRANSCRIPTION_MODEL}


def test_client_choosing_a_deprecated_model_warns_once_with_its_shutdown_date(fresh_warnings):
    with pytest.warns(DeprecatedModelWarning, match="'gpt-realtime'.*2027-01-20") as record:
        first = RealtimeClient(model="gpt-realtime", api_key="sk-local-test")
    assert record[0].filename == __file__  # the user's line, not the constructor inside
    assert first.realtime.model == "gpt-realtime"  # still used until OpenAI turns it off
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RealtimeClient(model="gpt-realtime", api_key="sk-local-test")  # once per process


def test_client_choosing_a_deprecated_transcription_model_warns_once(fresh_warnings):
    old = {"input_audio_transcription": {"model": "whisper-1"}}
    with pytest.warns(DeprecatedModelWarning, match="'whisper-1'.*2027-02-26"):
        client = RealtimeClient(old, api_key="sk-local-test")
    with pytest.warns(DeprecatedModelWarning, match="'gpt-4o-transcribe'.*2027-02-26") as record:
        client.update_session(audio={"input": {"transcription": {"model": "gpt-4o-transcribe"}}})
    assert record[0].filename == __file__
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.update_session(input_audio_transcription={"model": "whisper-1"})
    transcription = client.session_config["audio"]["input"]["transcription"]
    assert transcription == {"model": "whisper-1"}


async def test_client_update_session_sends_only_the_settings_that_changed(server, make_client):
    client, probe = await connected(make_client, server.url)
    await probe.received_type("session.updated")
    client.update_session(voice="echo")
    client.update_session(voice="echo")  # no change: nothing sent
    client.update_session(turn_detection={"type": "server_vad", "threshold": 0.6})
    await probe.received_type("session.updated", 3)
    sent = [e["session"] for e in probe.sent("session.update")]
    assert len(sent) == 3 and "tools" in sent[0]  # the first one, on connect, has everything
    assert sent[1:] == [
        {"type": "realtime", "audio": {"output": {"voice": "echo"}}},
        {
            "type": "realtime",
            "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 0.6}}},
        },
    ]
    session = probe.received("session.updated")[-1]["session"]
    assert session["audio"]["output"]["voice"] == "echo"  # merged by the server, not reset
    assert session["audio"]["input"]["turn_detection"]["threshold"] == 0.6
    assert session["audio"]["input"]["transcription"] == {"model": DEFAULT_TRANSCRIPTION_MODEL}


async def test_client_refused_update_is_rolled_back_and_later_updates_go_through(
    server, make_client
):
    client, probe = await connected(make_client, server.url)
    await probe.received_type("session.updated")
    bad = {"model": DEFAULT_TRANSCRIPTION_MODEL, "bogus_option": True}
    client.update_session(audio={"input": {"transcription": bad}})
    assert client.session_config["audio"]["input"]["transcription"] == bad  # until refused
    errors = await probe.until(lambda: probe.of("error"))
    error = errors[0]
    assert error["error"]["param"] == "session.audio.input.transcription.bogus_option"
    assert error["error"]["event_id"] == probe.sent("session.update")[-1]["event_id"]
    assert error["rolled_back"] == ["audio.input.transcription"]
    transcription = client.session_config["audio"]["input"]["transcription"]
    assert transcription == {"model": DEFAULT_TRANSCRIPTION_MODEL}

    def ping() -> str:
        """Ping."""
        return "pong"

    client.update_session(voice="echo")
    client.add_tool(ping)
    await probe.received_type("session.updated", 3)
    assert len(probe.of("error")) == 1  # the refused setting is not sent again
    later = [e["session"] for e in probe.sent("session.update")][-2:]
    assert later == [
        {"type": "realtime", "audio": {"output": {"voice": "echo"}}},
        {"type": "realtime", "tools": [client.tools.definitions()[0]]},
    ]
    session = probe.received("session.updated")[-1]["session"]
    assert session["audio"]["output"]["voice"] == "echo"
    assert [t["name"] for t in session["tools"]] == ["ping"]


async def test_client_rollback_keeps_a_newer_value_sent_after_the_refused_one(server, make_client):
    client, probe = await connected(make_client, server.url)
    await probe.received_type("session.updated")
    client.update_session(tool_choice="bogus", instructions="Be brief.")
    client.update_session(tool_choice="required")  # sent before the refusal arrives
    await probe.received_type("session.updated", 2)
    await probe.until(lambda: probe.of("error"))
    assert probe.of("error")[0]["rolled_back"] == ["instructions"]
    config = client.session_config
    assert config["tool_choice"] == "required" and "instructions" not in config
    assert probe.received("session.updated")[-1]["session"]["tool_choice"] == "required"


async def test_client_refused_settings_on_connect_are_dropped_and_the_rest_sent_again(
    server, make_client
):
    client, probe = await connected(
        make_client, server.url, session_config={"instructions": "Be brief.", "truncation": "x"}
    )
    updated = await probe.received_type("session.updated")
    assert [e["rolled_back"] for e in probe.of("error")] == [["truncation"]]
    assert [e["session"].get("truncation") for e in probe.sent("session.update")] == ["x", None]
    assert updated[0]["session"]["instructions"] == "Be brief."
    assert "truncation" not in client.session_config


async def test_client_in_beta_sends_only_changed_flat_settings(server, make_client):
    client, probe = await connected(make_client, server.url, dialect="beta")
    await probe.received_type("session.updated")
    client.update_session(voice="echo", temperature=0.7)
    await probe.received_type("session.updated", 2)
    assert probe.sent("session.update")[-1]["session"] == {"voice": "echo", "temperature": 0.7}


def test_client_add_tool_refuses_a_name_the_api_refuses():
    client = RealtimeClient(url="ws://127.0.0.1:9/v1/realtime")
    hostile = "x" * 290 + "\x00\u202egetkey"
    with pytest.raises(ValueError, match="1-64 letters, digits"):
        client.add_tool({"name": hostile, "parameters": {"type": "object"}}, lambda args: None)
    assert client.tools.definitions() == []
