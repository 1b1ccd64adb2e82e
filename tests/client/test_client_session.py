"""Session settings of the client (issue 12): current default models, deprecated ones warn."""

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
