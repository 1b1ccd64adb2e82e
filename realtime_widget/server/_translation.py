"""Translation sessions as a pure state machine: client event in, server events out (issue 14).

The openai SDK's ``client.realtime.translations.connect(model=...)`` opens
``/v1/realtime/translations?model=...``; the session then speaks its own small protocol (the
SDK's ``realtime_translation_*.py``):

- client: ``session.update`` (only ``audio.output.language``, ``audio.input.transcription`` and
  ``audio.input.noise_reduction``; ``type`` and ``model`` are fixed at creation),
  ``session.input_audio_buffer.append`` (base64 24 kHz PCM16 mono, nothing else), and
  ``session.close`` ("the server flushes pending input audio and emits any remaining translated
  output before closing");
- server: ``session.created`` / ``.updated`` / ``.closed``, ``session.input_transcript.delta``
  (only with ``audio.input.transcription``), ``session.output_transcript.delta``,
  ``session.output_audio.delta`` and ``error``. Deltas are append-only fragments; ``elapsed_ms``
  is alignment metadata in 200 ms steps.

How the embedded server translates: server VAD cuts the input into spoken phrases; each phrase is
a :class:`TranslationJob` the I/O layer (``_translation_io.py``) runs off the loop (speech to
text, a translator, speech in the target language) and hands back with :meth:`provide`, which
returns the phrase's events. This module holds no I/O, clock or thread: ``now`` and ``new_id``
are passed in.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from realtime_widget.audio import encode_base64
from realtime_widget.protocol import generate_id
from realtime_widget.server._checks import (
    ClientError,
    EventSpecs,
    check_client_event,
    check_fields,
    error_event,
    optional,
    typed,
)
from realtime_widget.server._config import check_transcription_model
from realtime_widget.server._limits import Limits
from realtime_widget.server._transcription import word_deltas
from realtime_widget.server.state import parse_frame
from realtime_widget.server.vad import InputAudio

__all__ = [
    "FRAME_MS",
    "LANGUAGES",
    "MAX_PENDING_PHRASES",
    "TranslationJob",
    "TranslationState",
    "check_language",
    "new_translation_session",
    "translation_session_from_request",
]

LANGUAGES: dict[str, tuple[str, str]] = {
    "de": ("German", "de"),
    "en": ("English", "en-us"),
    "es": ("Spanish", "es"),
    "fr": ("French", "fr"),
    "hi": ("Hindi", "hi"),
    "it": ("Italian", "it"),
    "ja": ("Japanese", "ja"),
    "ko": ("Korean", "ko"),
    "nl": ("Dutch", "nl"),
    "pl": ("Polish", "pl"),
    "pt": ("Portuguese", "pt"),
    "ru": ("Russian", "ru"),
    "sv": ("Swedish", "sv"),
    "tr": ("Turkish", "tr"),
    "uk": ("Ukrainian", "uk"),
    "zh": ("Chinese", "cmn"),
}
"""Target languages this server translates into: ISO-639-1 code -> (name, espeak-ng voice)."""

DEFAULT_LANGUAGE = "en"
FRAME_MS = 200
"""Translation's engine frame: ``elapsed_ms`` advances in these steps."""
MAX_PENDING_PHRASES = 16
"""Phrases waiting for translation; past it a new phrase is dropped with an error (the client
sends audio faster than this machine translates it)."""

# Phrases end at half a second of silence: translating needs whole clauses, not every breath.
_TURN_DETECTION = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "idle_timeout_ms": None,
    "create_response": False,
    "interrupt_response": False,
}
_PCM = {"type": "audio/pcm", "rate": 24000}
_OUT_CHUNK = 24000 * FRAME_MS // 1000  # samples per output audio delta


def check_language(value: Any, param: str) -> None:
    """Refuse a target language this server does not translate into, naming the supported ones."""
    typed(str)(value, param)
    if value.split("-")[0].lower() not in LANGUAGES:
        supported = ", ".join(f"'{code}' ({name})" for code, (name, _) in LANGUAGES.items())
        raise ClientError(
            "invalid_value",
            f"Invalid value: {value[:50]!r} is not a target language this server supports. Set "
            f"'{param}' to one of: {supported}.",
            param,
        )


