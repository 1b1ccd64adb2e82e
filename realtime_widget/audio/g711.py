"""G.711 μ-law and A-law codecs (the Realtime API's ``audio/pcmu`` and ``audio/pcma`` at 8 kHz).

The arithmetic follows the ITU-T's own reference implementation (G.191 Software Tools Library,
``g711.c``) on 16-bit left-justified PCM: negative inputs use the one's complement, so ``x`` and
``-x - 1`` map to mirror-image codes and ``-1`` encodes to negative zero, as G.711 Table 1/2
decision levels require. (The widespread Sun ``g711.c`` floors negative inputs instead and differs
at some decision boundaries.)

Both directions are table lookups: the 65536-entry encode tables and 256-entry decode tables are
computed once at import by the vectorised formulas below.
"""

from __future__ import annotations

import numpy as np

from realtime_widget.audio.pcm import as_pcm16


def _bit_length(v: np.ndarray) -> np.ndarray:
    # Number of significant bits of non-negative ints < 2**16, vectorised.
    out = np.zeros(v.shape, dtype=np.int32)
    for k in range(16):
        out += v >= (1 << k)
    return out


def _ulaw_compress(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.int32)
    absno = np.where(x < 0, (~x) >> 2, x >> 2) + 33
    absno = np.minimum(absno, 0x1FFF)
    segno = 1 + _bit_length(absno >> 6)
    high = 8 - segno
    low = 15 - ((absno >> segno) & 0x0F)
    out = (high << 4) | low
    out = np.where(x >= 0, out | 0x80, out)
    return out.astype(np.uint8)


def _ulaw_expand(y: np.ndarray) -> np.ndarray:
    y = y.astype(np.int32)
    sign = np.where(y < 0x80, -1, 1)
    mantissa = ~y
    exponent = (mantissa >> 4) & 0x07
    step = 4 << (exponent + 1)
    mantissa = mantissa & 0x0F
    out = sign * ((0x80 << exponent) + step * mantissa + step // 2 - 4 * 33)
    return out.astype(np.int16)


def _alaw_compress(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.int32)
    ix = np.where(x < 0, (~x) >> 4, x >> 4)
    exp = np.maximum(_bit_length(ix) - 4, 1)
    seg = np.where(ix > 15, ((ix >> (exp - 1)) - 16) + (exp << 4), ix)
    seg = np.where(x >= 0, seg | 0x80, seg)
    return (seg ^ 0x55).astype(np.uint8)


def _alaw_expand(y: np.ndarray) -> np.ndarray:
    y = y.astype(np.int32)
    ix = (y ^ 0x55) & 0x7F
    iexp = ix >> 4
    mant = ix & 0x0F
    mant = np.where(iexp > 0, mant + 16, mant)
    mant = (mant << 4) + 0x08
    mant = np.where(iexp > 1, mant << np.maximum(iexp - 1, 0), mant)
    return np.where(y > 127, mant, -mant).astype(np.int16)


_ALL_INT16 = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
_ALL_CODES = np.arange(256, dtype=np.uint8)
# Encode tables are indexed by the int16 sample reinterpreted as uint16.
_ULAW_ENC = np.empty(65536, dtype=np.uint8)
_ULAW_ENC[_ALL_INT16.view(np.uint16)] = _ulaw_compress(_ALL_INT16)
_ALAW_ENC = np.empty(65536, dtype=np.uint8)
_ALAW_ENC[_ALL_INT16.view(np.uint16)] = _alaw_compress(_ALL_INT16)
_ULAW_DEC = _ulaw_expand(_ALL_CODES)
_ALAW_DEC = _alaw_expand(_ALL_CODES)
for _table in (_ULAW_ENC, _ALAW_ENC, _ULAW_DEC, _ALAW_DEC):
    _table.flags.writeable = False


def _as_codes(data) -> np.ndarray:
    if isinstance(data, (bytes, bytearray, memoryview)):
        return np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    arr = np.asarray(data)
    if arr.size == 0:
        return np.zeros(0, dtype=np.uint8)
    if arr.dtype != np.uint8:
        if arr.dtype.kind not in "iu" or int(arr.min()) < 0 or int(arr.max()) > 255:
            raise ValueError(
                f"G.711 codes must be bytes or uint8 values 0..255, got dtype {arr.dtype}"
            )
        arr = arr.astype(np.uint8)
    return arr.ravel()


def ulaw_encode(samples) -> np.ndarray:
    """Encode int16 PCM samples to G.711 μ-law codes.

    Args:
        samples: int16 samples or raw PCM16 little-endian bytes.

    Returns:
        A uint8 array, one code per sample (``.tobytes()`` gives the wire bytes).

    Raises:
        ValueError: as ``as_pcm16`` (odd byte count, float input).
    """
    return _ULAW_ENC[as_pcm16(samples).view(np.uint16)]


def ulaw_decode(codes) -> np.ndarray:
    """Decode G.711 μ-law codes to int16 PCM (full scale ±32124).

    Args:
        codes: ``bytes`` or a uint8 array.

    Returns:
        An int16 array, one sample per code.
    """
    return _ULAW_DEC[_as_codes(codes)]


def alaw_encode(samples) -> np.ndarray:
    """Encode int16 PCM samples to G.711 A-law codes (even bits inverted, as transmitted).

    Args:
        samples: int16 samples or raw PCM16 little-endian bytes.

    Returns:
        A uint8 array, one code per sample.

    Raises:
        ValueError: as ``as_pcm16`` (odd byte count, float input).
    """
    return _ALAW_ENC[as_pcm16(samples).view(np.uint16)]


def alaw_decode(codes) -> np.ndarray:
    """Decode G.711 A-law codes to int16 PCM (full scale ±32256).

    Args:
        codes: ``bytes`` or a uint8 array.

    Returns:
        An int16 array, one sample per code.
    """
    return _ALAW_DEC[_as_codes(codes)]
