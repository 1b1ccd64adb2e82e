"""The session's input audio collaborators (issue 16, point 3): ``InputTurns`` and
``Transcripts`` driven alone with plain data, and ``SessionState`` built from them, not mixins."""

from __future__ import annotations

import itertools

from realtime_widget.audio import encode_base64
from realtime_widget.server._config import default_session
from realtime_widget.server._input import InputTurns, Transcripts, TurnResponses
from realtime_widget.server._items import Conversation
from realtime_widget.server._limits import Limits
from realtime_widget.server.state import SessionState
from tests.server.driver import speech


def test_session_state_is_built_from_collaborators_not_mixins():
    assert SessionState.__mro__ == (SessionState, object)


class _Session:
    """The pieces a session hands its input collaborators, with what they asked recorded."""

    def __init__(self, *, active: bool = False, defer: bool = False) -> None:
        counter = itertools.count(1)
        self.new_id = lambda prefix: f"{prefix}{next(counter):04d}"
        self.session = default_session("sess_1", "gpt-realtime-2", 0)
        self.session["audio"]["input"]["transcription"] = {"model": "whisper-1"}
        self.conversation = Conversation("conv_1")
        self.active = active
        self.asked: list[str] = []
        self.transcripts = Transcripts(
            lambda audio, rate: "hello there", defer, lambda: self.session, self.conversation
        )
        self.turns = InputTurns(
            lambda: self.session,
            "energy",
            Limits(),
            self.conversation,
            self.transcripts,
            TurnResponses(
                active=lambda: self.active,
                interrupt=lambda: self._ask("interrupt"),
                create=lambda: self._ask("create"),
                check_room=lambda: None,
            ),
            self.new_id,
        )

    def _ask(self, what: str) -> list[dict]:
        self.asked.append(what)
        return [{"type": f"asked.{what}"}]

    def talk(self) -> list[dict]:
        samples = speech()
        out: list[dict] = []
        for start in range(0, len(samples), 1200):  # 50 ms chunks, like a microphone
            audio = encode_base64(samples[start : start + 1200])
            out += self.turns.on_input_audio_buffer_append({"audio": audio})
        return out


def test_input_turns_commit_a_vad_turn_transcribed_and_ask_for_a_response():
    s = _Session()
    events = s.talk()
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["input_audio_buffer.speech_started", "input_audio_buffer.speech_stopped"]
    assert "input_audio_buffer.committed" in kinds
    completed = [e for e in events if e["type"].endswith("input_audio_transcription.completed")]
    assert completed[0]["transcript"] == "hello there"
    assert kinds[-1] == "asked.create" and s.asked == ["create"]
    assert len(s.conversation) == 1 and s.turns.audio.buffered_ms < 1000


def test_input_turns_interrupt_the_response_in_progress_and_do_not_start_another():
    s = _Session(active=True)
    s.talk()
    assert s.asked == ["interrupt"]


def test_input_turns_in_a_transcription_session_never_ask_for_a_response():
    s = _Session()
    s.session["type"] = "transcription"
    events = s.talk()
    assert s.asked == []
    assert any(e["type"].endswith("input_audio_transcription.delta") for e in events)


def test_transcripts_deferred_wait_for_the_io_layer_and_announce_what_it_provides():
    s = _Session(defer=True)
    events = s.talk()
    assert not any("transcription" in e["type"] for e in events)
    (item_id,) = s.transcripts.awaiting
    jobs = list(s.transcripts.jobs)
    assert jobs[-1].item_id == item_id and jobs[-1].rate == 24000
    assert any(job.item_id is None for job in jobs)  # the early guess at the pause
    done = s.transcripts.provide(item_id, "hi", None)[-1]
    assert done["type"] == "conversation.item.input_audio_transcription.completed"
    assert done["transcript"] == "hi" and not s.transcripts.awaiting
    assert s.transcripts.provide("item_gone", "late", None) == []


def test_input_turns_clear_and_refuse_a_commit_under_100_ms():
    s = _Session()
    s.turns.on_input_audio_buffer_append({"audio": encode_base64(speech()[:1200])})
    assert s.turns.on_input_audio_buffer_clear({}) == [{"type": "input_audio_buffer.cleared"}]
    assert s.turns.audio.buffered_ms == 0
    try:
        s.turns.on_input_audio_buffer_commit({})
    except Exception as exc:
        assert getattr(exc, "code", None) == "input_audio_buffer_commit_empty"
    else:
        raise AssertionError("an empty commit was accepted")