def _no_format(value: Any, param: str) -> None:
    raise ClientError(
        "unknown_parameter",
        f"Unknown parameter: '{param}'. Translation sessions take base64 24 kHz PCM16 mono audio "
        "only (no other format): remove it and resample your audio to 24 kHz PCM16.",
        param,
    )


_AUDIO_SPEC = {
    "input": {
        "transcription": optional(
            lambda v, p: check_fields(v, {"model": check_transcription_model}, p, ("model",))
        ),
        "noise_reduction": optional(
            lambda v, p: check_fields(
                v,
                {
                    "type": typed(str, enum=("near_field", "far_field")),
                    "strength": typed(float, minimum=0.0),
                },
                p,
                ("type",),
            )
        ),
        "format": _no_format,
    },
    "output": {"language": check_language, "format": _no_format, "voice": _no_format},
}
UPDATE_SPEC: dict[str, Any] = {"audio": _AUDIO_SPEC}
"""What a translation ``session.update`` may carry (the SDK's update request)."""
CREATE_SPEC: dict[str, Any] = {"model": typed(str), "audio": _AUDIO_SPEC}
"""What a translation client secret's ``session`` may carry (the SDK's create request)."""

_CLIENT_EVENTS: EventSpecs = {
    "session.update": ({"type": typed(str), "event_id": typed(str), "session": typed(dict)}, ()),
    "session.input_audio_buffer.append": (
        {"type": typed(str), "event_id": typed(str), "audio": typed(str)},
        ("audio",),
    ),
    "session.close": ({"type": typed(str), "event_id": typed(str)}, ()),
}


def new_translation_session(session_id: str, model: str, expires_at: int) -> dict:
    """The session a translation connection starts with (what ``session.created`` reports)."""
    return {
        "id": session_id,
        "type": "translation",
        "model": model,
        "expires_at": expires_at,
        "audio": {
            "input": {"transcription": None, "noise_reduction": None},
            "output": {"language": DEFAULT_LANGUAGE},
        },
    }


def _merge_audio(session: dict, audio: dict) -> dict:
    out = copy.deepcopy(session)
    audio_in, audio_out = audio.get("input", {}), audio.get("output", {})
    if "transcription" in audio_in:
        out["audio"]["input"]["transcription"] = copy.deepcopy(audio_in["transcription"])
    if "noise_reduction" in audio_in:
        noise = audio_in["noise_reduction"]
        old = out["audio"]["input"]["noise_reduction"] or {}
        # "Omitting strength from a session update preserves the current strength."
        out["audio"]["input"]["noise_reduction"] = (
            None if noise is None else {"strength": old.get("strength", 1.0), **noise}
        )
    if "language" in audio_out:
        out["audio"]["output"]["language"] = audio_out["language"]
    return out


def translation_session_from_request(request: Any, session_id: str, expires_at: int) -> dict:
    """The session of a translation client secret's ``session`` object (checked).

    Raises:
        ClientError: a missing ``model`` or an invalid field, naming it.
    """
    check_fields(request, CREATE_SPEC, "session", ("model",))
    base = new_translation_session(session_id, request["model"], expires_at)
    return _merge_audio(base, request.get("audio", {}))


@dataclass(frozen=True)
class TranslationJob:
    """One spoken phrase to translate off the event loop.

    Attributes:
        id: the job's id (for :meth:`TranslationState.provide`).
        audio: int16 samples at 24 kHz (the phrase, without the silence that ended it).
        language: the target language code.
        transcribe: whether the client asked for the source transcript.
        end_ms: where the phrase ends in session audio time.
    """

    id: str
    audio: np.ndarray = field(repr=False)
    language: str
    transcribe: bool
    end_ms: int


