"""Settings of the transcribe and translate modes (issue 15): `CaptionSettings`.

The panel's fields are the caption session's own (no voice, model or instructions), applied
through ``session.update`` on the real embedded server (its transcription and translation
sessions): what is checked is the server's ``session.updated``, not the widget's copy. A refused
field is marked and put back; a target language the server will not change mid-session is
applied with a new session (a `FaultProxy` refuses it, as such a server would).
"""

from __future__ import annotations

import asyncio

import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from realtime_widget.protocol.session_kinds import TRANSCRIPTION_MODELS, TRANSLATION_LANGUAGES
from realtime_widget.runtime import get_runtime
from realtime_widget.server._translation import LANGUAGES
from realtime_widget.testing.faults import Fault, FaultProxy
from realtime_widget.widget._caption_settings import (
    caption_field,
    session_settings,
    settings_from_session,
)
from tests.helpers import UNIT
from tests.widget.test_widget import SECRET, wait_until


@pytest.fixture
def server():
    """The embedded server with a key (the widget's key moves to the caption session)."""
    with LocalRealtimeServer(api_key=SECRET) as s:
        yield s


def updates_of(w) -> list[dict]:
    """The server's ``session.updated`` sessions of the widget's caption session, newest last."""
    seen: list[dict] = []
    w.caption_session.on("session.updated", lambda event: seen.append(event["session"]))
    return seen


def connected(w) -> RealtimeWidget:
    wait_until(lambda: w.status == "connected", what="connected")
    wait_until(lambda: w.caption_session.session is not None, what="session.created")
    return w


# ---------------------------------------------------------------------- pure
def test_translation_languages_are_the_embedded_servers():
    assert list(TRANSLATION_LANGUAGES) == list(LANGUAGES)
    assert {code: name for code, (name, _) in LANGUAGES.items()} == TRANSLATION_LANGUAGES


def test_caption_fields_map_refused_params_per_mode():
    assert caption_field("translate", "session.audio.output.language") == "language"
    assert caption_field("transcribe", "session.audio.input.transcription.model") == (
        "transcription_model"
    )
    assert caption_field("transcribe", "session.audio.input.transcription.language") == "language"
    assert caption_field("transcribe", "session.audio.input.turn_detection.threshold") == (
        "turn_detection"
    )
    assert caption_field("translate", "session.audio.input.turn_detection") is None
    assert caption_field("transcribe", None) is None


def test_session_settings_and_back_round_trip_through_a_session_object():
    settings = {
        "transcription_model": "gpt-transcribe",
        "language": "de",
        "prompt": "a lecture",
        "noise_reduction": "far_field",
        "turn_detection": {"type": "server_vad", "threshold": 0.7, "prefix_padding_ms": None},
        "mic_device": "abc",  # the browser's: not a session setting
    }
    keywords = session_settings("transcribe", settings)
    assert keywords == {
        "model": "gpt-transcribe",
        "language": "de",
        "prompt": "a lecture",
        "noise_reduction": "far_field",
        "turn_detection": {"threshold": 0.7},
    }
    translate = session_settings("translate", {"language": "fr", "transcription_model": ""})
    assert translate == {"language": "fr", "transcription_model": None, "noise_reduction": None}
    session = {
        "audio": {
            "output": {"language": "fr"},
            "input": {"transcription": None, "noise_reduction": {"type": "near_field"}},
        }
    }
    assert settings_from_session("translate", session) == {
        "language": "fr",
        "transcription_model": "",
        "noise_reduction": "near_field",
    }


# ---------------------------------------------------------------------- transcribe
def test_transcribe_mode_settings_are_the_transcription_sessions_and_apply_live(server):
    w = connected(RealtimeWidget(url=server.url, api_key=SECRET, mode="transcribe"))
    try:
        assert "voice" not in w.settings and "instructions" not in w.settings
        assert w.settings["transcription_model"] in TRANSCRIPTION_MODELS
        assert w.settings_status["transcription_models"] == list(TRANSCRIPTION_MODELS)
        assert w.settings_status["voices"] == [] and w.settings_status["models"] == []
        updated = updates_of(w)
        w.settings = {
            **w.settings,
            "transcription_model": "gpt-transcribe",
            "language": "de",
            "prompt": "Physics lecture",
            "noise_reduction": "far_field",
            "turn_detection": {"type": "server_vad", "threshold": 0.7, "silence_duration_ms": 800},
        }
        wait_until(lambda: updated, what="the server's session.updated")
        audio_in = updated[-1]["audio"]["input"]
        assert audio_in["transcription"] == {
            "model": "gpt-transcribe",
            "language": "de",
            "prompt": "Physics lecture",
        }
        assert audio_in["noise_reduction"]["type"] == "far_field"
        assert audio_in["turn_detection"]["threshold"] == 0.7
        assert audio_in["turn_detection"]["silence_duration_ms"] == 800
        wait_until(lambda: w.language == "de", what="the header's language follows the session")

        before = len(updated)
        w.settings = {**w.settings, "noise_reduction": ""}  # off: sent as null, not left out
        wait_until(lambda: len(updated) > before, what="the next session.updated")
        assert updated[-1]["audio"]["input"]["noise_reduction"] is None
        assert w.caption_session.settings["noise_reduction"] is None
    finally:
        w.close()


