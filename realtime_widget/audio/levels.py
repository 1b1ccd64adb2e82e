"""Signal levels: RMS and dBFS.

Levels are relative to digital full scale: int16 samples are read as ``x / 32768`` and float
samples as they are, so a full-scale square wave has RMS 1.0 (0 dBFS) and a full-scale sine
-3.01 dBFS. Silence has no finite level in dB; ``dbfs`` returns ``DBFS_FLOOR`` instead of
``-inf`` so the value stays JSON-safe (it is shown in the widget's level meter).
"""

from __future__ import annotations

import math

import numpy as np

from realtime_widget.audio.pcm import as_pcm16

DBFS_FLOOR = -100.0
"""Level reported for silence, in dBFS: below one int16 LSB (-90.3 dBFS), and finite."""


def _as_unit_float(samples) -> np.ndarray:
    arr = samples if isinstance(samples, np.ndarray) else np.asarray(samples)
    if arr.dtype.kind in "iub" or isinstance(samples, (bytes, bytearray, memoryview)):
        return as_pcm16(samples).astype(np.float64) / 32768.0
    return arr.astype(np.float64, copy=False)


def rms(samples) -> float:
    """Root mean square of the samples, as a fraction of full scale.

    Args:
        samples: int16 samples or PCM16 bytes (scaled by 1/32768), or floats in [-1, 1].

    Returns:
        The RMS level, 0.0 for an empty input.

    Raises:
        ValueError: integers outside the int16 range, or bytes of odd length.
    """
    x = _as_unit_float(samples)
    if x.size == 0:
        return 0.0
    return float(math.sqrt(float(np.dot(x.ravel(), x.ravel())) / x.size))


def dbfs(samples) -> float:
    """RMS level in dB relative to full scale (0 dBFS = full-scale square wave).

    Args:
        samples: int16 samples or floats in [-1, 1].

    Returns:
        ``20 * log10(rms(samples))``, but never below ``DBFS_FLOOR`` (silence and empty input
        return exactly ``DBFS_FLOOR``).
    """
    level = rms(samples)
    if level <= 0.0:
        return DBFS_FLOOR
    return max(DBFS_FLOOR, 20.0 * math.log10(level))
