"""Streaming sample-rate conversion with a Kaiser-windowed sinc filter (pure numpy).

Method: for a rational ratio ``dst/src = L/M`` (reduced by their gcd), output sample ``n`` sits at
input time ``t = n*M/L``. Its value is the dot product of the input around ``floor(t)`` with a
windowed sinc evaluated at the fractional offset ``(n*M mod L)/L``. There are exactly ``L`` such
offsets (polyphase), so their taps are tabulated once per rate pair and shared by all resamplers
(for awkward pairs with thousands of phases, e.g. a prime rate, taps are interpolated from a table
of 512 offsets per sample instead: slower, about 50x real time, same accuracy). Integer arithmetic
fixes which inputs and which phase each output uses, so a stream cut into any chunks computes every
output from the same inputs with the same taps: streaming equals one-shot resampling (measured:
identical to within float32 rounding, see ``STREAMING_TOLERANCE``), and chunk boundaries cannot
click.

Filter: cutoff at ``ROLLOFF`` of the lower Nyquist frequency, ``ZERO_CROSSINGS`` zero
crossings of the sinc per side, Kaiser window with ``KAISER_BETA`` (measured for 48 kHz -> 24 kHz:
flat within 0.05 dB to 10 kHz, aliases from 12.5 kHz up rejected by >= 90 dB). The input is
treated as zeros before the first sample and (on ``flush``) after the last; the filter is
centred, so output sample ``n`` is aligned with input time ``n*src/dst`` (no delay in the
result; the stream holds back ``ZERO_CROSSINGS/cutoff`` input samples until more arrive).
"""

from __future__ import annotations

import math
import numbers
from functools import lru_cache

import numpy as np

from realtime_widget.audio.pcm import SAMPLE_RATE, as_pcm16, float_to_pcm16

ROLLOFF = 0.92
"""Cutoff as a fraction of the lower of the two Nyquist frequencies."""
ZERO_CROSSINGS = 24
"""Zero crossings of the sinc kernel on each side of its centre."""
KAISER_BETA = 9.0
"""Kaiser window shape (about 90 dB stopband attenuation)."""
MAX_RATE = 768_000
"""Highest accepted sample rate, in Hz."""
STREAMING_TOLERANCE = 1e-6
"""Max difference between streamed and one-shot float output (int16 output: 1 LSB)."""

# Above this many taps the exact polyphase table is not stored (awkward rate pairs, e.g. a prime
# rate, have up to 24000 phases); taps are then interpolated linearly between _SUB_PHASES + 1
# tabulated fractional offsets per input sample, which keeps the kernel error near -106 dB.
_MAX_TABLE_TAPS = 1 << 20
_SUB_PHASES = 512
# Outputs computed per vectorised step (bounds temporaries to a few MB).
_BLOCK = 4096


def check_rate(rate, name: str = "rate") -> int:
    """Validate a sample rate and return it as an ``int``.

    Args:
        rate: rate in Hz; an integer, or an integral float such as ``48000.0``.
        name: the argument name to use in the error message.

    Returns:
        The rate as ``int``.

    Raises:
        ValueError: not a positive whole number of Hz up to ``MAX_RATE``.
    """
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real):
        raise ValueError(f"{name} must be a whole number of Hz, got {rate!r}")
    if not math.isfinite(float(rate)) or float(rate) != int(rate):
        raise ValueError(f"{name} must be a whole number of Hz, got {rate!r}")
    value = int(rate)
    if value <= 0 or value > MAX_RATE:
        raise ValueError(f"{name} must be between 1 and {MAX_RATE} Hz, got {rate!r}")
    return value


