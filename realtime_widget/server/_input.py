"""Input audio handlers of the session state machine: append, commit, clear, VAD turns (pure).

A mixin of :class:`~realtime_widget.server.state.SessionState`, split out by concern: everything
here runs on the buffer and VAD of ``realtime_widget.server.vad`` in session audio time, commits
user turns into the conversation and, per the session's turn detection, starts or interrupts
responses (issue 3, point 4; DESIGN §6).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from realtime_widget.server import _events
from realtime_widget.server._checks import ClientError, error_event
from realtime_widget.server._items import Record
from realtime_widget.server.vad import TurnEvent

if TYPE_CHECKING:
    from realtime_widget.server.state import SessionState

__all__ = ["MAX_APPEND_BYTES", "InputAudioHandlers", "TranscriptionJob"]

MAX_APPEND_BYTES = 15 * 1024 * 1024
"""Largest ``input_audio_buffer.append`` payload the real service accepts (15 MiB)."""


# Defined here, where committed audio becomes a job, and re-exported by ``server.state`` (its
# public home): defining it in state.py made this module import state and state import it.
@dataclass(frozen=True)
class TranscriptionJob:
    """User audio to transcribe off the event loop (when transcription is deferred).

    Attributes:
        item_id: the committed item, or ``None`` for an early guess at a pause.
        audio: int16 samples at ``rate`` (the speech, without the silence that ended it).
        rate: their sample rate.
        key: ``(start_ms, speech_end_ms)`` of a VAD turn: a guess and the turn it turned out
            to be share it, so the guess's text can be used at once; ``None`` otherwise.
        hints: the session's ``language`` and ``prompt`` for the transcriber (those set).
    """

    item_id: str | None
    audio: np.ndarray
    rate: int
    key: tuple[int, int] | None = None
    hints: tuple[tuple[str, str], ...] = ()


def _job(
    item_id: str | None,
    audio: np.ndarray,
    rate: int,
    key: tuple[int, int] | None,
    transcription: dict | None,
) -> TranscriptionJob:
    config = transcription or {}
    hints = tuple(
        (name, config[name])
        for name in ("language", "prompt")
        if isinstance(config.get(name), str) and config[name]
    )
    return TranscriptionJob(item_id, audio, rate, key, hints)


class InputAudioHandlers:
    """``input_audio_buffer.*`` handlers and server-VAD turns (mixed into ``SessionState``)."""

    def _on_input_audio_buffer_append(self: SessionState, event: dict) -> list[dict]:
        audio = event["audio"]
        if len(audio) * 3 // 4 > MAX_APPEND_BYTES:
            raise ClientError(
                "invalid_value",
                f"Audio content of {len(audio) * 3 // 4} bytes exceeds the 15 MiB limit of one "
                "input_audio_buffer.append: send smaller chunks (e.g. 20-100 ms each).",
                "audio",
            )
        samples = self.input.decode(audio)
        self.limits.check_input_audio(self.input.buffered_samples, samples.size, self.input.rate)
        out: list[dict] = []
        for turn in self.input.append(samples, idle_allowed=self._run is None):
            out += self._turn_handlers[turn.kind](self, turn)
        return out

    def _on_speech_started(self: SessionState, turn: TurnEvent) -> list[dict]:
        self._turn_item_id = self._new_id("item_")
        out = [
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": turn.start_ms,
                "item_id": self._turn_item_id,
            }
        ]
        detection = self.session["audio"]["input"]["turn_detection"] or {}
        if self._run is not None and detection.get("interrupt_response", True):
            out += self._run.cancel("turn_detected")
            out += self._end_response(self._run)
        return out

    def _on_speech_stopped(self: SessionState, turn: TurnEvent) -> list[dict]:
        item_id = self._turn_item_id or self._new_id("item_")
        self._turn_item_id = None
        out = [
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": turn.end_ms,
                "item_id": item_id,
            }
        ]
        return out + self._vad_commit(item_id, turn.start_ms, turn.end_ms, turn.speech_end_ms)

    def _on_timeout_triggered(self: SessionState, turn: TurnEvent) -> list[dict]:
        item_id = self._new_id("item_")
        out = [
            {
                "type": "input_audio_buffer.timeout_triggered",
                "audio_start_ms": turn.start_ms,
                "audio_end_ms": turn.end_ms,
                "item_id": item_id,
            }
        ]
        return out + self._vad_commit(item_id, turn.start_ms, turn.end_ms)

    def _vad_commit(
        self: SessionState,
        item_id: str,
        start_ms: int,
        end_ms: int,
        speech_end_ms: int | None = None,
    ) -> list[dict]:
        # A turn the server ends itself: a full conversation refuses it with an error event
        # (the client sent no event to refuse) and the turn's audio is dropped with it, as a
        # turn can only be committed whole.
        try:
            self._check_room(0, None)
        except ClientError as exc:
            self.input.take(start_ms, end_ms)
            message = f"{exc.message} This turn's audio was not committed."
            return [error_event(ClientError(exc.code, message), None)]
        return self._commit(item_id, start_ms, end_ms, speech_end_ms) + self._auto_response()

    def _on_pause(self: SessionState, turn: TurnEvent) -> list[dict]:
        # The speaker went quiet: this may be the end of the turn. Transcribing now, while VAD
        # still waits for silence_duration_ms, hides that much of the transcriber's time.
        if self.defer_transcription:
            key = (turn.start_ms, turn.speech_end_ms or turn.start_ms)
            transcription = self.session["audio"]["input"]["transcription"]
            audio = self.input.peek(*key)
            self.transcription_jobs.append(_job(None, audio, self.input.rate, key, transcription))
        return []

    _turn_handlers = {
        "speech_started": _on_speech_started,
        "speech_stopped": _on_speech_stopped,
        "timeout_triggered": _on_timeout_triggered,
        "pause": _on_pause,
    }

    def _auto_response(self: SessionState) -> list[dict]:
        detection = self.session["audio"]["input"]["turn_detection"] or {}
        if self.transcription_only:
            return []  # captions only: nothing answers a turn
        if self._run is None and detection.get("create_response", True):
            return self._create_response({})
        return []

    def _on_input_audio_buffer_commit(self: SessionState, event: dict) -> list[dict]:
        buffered = self.input.buffered_ms
        if buffered < 100:
            raise ClientError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least 100ms "
                f"of audio, but buffer only has {buffered:.2f}ms of audio.",
            )
        self._check_room(0, None)  # refused: the buffer stays for a commit after a delete
        self._turn_item_id = None
        return self._commit(self._new_id("item_"))

    def _on_input_audio_buffer_clear(self: SessionState, event: dict) -> list[dict]:
        self.input.clear()
        return [{"type": "input_audio_buffer.cleared"}]

    def _commit(
        self: SessionState,
        item_id: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
        speech_end_ms: int | None = None,
    ) -> list[dict]:
        audio = self.input.take(start_ms, end_ms)
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        record = Record(item, audio=audio, rate=self.input.rate)
        key = None
        if start_ms is not None and speech_end_ms is not None:
            key = (start_ms, speech_end_ms)
            speech = audio[: max(0, (speech_end_ms - start_ms) * self.input.rate // 1000)]
        self._transcribe(record, key, speech if key else None)
        previous = self.conversation.add(record)
        out = [
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        ]
        out += _events.item_added(item, previous)
        return out + self._transcription(record)

    def _transcribe(
        self: SessionState, record: Record, key: tuple[int, int] | None = None, speech=None
    ) -> None:
        if self.defer_transcription:
            audio = record.audio if speech is None else speech
            transcription = self.session["audio"]["input"]["transcription"]
            job = _job(record.item["id"], audio, record.rate, key, transcription)
            self.transcription_jobs.append(job)
            self._awaiting.add(record.item["id"])
            return
        try:
            record.transcript = self.transcriber(record.audio, record.rate)
        except Exception as exc:  # a failing transcriber fails the transcription, not the turn
            record.extras["transcription_error"] = f"{type(exc).__name__}: {exc}"

    def _transcription(self: SessionState, record: Record) -> list[dict]:
        if not self.session["audio"]["input"]["transcription"]:
            return []
        if record.item["id"] in self._awaiting:
            return []  # announced by provide_transcript when the I/O layer has it
        if record.transcript is None:
            return [
                _events.transcription_failed(
                    record.item["id"], record.extras.get("transcription_error", "no transcript")
                )
            ]
        record.item["content"][0]["transcript"] = record.transcript
        seconds = 0.0 if record.audio is None else len(record.audio) / record.rate
        return _events.transcription(
            record.item["id"], record.transcript, seconds, by_word=self.transcription_only
        )
