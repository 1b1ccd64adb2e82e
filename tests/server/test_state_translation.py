"""The translation session state machine (``server/_translation.py``, issue 14; pure)."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from realtime_widget.audio import encode_base64
from realtime_widget.server._translation import MAX_PENDING_PHRASES, TranslationState
from tests.server.driver import StateDriver, speech


def _state() -> TranslationState:
    counter = itertools.count(1)
    return TranslationState(model="m", now=1.7e9, new_id=lambda p: f"{p}{next(counter):04d}")


def _send(state: TranslationState, event: dict) -> list[dict]:
    return state.receive(json.dumps(event))


def _speak(state: TranslationState, samples: np.ndarray) -> list[dict]:
    out = []
    for start in range(0, len(samples), 4800):
        chunk = encode_base64(samples[start : start + 4800])
        out += _send(state, {"type": "session.input_audio_buffer.append", "audio": chunk})
    return out


def test_close_without_speech_closes_at_once_and_refuses_more():
    state = _state()
    assert [e["type"] for e in state.start()] == ["session.created"]
    assert [e["type"] for e in _send(state, {"type": "session.close"})] == ["session.closed"]
    assert state.closed
    (error,) = _send(state, {"type": "session.update", "session": {}})
    assert error["error"]["code"] == "session_closing"


def test_each_phrase_is_a_job_and_its_result_becomes_deltas():
    state = _state()
    assert _speak(state, speech("one phrase")) == []  # nothing until it is translated
    (job,) = state.jobs
    assert job.language == "en" and not job.transcribe and job.audio.size > 0
    out = state.provide(job.id, "one phrase", "une phrase", np.ones(24000, np.int16))
    kinds = [e["type"] for e in out]
    assert kinds == ["session.output_transcript.delta"] * 2 + ["session.output_audio.delta"] * 5
    assert state.provide(job.id, "again", "encore", None) == []  # once only


def test_close_waits_for_the_last_phrase_then_closed():
    state = _state()
    _speak(state, speech("one phrase"))
    (job,) = state.jobs
    assert _send(state, {"type": "session.close"}) == []
    out = state.fail(job.id, "the model crashed")
    assert [e["type"] for e in out] == ["error", "session.closed"]
    assert out[0]["error"]["code"] == "translation_failed"


def test_type_and_model_cannot_change():
    state = _state()
    (error,) = _send(state, {"type": "session.update", "session": {"model": "other"}})
    assert error["error"]["param"] == "session.model"
    (updated,) = _send(state, {"type": "session.update", "session": {"type": "translation"}})
    assert updated["type"] == "session.updated"


def test_phrases_waiting_for_translation_are_bounded():
    state = _state()
    for _ in range(MAX_PENDING_PHRASES):
        _speak(state, speech("phrase", tail=0.8))
    assert len(state.jobs) == MAX_PENDING_PHRASES
    out = _speak(state, speech("one too many", tail=0.8))
    (error,) = [e for e in out if e["type"] == "error"]
    assert error["error"]["code"] == "translation_backlog"
    assert len(state.jobs) == MAX_PENDING_PHRASES


def test_translation_state_accepts_every_field_the_sdk_can_send():
    # The SDK's translation client events, sampled to cover every field and literal
    # (tests/sdk_models.py); every event the state answers is strictly the SDK's model.
    pytest.importorskip("openai")
    from tests.sdk_models import (
        covering_samples,
        translation_client_event_params,
        translation_sdk_errors,
    )

    params = translation_client_event_params()
    assert set(params) == {"session.update", "session.input_audio_buffer.append", "session.close"}
    for td in params.values():
        for sample in covering_samples(td):
            state = _state()
            out = state.start() + _send(state, sample)
            _speak(state, speech("a phrase"))
            for job in list(state.jobs):
                out += state.provide(job.id, "a phrase", "une phrase", np.ones(4800, np.int16))
            assert not [e for e in out if e["type"] == "error"], (sample, out)
            for event in out:
                assert translation_sdk_errors(event) == [], event


_BAD_ENVELOPES = [
    '{"event_id": "evt_typeless"}',  # no type
    '{"type": null, "event_id": "evt_null"}',
    "[1, 2]",  # not an object
    '"session.close"',
    '{"type": "no.such.event", "event_id": "evt_unknown"}',
    '{"type": "session.created"}',  # a server event
    '{"type": 5}',
    '{"type": ["session.close"]}',  # unhashable: was a TypeError, reported as a server bug
    json.dumps({"type": "x" * 300}),  # echoed, but not all of it
]


def _without_supported(message: str) -> str:
    """The message without the list of supported types (each session kind has its own)."""
    return message.split(" Supported values are: ")[0]


@pytest.mark.parametrize("frame", _BAD_ENVELOPES)
def test_translation_session_refuses_bad_envelopes_like_a_realtime_session(frame):
    # One envelope check for every session kind (server/_checks.py check_client_event): the
    # translation session said 'invalid_value' for a frame with no type where a realtime
    # session says 'missing_required_parameter', worded its unknown types its own way, and
    # raised TypeError on a list as type.
    (realtime,) = StateDriver().send(frame)
    (translation,) = _state().receive(frame)
    assert realtime["type"] == translation["type"] == "error"
    mine, theirs = translation["error"], realtime["error"]
    assert {k: v for k, v in mine.items() if k != "message"} == {
        k: v for k, v in theirs.items() if k != "message"
    }
    assert _without_supported(mine["message"]) == _without_supported(theirs["message"])
    assert len(mine["message"]) < 400  # the 300-character type is not echoed whole
    if mine["code"] == "invalid_value":
        supported = mine["message"].split(" Supported values are: ")[1]
        kinds = ("session.update", "session.input_audio_buffer.append", "session.close")
        assert supported == ", ".join(f"'{k}'" for k in kinds) + "."