def _kernel(frac: np.ndarray, half: int, cutoff: float) -> np.ndarray:
    """Taps for outputs at fractional offsets ``frac`` (shape (n,)) -> shape (n, 2*half).

    Tap ``j`` multiplies input ``floor(t) - half + 1 + j``; its distance from ``t`` is
    ``frac + half - 1 - j``.
    """
    offsets = np.arange(half - 1, -half - 1, -1, dtype=np.float64)
    d = frac[:, None] + offsets[None, :]
    ratio = np.clip(d / half, -1.0, 1.0)
    window = np.i0(KAISER_BETA * np.sqrt(1.0 - ratio * ratio)) / np.i0(KAISER_BETA)
    taps = cutoff * np.sinc(cutoff * d) * window
    # Unit DC gain for every phase, so a constant input gives a constant output (no ripple).
    taps /= taps.sum(axis=1, keepdims=True)
    return taps.astype(np.float32)


@lru_cache(maxsize=16)
def _design(src: int, dst: int) -> tuple[int, int, int, np.ndarray, bool]:
    """Filter for ``src -> dst``: (up, down, half, taps table, whether the table is exact)."""
    g = math.gcd(src, dst)
    up, down = dst // g, src // g
    cutoff = ROLLOFF * min(1.0, up / down)
    half = math.ceil(ZERO_CROSSINGS / cutoff)
    exact = up * 2 * half <= _MAX_TABLE_TAPS
    grid = np.arange(up) / up if exact else np.arange(_SUB_PHASES + 1) / _SUB_PHASES
    table = _kernel(grid.astype(np.float64), half, cutoff)
    table.flags.writeable = False
    return up, down, half, table, exact


