"""The session's input audio buffer and server-VAD glue (pure: no clock, no I/O).

Time here is *audio time*: samples appended since the session's first audio. That is what the
real service reports (``speech_started.audio_start_ms`` counts from the first audio written in
the session and includes the prefix padding, DESIGN §6), and it makes VAD and the idle timeout
independent of network timing, so tests are deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from realtime_widget.audio import EnergyVAD, alaw_decode, decode_base64, ulaw_decode
from realtime_widget.server._checks import ClientError
from realtime_widget.server._config import silence_ms_for

__all__ = ["InputAudio", "TurnEvent"]

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
    """

    def __init__(self, audio_format: dict, turn_detection: dict | None) -> None:
        self.rate = 24000
        self._decode = decode_base64
        self.total = 0  # samples appended in the session (audio time)
        self._chunks: list[np.ndarray] = []
        self._start = 0  # session sample where the buffer begins
        self._size = 0
        self._vad: EnergyVAD | None = None
        self._vad_origin = 0
        self.speech_start: int | None = None  # session sample, while speaking
        self._paused_at: int | None = None  # speech end already reported as a pause
        self.idle_timeout_ms: int | None = None
        self.last_activity = 0  # session sample of the last turn end or response end
        self.configure(audio_format, turn_detection)

    def configure(self, audio_format: dict, turn_detection: dict | None) -> None:
        """Apply the session's input format and turn detection (a new VAD starts silent)."""
        rate, decode = _DECODERS.get(audio_format.get("type", "audio/pcm"), _DECODERS["audio/pcm"])
        if rate != self.rate and self._size:
            self.clear()  # buffered audio of another format cannot be mixed in
        self.rate, self._decode = rate, decode
        self._vad, self.speech_start = None, None
        self.idle_timeout_ms = None
        if turn_detection:
            self._vad = EnergyVAD(
                rate,
                threshold=float(turn_detection.get("threshold", 0.5)),
                prefix_padding_ms=int(turn_detection.get("prefix_padding_ms", 300)),
                silence_duration_ms=silence_ms_for(turn_detection),
            )
            self._vad_origin = self.total
            self.idle_timeout_ms = turn_detection.get("idle_timeout_ms")

    def ms(self, sample: int) -> int:
        """Session sample index -> milliseconds of audio time."""
        return int(sample * 1000 // self.rate)

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
        if samples.size:
            self._chunks.append(samples)
            self._size += samples.size
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
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        begin = min(self._size, max(0, start_ms * self.rate // 1000 - self._start))
        end = min(self._size, max(begin, end_ms * self.rate // 1000 - self._start))
        return audio[begin:end].copy()

    def take(self, start_ms: int | None = None, end_ms: int | None = None) -> np.ndarray:
        """Remove and return buffered audio up to ``end_ms`` (all by default).

        Audio before ``start_ms`` is dropped with it (silence before a VAD turn's padding).
        """
        audio = np.concatenate(self._chunks) if self._chunks else np.zeros(0, dtype=np.int16)
        end = (
            self._size
            if end_ms is None
            else min(self._size, max(0, end_ms * self.rate // 1000 - self._start))
        )
        begin = (
            0 if start_ms is None else min(end, max(0, start_ms * self.rate // 1000 - self._start))
        )
        taken, rest = audio[begin:end], audio[end:]
        self._chunks = [rest] if rest.size else []
        self._start += end
        self._size = rest.size
        return taken

    def clear(self) -> None:
        """Drop the uncommitted audio (VAD state and audio time continue)."""
        self._start += self._size
        self._chunks, self._size = [], 0
