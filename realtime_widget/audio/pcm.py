"""PCM16 <-> float32 conversion and base64 transport of PCM16 little-endian audio.

The wire format of the Realtime API is PCM16 little-endian mono at 24 kHz, base64 inside JSON
(DESIGN §4). Byte order is explicit (``"<i2"``) so the code is right on big-endian hosts too.
Scaling is symmetric: ``int16 / 32768`` one way, ``float * 32768`` (rounded, clipped) the other,
so ``float_to_pcm16(pcm16_to_float(x)) == x`` exactly for every int16 ``x``.
"""

from __future__ import annotations

import base64
import binascii

import numpy as np

SAMPLE_RATE = 24000
"""Sample rate of PCM audio on the Realtime API wire, in Hz."""

PCM16_LE = np.dtype("<i2")
"""Wire dtype: signed 16-bit little-endian."""

_SCALE = 32768.0


def as_pcm16(samples) -> np.ndarray:
    """Return ``samples`` as a 1-D native int16 array.

    Args:
        samples: an int16 array, raw PCM16 little-endian bytes (``bytes``, ``bytearray``,
            ``memoryview``), or any integer array-like whose values fit in int16.

    Returns:
        A 1-D int16 array (a view when no conversion is needed).

    Raises:
        ValueError: odd byte count, float input (convert it with ``float_to_pcm16`` first),
            values outside the int16 range, or more than one dimension.
    """
    if isinstance(samples, (bytes, bytearray, memoryview)):
        raw = memoryview(samples).cast("B")
        if len(raw) % 2:
            raise ValueError(
                f"PCM16 data must have an even number of bytes, got {len(raw)}: "
                "each sample is 2 bytes (16-bit little-endian)"
            )
        return np.frombuffer(raw, dtype=PCM16_LE).astype(np.int16, copy=False)
    arr = np.asarray(samples)
    if arr.ndim != 1:
        if arr.ndim == 0:
            arr = arr.reshape(1)
        else:
            raise ValueError(
                f"expected mono audio (a 1-D array), got shape {arr.shape}; mix channels down "
                "first, e.g. x.mean(axis=1)"
            )
    if arr.dtype == np.int16:
        return arr
    if arr.size == 0:
        return np.zeros(0, dtype=np.int16)
    if arr.dtype.kind not in "iu":
        raise ValueError(
            f"expected int16 PCM samples, got dtype {arr.dtype}; for floats in [-1, 1] call "
            "float_to_pcm16(x) first"
        )
    lo, hi = int(arr.min()), int(arr.max())
    if lo < -32768 or hi > 32767:
        raise ValueError(
            f"integer samples must fit in int16 [-32768, 32767], got range [{lo}, {hi}]; "
            "scale them down first"
        )
    return arr.astype(np.int16)


def pcm16_to_float(samples) -> np.ndarray:
    """Convert PCM16 samples to float32 in [-1, 1).

    Args:
        samples: int16 samples or raw PCM16 little-endian bytes (see ``as_pcm16``).

    Returns:
        A new float32 array, ``samples / 32768``.

    Raises:
        ValueError: as ``as_pcm16``.
    """
    return as_pcm16(samples).astype(np.float32) * np.float32(1.0 / _SCALE)


def float_to_pcm16(samples) -> np.ndarray:
    """Convert float samples in [-1, 1] to int16, rounding to nearest and clipping.

    Values beyond full scale are clipped (not wrapped) and NaN becomes 0, so a loud or broken
    signal cannot turn into a burst of full-scale noise.

    Args:
        samples: a float array-like (any shape).

    Returns:
        A new int16 array of the same shape, ``clip(round(x * 32768), -32768, 32767)``.
    """
    arr = np.asarray(samples)
    if arr.dtype != np.float32:  # float32 scales exactly by 2**15; anything else goes via float64
        arr = arr.astype(np.float64)
    scaled = np.asarray(arr * _SCALE)  # an array even for a scalar input
    np.nan_to_num(scaled, copy=False, nan=0.0, posinf=32767.0, neginf=-32768.0)
    np.rint(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    return scaled.astype(np.int16)


def encode_base64(samples) -> str:
    """Encode PCM16 audio as base64 text of its little-endian bytes (the wire format).

    Args:
        samples: int16 samples, or raw PCM16 little-endian bytes (sent as they are).

    Returns:
        ASCII base64 text ("" for no samples).

    Raises:
        ValueError: as ``as_pcm16`` (odd byte count, float or out-of-range input).
    """
    if isinstance(samples, (bytes, bytearray, memoryview)):
        raw = memoryview(samples).cast("B")
        if len(raw) % 2:
            as_pcm16(raw)  # raises the odd-byte-count error
        return base64.b64encode(raw).decode("ascii")
    return base64.b64encode(as_pcm16(samples).astype(PCM16_LE, copy=False).tobytes()).decode(
        "ascii"
    )


def decode_base64(data: str | bytes) -> np.ndarray:
    """Decode base64 text of PCM16 little-endian bytes to int16 samples.

    Args:
        data: base64 text (``str`` or ASCII ``bytes``), e.g. the ``delta`` of a
            ``response.output_audio.delta`` event. Whitespace is not allowed inside.

    Returns:
        A new, writable int16 array (empty for ``""``).

    Raises:
        ValueError: the text is not valid base64, or decodes to an odd number of bytes (not
            whole 16-bit samples).
    """
    if isinstance(data, str):
        try:
            data = data.encode("ascii")
        except UnicodeEncodeError:
            raise ValueError(
                "audio data is not base64: it contains non-ASCII characters; expected base64 "
                "of PCM16 little-endian bytes"
            ) from None
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise ValueError(
            f"audio data must be base64 text (str), got {type(data).__name__}; "
            "for raw PCM bytes use as_pcm16()"
        )
    try:
        # validate=True rejects characters outside the alphabet but lets stray or excess
        # padding through ("AA=A", "AAAA===="), which would silently drop or invent bytes.
        data = bytes(data)  # no copy for bytes
        pad = data.find(b"=")
        if pad >= 0 and (
            len(data) % 4 or len(data) - pad > 2 or data[pad:].count(b"=") != len(data) - pad
        ):
            raise ValueError("misplaced '=' padding")
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(
            f"audio data is not valid base64 ({exc}); expected base64 of PCM16 little-endian "
            f"bytes, got {bytes(data[:24])!r}{'...' if len(data) > 24 else ''}"
        ) from None
    if len(raw) % 2:
        raise ValueError(
            f"decoded audio has an odd number of bytes ({len(raw)}): PCM16 needs 2 bytes per "
            "sample; the data is truncated or not PCM16"
        )
    return np.frombuffer(raw, dtype=PCM16_LE).astype(np.int16)
