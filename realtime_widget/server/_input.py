"""The session's input audio: append, commit, clear, server-VAD turns, transcripts (pure).

Two collaborators of :class:`~realtime_widget.server.state.SessionState` (issue 16, point 3),
each owning its state and handed what it uses from the session:

- :class:`InputTurns` owns the uncommitted buffer and its VAD (``vad.InputAudio``, in session
  audio time) and the id of the turn being spoken; it handles ``input_audio_buffer.*``, commits
  user turns into the conversation and, per the session's turn detection, asks the session to
  start or interrupt the in-band response (issue 3, point 4; DESIGN §6) through the
  :class:`TurnResponses` it is given.
- :class:`Transcripts` owns how user audio items get their transcripts: at once (``transcriber``
  called here) or deferred to the I/O layer (``jobs`` out, ``provide`` in, ``awaiting`` between).

Both read the effective session through a ``session()`` callable, as ``session.update``
replaces the session dict; neither touches responses or the session other than through what
it is handed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from realtime_widget.server import _events
from realtime_widget.server._checks import ClientError, error_event
from realtime_widget.server._items import Conversation, Record
from realtime_widget.server._limits import Limits
from realtime_widget.server._transcription import is_transcription
from realtime_widget.server.speech import Transcriber
from realtime_widget.server.vad import InputAudio, TurnEvent

__all__ = [
    "MAX_APPEND_BYTES",
    "InputTurns",
    "TranscriptionJob",
    "Transcripts",
    "TurnResponses",
]

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


class Transcripts:
    """Transcripts of user audio items, made here or deferred to the I/O layer.

    Args:
        transcriber: ``(int16, rate) -> str``, called here when not deferred.
        defer: leave transcription to the I/O layer: :attr:`jobs` out, :meth:`provide` in.
        session: the effective session (its ``audio.input.transcription`` and ``type``).
        conversation: the session's conversation (where :meth:`provide` finds its item).

    Attributes:
        jobs: deferred transcriptions for the I/O layer, oldest first.
        awaiting: items whose deferred transcript is not in yet (responses wait for them).
    """

    def __init__(
        self,
        transcriber: Transcriber,
        defer: bool,
        session: Callable[[], dict],
        conversation: Conversation,
    ) -> None:
        self.transcriber = transcriber
        self.defer = defer
        self._session = session
        self._conversation = conversation
        self.jobs: deque[TranscriptionJob] = deque()
        self.awaiting: set[str] = set()

    def _config(self) -> dict | None:
        return self._session()["audio"]["input"]["transcription"]

    def guess(self, key: tuple[int, int], audio: np.ndarray, rate: int) -> None:
        """Queue an early transcription of a turn that may end at this pause (deferred only)."""
        if self.defer:
            self.jobs.append(_job(None, audio, rate, key, self._config()))

    def transcribe(
        self, record: Record, key: tuple[int, int] | None = None, speech: np.ndarray | None = None
    ) -> None:
        """Transcribe a user audio item: now, or as a job the I/O layer runs.

        Args:
            record: the item (its ``audio`` and ``rate``); its ``transcript`` is set when done
                here, or ``extras["transcription_error"]`` when the transcriber raised.
            key: a VAD turn's ``(start_ms, speech_end_ms)`` (matches the guess at its pause).
            speech: the turn's speech without the silence that ended it (deferred jobs).
        """
        if self.defer:
            audio = record.audio if speech is None else speech
            self.jobs.append(_job(record.item["id"], audio, record.rate, key, self._config()))
            self.awaiting.add(record.item["id"])
            return
        try:
            record.transcript = self.transcriber(record.audio, record.rate)
        except Exception as exc:  # a failing transcriber fails the transcription, not the turn
            record.extras["transcription_error"] = f"{type(exc).__name__}: {exc}"

    def provide(self, item_id: str, transcript: str | None, error: str | None) -> list[dict]:
        """A deferred job's result; the item's transcription events (none if it was deleted)."""
        self.awaiting.discard(item_id)
        if item_id not in self._conversation:
            return []  # deleted meanwhile: nothing to announce
        record = self._conversation.get(item_id)
        record.transcript = transcript
        if transcript is None:
            record.extras["transcription_error"] = error or "no transcript"
        return self.events(record)

    def events(self, record: Record) -> list[dict]:
        """The transcription events of a user audio item, once its transcript is known."""
        if not self._config():
            return []
        if record.item["id"] in self.awaiting:
            return []  # announced by provide when the I/O layer has it
        if record.transcript is None:
            return [
                _events.transcription_failed(
                    record.item["id"], record.extras.get("transcription_error", "no transcript")
                )
            ]
        record.item["content"][0]["transcript"] = record.transcript
        seconds = 0.0 if record.audio is None else len(record.audio) / record.rate
        # A transcription session streams captions word by word (_transcription.py).
        by_word = is_transcription(self._session())
        return _events.transcription(record.item["id"], record.transcript, seconds, by_word=by_word)


class TurnResponses(NamedTuple):
    """What :class:`InputTurns` may ask of the session's in-band response (all pure calls).

    Attributes:
        active: whether the in-band response is in progress.
        interrupt: cancel it for a new turn (``turn_detected``) and end it; its events.
        create: start one answering the conversation (a turn's auto-response); its events.
        check_room: raise ``ClientError`` when the conversation is full.
    """

    active: Callable[[], bool]
    interrupt: Callable[[], list[dict]]
    create: Callable[[], list[dict]]
    check_room: Callable[[], None]


class InputTurns:
    """The uncommitted input audio and its turns: ``input_audio_buffer.*`` and server VAD.

    Args:
        session: the effective session (its ``audio.input`` and ``type``).
        vad: the server-VAD detector choice (``vad.choose_vad``).
        limits: the session's caps (uncommitted audio).
        conversation: where committed turns go.
        transcripts: who transcribes them.
        responses: what a turn may do to the in-band response.
        new_id: id factory.

    Attributes:
        audio: the buffer and its VAD (``SessionState.input``).
    """

    def __init__(
        self,
        session: Callable[[], dict],
        vad: str | None,
        limits: Limits,
        conversation: Conversation,
        transcripts: Transcripts,
        responses: TurnResponses,
        new_id: Callable[[str], str],
    ) -> None:
        self._session = session
        self._limits = limits
        self._conversation = conversation
        self._transcripts = transcripts
        self._responses = responses
        self._new_id = new_id
        audio_in = session()["audio"]["input"]
        self.audio = InputAudio(
            audio_in["format"],
            audio_in["turn_detection"],
            vad,
            max_seconds=limits.max_input_audio_seconds,
        )
        self._turn_item_id: str | None = None  # the id speech_started announced

    @property
    def rate(self) -> int:
        """Sample rate of the input audio (and of items made from it)."""
        return self.audio.rate

    def configure(self, audio_format: dict, turn_detection: dict | None) -> None:
        """Apply a new input format or turn detection (``session.update``)."""
        self.audio.configure(audio_format, turn_detection)

    def mark_activity(self) -> None:
        """A response ended: the idle timeout counts from now."""
        self.audio.mark_activity()

    def _detection(self) -> dict:
        return self._session()["audio"]["input"]["turn_detection"] or {}

    # -- client events (SessionState's table names them) ----------------------------------
    def on_input_audio_buffer_append(self, event: dict) -> list[dict]:
        """``input_audio_buffer.append``: buffer the audio; VAD turns it makes."""
        audio = event["audio"]
        if len(audio) * 3 // 4 > MAX_APPEND_BYTES:
            raise ClientError(
                "invalid_value",
                f"Audio content of {len(audio) * 3 // 4} bytes exceeds the 15 MiB limit of one "
                "input_audio_buffer.append: send smaller chunks (e.g. 20-100 ms each).",
                "audio",
            )
        samples = self.audio.decode(audio)
        self._limits.check_input_audio(self.audio.buffered_samples, samples.size, self.audio.rate)
        out: list[dict] = []
        idle_allowed = not self._responses.active()
        for turn in self.audio.append(samples, idle_allowed=idle_allowed):
            out += self._turn_handlers[turn.kind](self, turn)
        return out

    def on_input_audio_buffer_commit(self, event: dict) -> list[dict]:
        """``input_audio_buffer.commit``: the buffer becomes a user item."""
        buffered = self.audio.buffered_ms
        if buffered < 100:
            raise ClientError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least 100ms "
                f"of audio, but buffer only has {buffered:.2f}ms of audio.",
            )
        self._responses.check_room()  # refused: the buffer stays for a commit after a delete
        self._turn_item_id = None
        return self._commit(self._new_id("item_"))

    def on_input_audio_buffer_clear(self, event: dict) -> list[dict]:
        """``input_audio_buffer.clear``: drop the uncommitted audio."""
        self.audio.clear()
        return [{"type": "input_audio_buffer.cleared"}]

    # -- VAD turns ------------------------------------------------------------------------
    def _on_speech_started(self, turn: TurnEvent) -> list[dict]:
        self._turn_item_id = self._new_id("item_")
        out = [
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": turn.start_ms,
                "item_id": self._turn_item_id,
            }
        ]
        if self._responses.active() and self._detection().get("interrupt_response", True):
            out += self._responses.interrupt()
        return out

    def _on_speech_stopped(self, turn: TurnEvent) -> list[dict]:
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

    def _on_timeout_triggered(self, turn: TurnEvent) -> list[dict]:
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

    def _on_pause(self, turn: TurnEvent) -> list[dict]:
        # The speaker went quiet: this may be the end of the turn. Transcribing now, while VAD
        # still waits for silence_duration_ms, hides that much of the transcriber's time.
        if self._transcripts.defer:
            key = (turn.start_ms, turn.speech_end_ms or turn.start_ms)
            self._transcripts.guess(key, self.audio.peek(*key), self.audio.rate)
        return []

    _turn_handlers: dict[str, Callable[[InputTurns, TurnEvent], list[dict]]] = {
        "speech_started": _on_speech_started,
        "speech_stopped": _on_speech_stopped,
        "timeout_triggered": _on_timeout_triggered,
        "pause": _on_pause,
    }

    def _vad_commit(
        self, item_id: str, start_ms: int, end_ms: int, speech_end_ms: int | None = None
    ) -> list[dict]:
        # A turn the server ends itself: a full conversation refuses it with an error event
        # (the client sent no event to refuse) and the turn's audio is dropped with it, as a
        # turn can only be committed whole.
        try:
            self._responses.check_room()
        except ClientError as exc:
            self.audio.take(start_ms, end_ms)
            message = f"{exc.message} This turn's audio was not committed."
            return [error_event(ClientError(exc.code, message), None)]
        return self._commit(item_id, start_ms, end_ms, speech_end_ms) + self._auto_response()

    def _auto_response(self) -> list[dict]:
        if is_transcription(self._session()):
            return []  # captions only: nothing answers a turn
        if not self._responses.active() and self._detection().get("create_response", True):
            return self._responses.create()
        return []

    def _commit(
        self,
        item_id: str,
        start_ms: int | None = None,
        end_ms: int | None = None,
        speech_end_ms: int | None = None,
    ) -> list[dict]:
        audio = self.audio.take(start_ms, end_ms)
        item = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        record = Record(item, audio=audio, rate=self.audio.rate)
        key = speech = None
        if start_ms is not None and speech_end_ms is not None:
            key = (start_ms, speech_end_ms)
            speech = audio[: max(0, (speech_end_ms - start_ms) * self.audio.rate // 1000)]
        self._transcripts.transcribe(record, key, speech)
        previous = self._conversation.add(record)
        out = [
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        ]
        out += _events.item_added(item, previous)
        return out + self._transcripts.events(record)