class StreamingResampler:
    """Convert a stream of mono audio from ``src_rate`` to ``dst_rate``, chunk by chunk.

    State carries across ``process`` calls, so cutting a signal into any chunks gives the same
    output as ``resample`` on the whole (within ``STREAMING_TOLERANCE``). Output lags input by
    the filter's half-length (e.g. 53 input samples, about 1 ms, for 48 kHz -> 24 kHz);
    ``flush`` returns the rest at the end of the stream.

    Args:
        src_rate: input rate in Hz (any whole number up to ``MAX_RATE``, e.g. 44100, 44056).
        dst_rate: output rate in Hz, 24000 by default (the Realtime API's PCM rate).

    Raises:
        ValueError: a rate that is not a positive whole number of Hz.

    Example:
        ``r = StreamingResampler(48000)``, then ``r.process(chunk)`` for each 20 ms chunk from
        the microphone, and ``r.flush()`` when it stops.
    """

    def __init__(self, src_rate: int, dst_rate: int = SAMPLE_RATE) -> None:
        self.src_rate = check_rate(src_rate, "src_rate")
        self.dst_rate = check_rate(dst_rate, "dst_rate")
        self._passthrough = self.src_rate == self.dst_rate
        self._up, self._down, self._half, self._table, self._exact = _design(
            self.src_rate, self.dst_rate
        )
        self._last_int = True  # output dtype of flush(): follows the last chunk's
        self.reset()

    def reset(self) -> None:
        """Forget all input: the next chunk starts a new stream at sample 0."""
        # Buffer of input samples from absolute index self._start on; zeros stand in for the
        # samples before the stream started.
        self._start = -(self._half - 1)
        self._buf = np.zeros(self._half - 1, dtype=np.float32)
        self._received = 0  # input samples seen
        self._emitted = 0  # output samples produced

    @property
    def latency(self) -> int:
        """Input samples held back until later input (or ``flush``) completes their outputs."""
        return 0 if self._passthrough else self._half

    def process(self, chunk) -> np.ndarray:
        """Resample the next chunk of the stream.

        Args:
            chunk: int16 samples, raw PCM16 little-endian bytes, or float samples (1-D).

        Returns:
            The output samples that are complete so far: int16 for int16/bytes input,
            float32 for float input. May be empty for a short chunk.

        Raises:
            ValueError: more than one channel, or bytes of odd length.
        """
        x, as_int = self._as_float(chunk)
        if self._passthrough:
            self._received += x.size
            self._emitted += x.size
            return self._out(x.copy(), as_int)
        self._buf = np.concatenate((self._buf, x)) if x.size else self._buf
        self._received += x.size
        # Output n needs inputs up to floor(n*M/L) + half <= received - 1.
        last = self._received - 1 - self._half
        n_end = 0 if last < 0 else ((last + 1) * self._up + self._down - 1) // self._down
        return self._out(self._emit(n_end), as_int)

    def flush(self, as_int16: bool | None = None) -> np.ndarray:
        """End the stream: return the remaining outputs, then reset for a new stream.

        The total output length over the stream is ``ceil(n_in * dst_rate / src_rate)``.

        Args:
            as_int16: output dtype; by default int16 if the last chunk was int16, else float32.

        Returns:
            The remaining output samples.
        """
        as_int = self._last_int if as_int16 is None else as_int16
        if self._passthrough:
            out = np.zeros(0, dtype=np.float32)
        else:
            total = (self._received * self._up + self._down - 1) // self._down
            self._buf = np.concatenate((self._buf, np.zeros(self._half + 1, dtype=np.float32)))
            out = self._emit(total)
        self.reset()
        return self._out(out, as_int)

    # -- internals -------------------------------------------------------------------------

    def _as_float(self, chunk) -> tuple[np.ndarray, bool]:
        if isinstance(chunk, (bytes, bytearray, memoryview)):
            arr = as_pcm16(chunk)
        else:
            arr = np.asarray(chunk)
            if arr.ndim != 1:
                raise ValueError(
                    f"expected a mono chunk (1-D array), got shape {arr.shape}; mix channels "
                    "down first, e.g. x.mean(axis=1)"
                )
        if arr.dtype.kind in "iu":
            self._last_int = True
            return as_pcm16(arr).astype(np.float32) * np.float32(1 / 32768), True
        self._last_int = False
        return arr.astype(np.float32, copy=False), False

    @staticmethod
    def _out(y: np.ndarray, as_int: bool) -> np.ndarray:
        return float_to_pcm16(y) if as_int else y.astype(np.float32, copy=False)

    def _emit(self, n_end: int) -> np.ndarray:
        n0 = self._emitted
        if n_end <= n0:
            return np.zeros(0, dtype=np.float32)
        view = np.lib.stride_tricks.sliding_window_view(self._buf, 2 * self._half)
        # Blocks bound the (outputs x taps) temporaries: one-shot on an hour of audio would
        # otherwise gather gigabytes. Each output is computed the same way in any block.
        y = np.concatenate(
            [self._block(view, b, min(b + _BLOCK, n_end)) for b in range(n0, n_end, _BLOCK)]
        )
        self._emitted = n_end
        # Drop input no future output needs.
        keep_from = (n_end * self._down) // self._up - (self._half - 1) - self._start
        if keep_from > 0:
            self._buf = self._buf[keep_from:]
            self._start += keep_from
        return y

    def _block(self, view: np.ndarray, n0: int, n1: int) -> np.ndarray:
        pos = np.arange(n0, n1, dtype=np.int64) * self._down
        first = pos // self._up - (self._half - 1) - self._start  # buffer index of tap 0
        phase = pos % self._up
        windows = view[first]
        if self._exact:
            taps = self._table[phase]
        else:
            # Integer arithmetic picks the two tabulated offsets; the blend weight depends on the
            # phase alone, so every chunking computes the same taps for the same output.
            scaled = phase * _SUB_PHASES
            k = scaled // self._up
            a = ((scaled % self._up) / self._up).astype(np.float32)[:, None]
            taps = self._table[k] * (1 - a) + self._table[k + 1] * a
        return np.einsum("ij,ij->i", windows, taps)


def resample(samples, src_rate: int, dst_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Resample a whole mono signal (the same filter as ``StreamingResampler``).

    Args:
        samples: int16 samples, raw PCM16 bytes, or float samples (1-D).
        src_rate: input rate in Hz.
        dst_rate: output rate in Hz (24000 by default).

    Returns:
        ``ceil(len * dst_rate / src_rate)`` samples; int16 for int16/bytes input, else float32.

    Raises:
        ValueError: a bad rate, or more than one channel.
    """
    r = StreamingResampler(src_rate, dst_rate)
    head = r.process(samples)
    tail = r.flush()
    return np.concatenate((head, tail.astype(head.dtype, copy=False)))