class TranslationState:
    """The state of one translation session.

    Args:
        model: the model named in the URL's query.
        now: the current Unix time (for ``expires_at``).
        new_id: id factory, ``generate_id`` by default.
        max_session_seconds: session length announced in ``expires_at``.
        vad: the server-VAD detector (``vad.choose_vad``).
        limits: the server's caps (uncommitted input audio).
        session: a client secret's translation session to start from (its id and expiry are
            replaced by this session's).
    """

    def __init__(
        self,
        *,
        model: str = "gpt-realtime-translate",
        now: float = 0.0,
        new_id: Callable[[str], str] = generate_id,
        max_session_seconds: float = 3600,
        vad: str | None = None,
        limits: Limits | None = None,
        session: dict | None = None,
    ) -> None:
        self._new_id = new_id
        self.limits = limits or Limits()
        self.session = new_translation_session(
            new_id("sess_"), model, int(now + max_session_seconds)
        )
        if session is not None:
            ids = {k: self.session[k] for k in ("id", "expires_at")}
            self.session = {**copy.deepcopy(session), **ids}
        self.input = InputAudio(
            _PCM, dict(_TURN_DETECTION), vad, max_seconds=self.limits.max_input_audio_seconds
        )
        self.jobs: deque[TranslationJob] = deque()
        """Phrases for the I/O layer to translate, oldest first."""
        self._pending: set[str] = set()  # jobs handed out and not provided yet
        self._jobs_by_id: dict[str, TranslationJob] = {}
        self._phrase_start: int | None = None  # start_ms of the phrase being spoken
        self.closing = False
        """``session.close`` arrived: no more input; ``session.closed`` follows the last phrase."""
        self.closed = False
        """``session.closed`` was returned: the I/O layer closes the connection."""
        self._handlers: dict[str, Callable[[dict], list[dict]]] = {
            "session.update": self._on_session_update,
            "session.input_audio_buffer.append": self._on_session_input_audio_buffer_append,
            "session.close": self._on_session_close,
        }

    # -- public surface -------------------------------------------------------------------
    @property
    def language(self) -> str:
        """The target language's code (``"fr"``)."""
        return self.session["audio"]["output"]["language"].split("-")[0].lower()

    def start(self) -> list[dict]:
        """The greeting: ``session.created``."""
        return self._out([{"type": "session.created", "session": copy.deepcopy(self.session)}])

    def receive(self, frame: str | bytes) -> list[dict]:
        """Handle one websocket frame and return the events to send now."""
        parsed = parse_frame(frame)
        if isinstance(parsed, ClientError):
            return self._out([error_event(parsed, None)])
        return self.handle(parsed)

    def handle(self, event: Any) -> list[dict]:
        """Handle one decoded client event and return the server events to send now."""
        event_id = event.get("event_id") if isinstance(event, dict) else None
        event_id = event_id if isinstance(event_id, str) else None
        try:
            # The envelope checks are the realtime sessions' (one function, one wording).
            kind = check_client_event(event, _CLIENT_EVENTS)
            if self.closing:
                raise ClientError(
                    "session_closing",
                    "The session is closing (session.close was sent): open a new connection to "
                    "translate more.",
                )
            return self._out(self._handlers[kind](event))
        except ClientError as exc:
            return self._out([error_event(exc, event_id)])

    def provide(
        self, job_id: str, source: str | None, translation: str | None, audio: np.ndarray | None
    ) -> list[dict]:
        """A phrase's result from the I/O layer; return its events (and ``session.closed``
        when it was the last one after ``session.close``).

        Args:
            job_id: the :class:`TranslationJob`'s id.
            source: the source-language transcript (``None`` when speech-to-text failed).
            translation: the translated text (``None`` when translating failed).
            audio: the translation spoken (int16, 24 kHz), or ``None``.
        """
        job = self._take_pending(job_id)
        if job is None:
            return []
        elapsed = {"elapsed_ms": job.end_ms - job.end_ms % FRAME_MS}
        out: list[dict] = []
        if job.transcribe and source:
            out += [
                {"type": "session.input_transcript.delta", "delta": piece, **elapsed}
                for piece in word_deltas(source)
            ]
        if translation:
            out += [
                {"type": "session.output_transcript.delta", "delta": piece, **elapsed}
                for piece in word_deltas(translation)
            ]
        if audio is not None and len(audio):
            for start in range(0, len(audio), _OUT_CHUNK):
                out.append(
                    {
                        "type": "session.output_audio.delta",
                        "delta": encode_base64(audio[start : start + _OUT_CHUNK]),
                        "channels": 1,
                        "format": "pcm16",
                        "sample_rate": 24000,
                        **elapsed,
                    }
                )
        return self._out(out + self._maybe_closed())

    def fail(self, job_id: str, message: str) -> list[dict]:
        """A phrase that could not be translated: one ``error`` saying why (the session goes on)."""
        if self._take_pending(job_id) is None:
            return []
        error = ClientError("translation_failed", message)
        event = error_event(error, None)
        event["error"]["type"] = "server_error"
        return self._out([event, *self._maybe_closed()])

    def expire(self, minutes: float) -> list[dict]:
        """The error sent before closing a session that reached its maximum duration."""
        error = ClientError(
            "session_expired", f"Your session hit the maximum duration of {minutes:g} minutes."
        )
        return self._out([error_event(error, None)])

    # -- plumbing -------------------------------------------------------------------------
    def _take_pending(self, job_id: str) -> TranslationJob | None:
        if job_id not in self._pending:
            return None
        self._pending.discard(job_id)
        return self._jobs_by_id.pop(job_id, None)

    def _maybe_closed(self) -> list[dict]:
        if self.closing and not self._pending and not self.closed:
            self.closed = True
            return [{"type": "session.closed"}]
        return []

    def _out(self, events: list[dict]) -> list[dict]:
        return [{"event_id": self._new_id("event_"), **event} for event in events]

    # -- handlers (wire names) ------------------------------------------------------------
    def _on_session_update(self, event: dict) -> list[dict]:
        update = event.get("session", {})
        for fixed in ("type", "model"):
            if fixed in update and update[fixed] != self.session[fixed]:
                raise ClientError(
                    "invalid_value",
                    f"'session.{fixed}' is set when a translation session is created and cannot "
                    "change: open a new connection (model= in the URL) instead.",
                    f"session.{fixed}",
                )
        rest = {k: v for k, v in update.items() if k not in ("type", "model", "id", "expires_at")}
        check_fields(rest, UPDATE_SPEC, "session")
        self.session = _merge_audio(self.session, rest.get("audio", {}))
        return [{"type": "session.updated", "session": copy.deepcopy(self.session)}]

    def _on_session_input_audio_buffer_append(self, event: dict) -> list[dict]:
        samples = self.input.decode(event["audio"])
        self.limits.check_input_audio(self.input.buffered_samples, samples.size, self.input.rate)
        out: list[dict] = []
        for turn in self.input.append(samples, idle_allowed=False):
            if turn.kind == "speech_started":
                self._phrase_start = turn.start_ms
            elif turn.kind == "speech_stopped":
                self._phrase_start = None
                audio = self.input.take(turn.start_ms, turn.end_ms)
                speech_end = turn.speech_end_ms or turn.end_ms
                speech = audio[: max(0, (speech_end - turn.start_ms) * self.input.rate // 1000)]
                out += self._queue(speech, speech_end)
        return out

    def _on_session_close(self, event: dict) -> list[dict]:
        # "The server flushes pending input audio": a phrase still being spoken is translated.
        self.closing = True
        out: list[dict] = []
        start, self._phrase_start = self._phrase_start, None
        if start is not None:
            audio = self.input.take(start)
            if len(audio) >= self.input.rate // 10:  # 100 ms: less is no phrase
                out += self._queue(audio, start + len(audio) * 1000 // self.input.rate)
        return out + self._maybe_closed()

    def _queue(self, speech: np.ndarray, end_ms: int) -> list[dict]:
        if len(self._pending) >= MAX_PENDING_PHRASES:
            return [
                error_event(
                    ClientError(
                        "translation_backlog",
                        f"{MAX_PENDING_PHRASES} phrases are still being translated, so this one "
                        "was dropped: send audio in real time (not faster), or use a faster "
                        "pipeline.",
                    ),
                    None,
                )
            ]
        transcription = self.session["audio"]["input"]["transcription"]
        job = TranslationJob(
            self._new_id("phrase_"), speech, self.language, bool(transcription), end_ms
        )
        self._pending.add(job.id)
        self._jobs_by_id[job.id] = job
        self.jobs.append(job)
        return []

    def __repr__(self) -> str:
        return f"<TranslationState {self.session['id']} language={self.language!r}>"
