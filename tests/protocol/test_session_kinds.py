"""Transcription and translation session settings: checked in Python, built in the SDK's shape."""

from __future__ import annotations

import typing

import pytest

from realtime_widget.protocol.session_kinds import (
    TRANSCRIPTION_MODELS,
    check_language,
    check_transcription_model,
    transcription_session,
    translation_session,
    translation_url,
)


def test_transcription_models_match_the_installed_sdk():
    openai = pytest.importorskip("openai")
    from openai.types.realtime.audio_transcription import AudioTranscription

    del openai
    hint = AudioTranscription.model_fields["model"].annotation
    literals = {v for arg in typing.get_args(hint) for v in typing.get_args(arg)}
    assert set(TRANSCRIPTION_MODELS) == literals


def test_transcription_session_is_the_sdk_create_request():
    pytest.importorskip("openai")
    from openai.types.realtime.realtime_transcription_session_create_request import (
        RealtimeTranscriptionSessionCreateRequest,
    )

    session = transcription_session(model="whisper-1", language="EN", prompt="lecture")
    RealtimeTranscriptionSessionCreateRequest.model_validate(session, strict=True)
    assert session["audio"]["input"]["transcription"] == {
        "model": "whisper-1",
        "language": "en",
        "prompt": "lecture",
    }
    assert session["audio"]["input"]["turn_detection"] == {"type": "server_vad"}
    assert transcription_session(turn_detection=None)["audio"]["input"]["turn_detection"] is None


def test_translation_session_is_the_sdk_update_request():
    pytest.importorskip("openai")
    from openai.types.realtime.realtime_translation_session_update_request import (
        RealtimeTranslationSessionUpdateRequest,
    )

    session = translation_session(language="fr", noise_reduction="far_field")
    RealtimeTranslationSessionUpdateRequest.model_validate(session, strict=True)
    assert session["audio"]["output"] == {"language": "fr"}
    assert "input" not in translation_session(language="de", transcription_model=None)["audio"]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: transcription_session(model="whisper-9"),
            "unknown transcription model 'whisper-9'",
        ),
        (lambda: transcription_session(language="english"), "two-letter ISO-639-1"),
        (lambda: transcription_session(noise_reduction="loud"), "near_field"),
        (lambda: transcription_session(turn_detection="vad"), "turn_detection"),
        (lambda: translation_session(language="xyz"), "two-letter"),
        (lambda: translation_session(language="fr", transcription_model="x"), "whisper-1"),
    ],
)
def test_session_kinds_refuse_bad_input_saying_what_to_use(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_check_language_normalises_case():
    assert check_language(" FR ") == "fr"


def test_translation_url_appends_the_translations_path():
    assert translation_url("ws://h:1/v1/realtime", "x") == "ws://h:1/v1/realtime/translations"
    assert translation_url("ws://h/v1/realtime/translations?a=1", "x") == (
        "ws://h/v1/realtime/translations?a=1"
    )
    assert translation_url(None, "wss://api.openai.com/v1/realtime") == (
        "wss://api.openai.com/v1/realtime/translations"
    )


def test_session_kinds_default_to_a_model_with_no_announced_shutdown():
    # The caption sessions defaulted to gpt-4o-mini-transcribe (shut down 2027-02-26) while
    # RealtimeClient's default had moved on: one default for every session kind.
    from realtime_widget.protocol import DEFAULT_TRANSCRIPTION_MODEL as client_default
    from realtime_widget.protocol.models import shutdown_date
    from realtime_widget.protocol.session_kinds import DEFAULT_TRANSCRIPTION_MODEL

    assert DEFAULT_TRANSCRIPTION_MODEL == client_default
    assert shutdown_date(DEFAULT_TRANSCRIPTION_MODEL) is None
    session = transcription_session()
    assert session["audio"]["input"]["transcription"]["model"] == client_default


def test_a_deprecated_transcription_model_is_accepted_with_a_warning(monkeypatch):
    from realtime_widget.protocol import models

    monkeypatch.setattr(models, "_warned", set())
    with pytest.warns(models.DeprecatedModelWarning, match="whisper-1"):
        assert check_transcription_model("whisper-1") == "whisper-1"
