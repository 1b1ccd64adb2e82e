"""WAV files: read any common PCM or float WAV as mono int16, write mono 16-bit PCM.

Reading parses the RIFF chunks with ``struct`` because the stdlib ``wave`` module refuses
IEEE-float WAV (format 3), which browser recorders and ``sox`` produce; writing uses ``wave``.
Accepted on read: PCM 8 (unsigned), 16, 24 and 32 bit, float 32 and 64 bit, plain or
WAVE_FORMAT_EXTENSIBLE, any channel count (mixed down to mono by averaging).
"""

from __future__ import annotations

import io
import os
import struct
import wave
from typing import BinaryIO

import numpy as np

from realtime_widget.audio.pcm import as_pcm16, float_to_pcm16
from realtime_widget.audio.resampler import check_rate

_PCM, _FLOAT, _EXTENSIBLE = 0x0001, 0x0003, 0xFFFE


def _read_source(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if hasattr(source, "read"):
        return source.read()
    with open(os.fspath(source), "rb") as f:
        return f.read()


def _chunks(data: bytes):
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError(
            "not a WAV file: expected a RIFF/WAVE header (convert it first, e.g. "
            "`sox in.mp3 out.wav`)"
        )
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack_from("<I", data, pos + 4)[0]
        body = data[pos + 8 : pos + 8 + size]  # a streaming writer may leave size too big
        yield cid, body
        pos += 8 + size + (size & 1)  # chunks are padded to even length


def read_wav(source) -> tuple[np.ndarray, int]:
    """Read a WAV file as mono int16 samples.

    Args:
        source: a path, a binary file object, or the file's bytes.

    Returns:
        ``(samples, rate)``: a 1-D int16 array (channels averaged, other sample formats
        converted with rounding) and the sample rate in Hz.

    Raises:
        ValueError: not a RIFF/WAVE file, no ``fmt ``/``data`` chunk, or a sample format other
            than PCM 8/16/24/32-bit or float 32/64-bit (the message names it).
    """
    data = _read_source(source)
    fmt = body = None
    for cid, chunk in _chunks(data):
        # Take the first of each, in any order (some writers put 'fmt ' after 'data').
        if cid == b"fmt " and fmt is None:
            fmt = chunk
        elif cid == b"data" and body is None:
            body = chunk
    if fmt is None or len(fmt) < 16 or body is None:
        raise ValueError("malformed WAV file: missing its 'fmt ' or 'data' chunk")
    tag, channels, rate, _, block, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == _EXTENSIBLE and len(fmt) >= 26:
        tag = struct.unpack_from("<H", fmt, 24)[0]  # first 2 bytes of the SubFormat GUID
    width = bits // 8
    if channels < 1 or rate < 1 or width * 8 != bits or block != width * channels:
        raise ValueError(
            f"malformed WAV header: {channels} channels, {rate} Hz, {bits} bits, block {block}"
        )
    usable = len(body) - len(body) % block
    raw = body[:usable]
    if tag == _PCM and bits == 16:
        frames = np.frombuffer(raw, dtype="<i2").reshape(-1, channels)
        if channels == 1:
            return frames[:, 0].astype(np.int16), rate
        return float_to_pcm16(frames.mean(axis=1) / 32768.0), rate
    if tag == _PCM and bits == 8:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif tag == _PCM and bits == 24:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float64) / float(1 << 23)
    elif tag == _PCM and bits == 32:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float64) / float(1 << 31)
    elif tag == _FLOAT and bits in (32, 64):
        x = np.frombuffer(raw, dtype="<f4" if bits == 32 else "<f8").astype(np.float64)
    else:
        kind = {_PCM: "PCM", _FLOAT: "float"}.get(tag, f"format tag 0x{tag:04x}")
        raise ValueError(
            f"unsupported WAV sample format: {kind} {bits}-bit; supported are PCM 8/16/24/32-bit "
            "and float 32/64-bit (convert with e.g. `sox in.wav -b 16 out.wav`)"
        )
    return float_to_pcm16(x.reshape(-1, channels).mean(axis=1)), rate


def _pcm16_mono(samples) -> np.ndarray:
    arr = np.asarray(samples) if not isinstance(samples, (bytes, bytearray, memoryview)) else None
    if arr is not None and arr.dtype.kind == "f":
        return float_to_pcm16(arr)
    return as_pcm16(samples)


def write_wav(dest: str | os.PathLike | BinaryIO, samples, rate: int) -> None:
    """Write mono 16-bit PCM WAV.

    Args:
        dest: a path or a writable binary file object.
        samples: int16 samples, raw PCM16 bytes, or floats in [-1, 1] (rounded and clipped).
        rate: sample rate in Hz.

    Raises:
        ValueError: a bad rate, or samples that are not mono PCM16/float.
    """
    rate = check_rate(rate)
    pcm = _pcm16_mono(samples)
    with wave.open(dest if hasattr(dest, "write") else os.fspath(dest), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2", copy=False).tobytes())


def wav_bytes(samples, rate: int) -> bytes:
    """Return a mono 16-bit PCM WAV file as bytes (see ``write_wav``).

    Args:
        samples: int16 samples, raw PCM16 bytes, or floats in [-1, 1].
        rate: sample rate in Hz.

    Returns:
        The complete WAV file.
    """
    buf = io.BytesIO()
    write_wav(buf, samples, rate)
    return buf.getvalue()