def test_transcribe_mode_refused_field_is_marked_and_put_back(server):
    w = connected(RealtimeWidget(url=server.url, api_key=SECRET, mode="transcribe"))
    try:
        w.settings = {**w.settings, "turn_detection": {"type": "server_vad", "threshold": 5}}
        wait_until(
            lambda: "turn_detection" in w.settings_status["refused"], what="the refusal marked"
        )
        assert "1.0" in w.settings_status["refused"]["turn_detection"]
        wait_until(lambda: w.settings["turn_detection"]["threshold"] == 0.5, what="put back")
        # The session's own settings follow what the server applies: a reconnect reuses them.
        assert w.caption_session.settings["turn_detection"]["threshold"] == 0.5
        assert not [e for e in w.errors if e["code"] == "bad_settings"]
    finally:
        w.close()


def test_transcribe_mode_bad_input_is_reported_and_put_back_not_raised(server):
    w = connected(RealtimeWidget(url=server.url, api_key=SECRET, mode="transcribe"))
    try:
        model = w.settings["transcription_model"]
        w.settings = {**w.settings, "transcription_model": "whisper-9"}
        wait_until(lambda: w.settings["transcription_model"] == model, what="put back")
        assert "'whisper-1'" in w.settings_status["refused"]["transcription_model"]
        [error] = wait_until(lambda: [e for e in w.errors if e["code"] == "bad_settings"])
        assert "whisper-9" in error["message"] and "try again" in error["message"]
    finally:
        w.close()


# ---------------------------------------------------------------------- translate
def test_translate_mode_changes_the_target_language_mid_session(server):
    w = connected(RealtimeWidget(url=server.url, api_key=SECRET, mode="translate", language="fr"))
    try:
        status = w.settings_status
        assert ["de", "German"] in status["languages"] and len(status["languages"]) == 16
        assert set(w.settings) == {"language", "transcription_model", "noise_reduction"}
        updated = updates_of(w)
        api = w.caption_session.realtime
        w.settings = {**w.settings, "language": "de", "transcription_model": ""}
        wait_until(
            lambda: updated and updated[-1]["audio"]["output"]["language"] == "de",
            what="the server translating into German",
        )
        assert updated[-1]["audio"]["input"]["transcription"] is None  # source transcript off
        wait_until(lambda: w.language == "de", what="the header's language")
        assert w.caption_session.realtime is api and w.caption_session.is_connected
        assert "language" not in w.settings_status["notes"]  # applied in place: no notice
    finally:
        w.close()


@pytest.fixture
def refusing_proxy(server):
    """A proxy in front of the translation endpoint refusing the first change to German, as a
    server that fixes the target language per session would (its session.updated swallowed, an
    ``invalid_value`` error about ``session.audio.output.language`` sent instead)."""
    runtime = get_runtime()
    proxy = runtime.run(FaultProxy(server.url + "/translations").start(), 5 * UNIT)
    refusal = {
        "type": "error",
        "event_id": "event_refusal",
        "error": {
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": "The target language is set when the session starts.",
            "param": "session.audio.output.language",
        },
    }

    def refuse(event: dict) -> bool:
        german = (
            event.get("type") == "session.updated"
            and event["session"]["audio"]["output"]["language"] == "de"
        )
        if german:
            asyncio.get_running_loop().create_task(proxy.inject(refusal))
        return german

    proxy.add(Fault("swallow", match=refuse))
    try:
        yield proxy
    finally:
        runtime.run(proxy.stop(), 5 * UNIT)


def test_translate_mode_opens_a_new_session_when_the_server_refuses_a_live_change(
    server, refusing_proxy
):
    w = connected(
        RealtimeWidget(url=refusing_proxy.url, api_key=SECRET, mode="translate", language="fr")
    )
    try:
        created: list[dict] = []
        w.caption_session.on("session.created", lambda event: created.append(event["session"]))
        w.settings = {**w.settings, "language": "de"}
        wait_until(lambda: created, timeout=15 * UNIT, what="a new session")
        wait_until(lambda: w.status == "connected" and w.language == "de", what="German applied")
        assert "new session" in w.settings_status["notes"]["language"]
        assert "German" in w.settings_status["notes"]["language"]
        assert "language" not in w.settings_status["refused"]
        assert refusing_proxy.stats["connections"] == 2
    finally:
        w.close()


def test_translate_mode_unsupported_language_is_refused_and_put_back(server):
    w = connected(RealtimeWidget(url=server.url, api_key=SECRET, mode="translate", language="fr"))
    try:
        w.settings = {**w.settings, "language": "xx"}
        wait_until(lambda: "language" in w.settings_status["refused"], what="the refusal")
        assert "'de' (German)" in w.settings_status["refused"]["language"]
        wait_until(lambda: w.settings["language"] == "fr", what="put back")
        assert w.language == "fr" and w.caption_session.language == "fr"
    finally:
        w.close()


def test_conversation_mode_keeps_its_settings_panel(server):
    w = RealtimeWidget(url=server.url, api_key=SECRET, autoconnect=False)
    try:
        assert "transcription_models" not in w.settings_status and w.settings_status["voices"]
        assert "transcription_model" not in w.settings
    finally:
        w.close()
