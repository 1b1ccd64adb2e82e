"""Energy voice-activity detector with hysteresis, shared by the embedded server and the widget.

The detector cuts the stream into fixed frames (10 ms by default) on a grid that starts at the
first sample it saw, measures each frame's RMS level in dBFS, and runs a small state machine:

- silent -> a frame at or above the *on* level opens a candidate; frames at or above the *off*
  level (``hysteresis_db`` lower) extend it; a quieter frame drops it. Once a candidate lasts
  ``min_speech_ms`` (so clicks and taps do not count), ``speech_started`` is emitted with
  ``sample`` = candidate start minus ``prefix_padding_ms`` (clamped at 0), like the Realtime API's
  ``audio_start_ms``.
- speaking -> frames below the *off* level count as silence; any louder frame resets the count.
  After ``silence_duration_ms`` of silence, ``speech_stopped`` is emitted with ``sample`` = the
  end of that silence, like the Realtime API's ``audio_end_ms`` (which includes the silence).

Threshold mapping: ``threshold`` in [0, 1] mirrors the server VAD setting (higher = needs louder
audio) and maps linearly onto an on-level in dBFS: ``on_dbfs = -80 + 80 * threshold``. The
default 0.5 gives -40 dBFS: normal speech into a mic with automatic gain control sits around -20
to -35 dBFS per 10 ms frame, quiet room noise around -50 to -60 dBFS. An energy detector cannot
tell loud noise from speech; raise the threshold in a noisy room.

Frames are only evaluated when complete and partial frames are carried over, so the events do
not depend on how the stream is chunked.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal

import numpy as np

from realtime_widget.audio.levels import DBFS_FLOOR
from realtime_widget.audio.pcm import SAMPLE_RATE, as_pcm16
from realtime_widget.audio.resampler import check_rate

VadKind = Literal["speech_started", "speech_stopped"]


def threshold_to_dbfs(threshold: float) -> float:
    """Map a server-VAD-style threshold in [0, 1] to the on-level in dBFS (0.5 -> -40 dBFS).

    Args:
        threshold: 0 (anything above -80 dBFS is speech) to 1 (only full scale).

    Returns:
        ``-80 + 80 * threshold``.

    Raises:
        ValueError: threshold outside [0, 1].
    """
    ok = isinstance(threshold, numbers.Real) and not isinstance(threshold, bool)
    if not ok or not 0.0 <= float(threshold) <= 1.0:
        raise ValueError(f"threshold must be a number between 0 and 1, got {threshold!r}")
    return -80.0 + 80.0 * float(threshold)


@dataclass(frozen=True)
class VadEvent:
    """A change of speech state.

    Attributes:
        kind: ``"speech_started"`` or ``"speech_stopped"``.
        sample: position counted from the first sample the detector saw (since the last
            ``reset``). For ``speech_started`` it includes the prefix padding; for
            ``speech_stopped`` it is the end of the silence that ended the speech.
    """

    kind: VadKind
    sample: int

    def ms(self, rate: int = SAMPLE_RATE) -> int:
        """Position in whole milliseconds at ``rate`` (as ``audio_start_ms``, ``audio_end_ms``)."""
        return self.sample * 1000 // rate


def _non_negative_ms(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a number of milliseconds >= 0, got {value!r}")
    return float(value)


class EnergyVAD:
    """Detect speech start and stop in a mono stream from frame energy, with hysteresis.

    Args:
        rate: sample rate of the stream in Hz.
        threshold: 0..1 like the Realtime API's ``server_vad.threshold``; see
            ``threshold_to_dbfs`` (0.5 -> -40 dBFS).
        prefix_padding_ms: audio kept before the detected start (moves ``speech_started.sample``
            earlier).
        silence_duration_ms: silence that ends speech.
        min_speech_ms: shortest sound that counts as speech (shorter bursts are ignored).
        frame_ms: analysis frame length.
        hysteresis_db: how far below the on-level a frame must fall to count as silence.

    Raises:
        ValueError: a bad rate, a threshold outside [0, 1], or a negative duration.
    """

    def __init__(
        self,
        rate: int = SAMPLE_RATE,
        threshold: float = 0.5,
        prefix_padding_ms: float = 300,
        silence_duration_ms: float = 500,
        *,
        min_speech_ms: float = 100,
        frame_ms: float = 10,
        hysteresis_db: float = 6.0,
    ) -> None:
        self.rate = check_rate(rate)
        self.on_dbfs = threshold_to_dbfs(threshold)
        self.threshold = float(threshold)
        if not isinstance(hysteresis_db, numbers.Real) or not hysteresis_db >= 0:
            raise ValueError(f"hysteresis_db must be >= 0, got {hysteresis_db!r}")
        self.off_dbfs = self.on_dbfs - float(hysteresis_db)
        ms = self.rate / 1000.0
        frame = _non_negative_ms(frame_ms, "frame_ms")
        if not 1.0 <= frame <= 100.0:
            raise ValueError(f"frame_ms must be between 1 and 100 ms, got {frame_ms!r}")
        self.frame_len = max(1, round(frame * ms))
        self.prefix_padding = round(_non_negative_ms(prefix_padding_ms, "prefix_padding_ms") * ms)
        silence = _non_negative_ms(silence_duration_ms, "silence_duration_ms") * ms
        speech = _non_negative_ms(min_speech_ms, "min_speech_ms") * ms
        # Durations rounded up to whole frames; at least one frame each.
        self._silence_frames = max(1, math.ceil(silence / self.frame_len - 1e-9))
        self._speech_frames = max(1, math.ceil(speech / self.frame_len - 1e-9))
        self.reset()

    def reset(self) -> None:
        """Start over: silent, sample counter at 0."""
        self._pending = np.zeros(0, dtype=np.float64)
        self._next = 0  # absolute sample index of the next frame's start
        self._speaking = False
        self._cand_start: int | None = None
        self._cand_frames = 0
        self._quiet_frames = 0
        self._level = DBFS_FLOOR

    @property
    def speaking(self) -> bool:
        """Whether the detector is inside speech."""
        return self._speaking

    @property
    def level_dbfs(self) -> float:
        """Level of the last complete frame in dBFS (``DBFS_FLOOR`` before any)."""
        return self._level

    @property
    def silence_samples(self) -> int:
        """Samples of silence that end speech (``silence_duration_ms`` in whole frames)."""
        return self._silence_frames * self.frame_len

    @property
    def quiet_samples(self) -> int:
        """While speaking: samples of the silence so far (0 when the last frame was speech)."""
        return self._quiet_frames * self.frame_len if self._speaking else 0

    @property
    def speech_end(self) -> int | None:
        """While speaking: the sample where the current silence began (``None`` otherwise)."""
        return self._next - self.quiet_samples if self._speaking else None

    @property
    def samples_seen(self) -> int:
        """Samples fed since the last reset (including a partial frame not yet evaluated)."""
        return self._next + self._pending.size

    def process(self, chunk) -> list[VadEvent]:
        """Feed the next chunk of the stream.

        Args:
            chunk: int16 samples, raw PCM16 little-endian bytes, or floats in [-1, 1].

        Returns:
            The events completed by this chunk, in order (often empty).

        Raises:
            ValueError: not mono, or bytes of odd length.
        """
        x = self._as_unit(chunk)
        if self._pending.size:
            x = np.concatenate((self._pending, x))
        n = x.size // self.frame_len
        self._pending = x[n * self.frame_len :].copy()
        if n == 0:
            return []
        frames = x[: n * self.frame_len].reshape(n, self.frame_len)
        power = np.einsum("ij,ij->i", frames, frames) / self.frame_len
        with np.errstate(divide="ignore"):
            # fmax: a NaN frame (a broken float source) counts as silence, not as speech.
            levels = np.fmax(10.0 * np.log10(power), DBFS_FLOOR)
        events: list[VadEvent] = []
        for level in levels.tolist():
            self._step(level, events)
        self._level = float(levels[-1])
        return events

    def _step(self, level: float, events: list[VadEvent]) -> None:
        start = self._next
        self._next += self.frame_len
        if self._speaking:
            self._quiet_frames = 0 if level >= self.off_dbfs else self._quiet_frames + 1
            if self._quiet_frames >= self._silence_frames:
                events.append(VadEvent("speech_stopped", self._next))
                self._speaking = False
                self._cand_start = None
            return
        if self._cand_start is None:
            if level < self.on_dbfs:
                return
            self._cand_start, self._cand_frames = start, 0
        if level < self.off_dbfs:
            self._cand_start = None
            return
        self._cand_frames += 1
        if self._cand_frames >= self._speech_frames:
            events.append(
                VadEvent("speech_started", max(0, self._cand_start - self.prefix_padding))
            )
            self._speaking = True
            self._quiet_frames = 0

    @staticmethod
    def _as_unit(chunk) -> np.ndarray:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            arr = np.asarray(chunk)
            if arr.dtype.kind == "f":
                if arr.ndim != 1:
                    raise ValueError(f"expected a mono chunk (1-D array), got shape {arr.shape}")
                return arr.astype(np.float64)
        return as_pcm16(chunk).astype(np.float64) / 32768.0
