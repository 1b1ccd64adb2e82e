"""Transcription sessions in the session state machine (issue 14, point 3; ``_transcription.py``).

Every event goes through the driver's checks: the JSON schema and the openai SDK's models.
"""

from __future__ import annotations

import pytest

from realtime_widget.server._transcription import (
    merge_transcription_session,
    new_transcription_session,
    word_deltas,
)
from tests.server.driver import StateDriver, of_type, speech

TRANSCRIBE = {
    "type": "transcription",
    "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe", "language": "en"}}},
}


def _transcribing(**kwargs) -> StateDriver:
    d = StateDriver(transcriber=lambda audio, rate: "hello there my friend", **kwargs)
    (updated,) = d.send({"type": "session.update", "session": TRANSCRIBE})
    assert updated["type"] == "session.updated", updated
    return d


def test_session_update_makes_a_realtime_session_a_transcription_session():
    d = _transcribing()
    session = d.events[-1]["session"]
    assert session["type"] == "transcription"
    assert session["object"] == "realtime.transcription_session"
    assert session["id"] == d.start[0]["session"]["id"]  # the same session, a new kind
    assert session["audio"]["input"]["transcription"]["model"] == "gpt-4o-transcribe"
    assert session["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    assert "instructions" not in session and "output_modalities" not in session


def test_transcription_session_streams_words_then_completed_per_vad_turn_and_never_answers():
    d = _transcribing()
    out = d.append(speech()) + d.append(speech("second turn"))
    kinds = [e["type"] for e in out]
    assert kinds.count("input_audio_buffer.speech_started") == 2
    assert kinds.count("input_audio_buffer.committed") == 2
    assert kinds.count("conversation.item.input_audio_transcription.completed") == 2
    assert not [k for k in kinds if k.startswith("response.")]  # nothing answers
    first = out[kinds.index("input_audio_buffer.committed") :]
    deltas = []
    for event in first:
        if event["type"] == "conversation.item.input_audio_transcription.completed":
            break
        if event["type"] == "conversation.item.input_audio_transcription.delta":
            deltas.append(event["delta"])
    assert deltas == ["hello", " there", " my", " friend"]  # partial, word by word
    completed = of_type(out, "conversation.item.input_audio_transcription.completed")[0]
    assert completed["transcript"] == "".join(deltas)
    assert not d.state.response_active


def test_transcription_session_refuses_response_create_saying_why():
    d = _transcribing()
    (error,) = d.send({"type": "response.create", "event_id": "evt_r"})
    assert error["type"] == "error" and error["error"]["event_id"] == "evt_r"
    assert "creates no responses" in error["error"]["message"]
    assert "realtime" in error["error"]["message"]


def test_transcription_session_refuses_an_unknown_model_naming_the_supported_ones():
    d = _transcribing()
    bad = {"type": "transcription", "audio": {"input": {"transcription": {"model": "wisper"}}}}
    (error,) = d.send({"type": "session.update", "session": bad})
    assert error["error"]["param"] == "session.audio.input.transcription.model"
    assert "'wisper'" in error["error"]["message"]
    assert "'gpt-4o-transcribe'" in error["error"]["message"]
    assert d.state.session["audio"]["input"]["transcription"]["model"] == "gpt-4o-transcribe"


def test_realtime_session_refuses_an_unknown_transcription_model_too():
    d = StateDriver()
    update = {"type": "realtime", "audio": {"input": {"transcription": {"model": "nope-1"}}}}
    (error,) = d.send({"type": "session.update", "session": update})
    assert error["error"]["param"] == "session.audio.input.transcription.model"
    assert "whisper-1" in error["error"]["message"]


@pytest.mark.parametrize(
    ("update", "param"),
    [
        ({"type": "realtime"}, "session.type"),
        ({"type": "transcription", "instructions": "x"}, "session.instructions"),
        ({"type": "transcription", "audio": {"output": {"voice": "x"}}}, "session.audio.output"),
        (
            {"type": "transcription", "audio": {"input": {"format": {"type": "audio/wav"}}}},
            "session.audio.input.format.type",
        ),
    ],
)
def test_transcription_session_refuses_what_it_cannot_do_naming_the_field(update, param):
    d = _transcribing()
    (error,) = d.send({"type": "session.update", "session": update})
    assert error["error"]["param"] == param, error


def test_transcription_session_can_be_updated_and_switches_vad_off():
    d = _transcribing()
    update = {"type": "transcription", "audio": {"input": {"turn_detection": None}}}
    (updated,) = d.send({"type": "session.update", "session": update})
    assert updated["session"]["audio"]["input"]["turn_detection"] is None
    assert updated["session"]["audio"]["input"]["transcription"]["model"] == "gpt-4o-transcribe"
    out = d.append(speech())
    assert not of_type(out, "input_audio_buffer.committed")  # no VAD: the client commits
    out = d.send({"type": "input_audio_buffer.commit"})
    assert of_type(out, "conversation.item.input_audio_transcription.completed")


def test_a_transcription_session_can_start_as_one():
    d = StateDriver(session=new_transcription_session("sess_x", 0))
    session = d.start[0]["session"]
    assert session["type"] == "transcription" and session["id"] != "sess_x"
    assert session["expires_at"] > 1.7e9


def test_merge_keeps_noise_reduction_strength_and_word_deltas_rebuild_the_text():
    base = new_transcription_session("s", 1)
    with_noise = merge_transcription_session(
        base,
        {"type": "transcription", "audio": {"input": {"noise_reduction": {"type": "far_field"}}}},
    )
    assert with_noise["audio"]["input"]["noise_reduction"] == {"type": "far_field", "strength": 1.0}
    for text in ("", "one", " two  words ", "a\nb."):
        assert "".join(word_deltas(text)) == text
