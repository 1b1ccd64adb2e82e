"""WAV read/write: round trips, every accepted sample format (made by sox), clear errors."""

import io
import shutil
import struct
import subprocess
import wave

import numpy as np
import pytest

from realtime_widget.audio import read_wav, wav_bytes, write_wav
from tests.helpers import require

RAMP = np.array([0, 1, -1, 1000, -1000, 32767, -32768], dtype=np.int16)


def _wav(fmt_tag, channels, rate, bits, payload, extensible=False):
    block = channels * bits // 8
    if extensible:
        fmt = struct.pack("<HHIIHH", 0xFFFE, channels, rate, rate * block, block, bits)
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt += struct.pack("<HHI", 22, bits, 0) + struct.pack("<H", fmt_tag) + guid_tail
    else:
        fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    chunks = b"fmt " + struct.pack("<I", len(fmt)) + fmt
    chunks += b"data" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WAVE" + chunks


def test_wav_bytes_round_trip_is_exact():
    samples, rate = read_wav(wav_bytes(RAMP, 24000))
    assert rate == 24000
    assert samples.dtype == np.int16
    assert samples.tolist() == RAMP.tolist()


def test_wav_bytes_is_a_16bit_mono_wav_the_stdlib_reads():
    with wave.open(io.BytesIO(wav_bytes(RAMP, 16000))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 16000)
        assert np.frombuffer(w.readframes(100), "<i2").tolist() == RAMP.tolist()


def test_wav_bytes_header_is_the_canonical_44_byte_literal():
    data = wav_bytes(np.array([1, -2], np.int16), 8000)
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    data_chunk = b"data" + struct.pack("<I", 4) + b"\x01\x00\xfe\xff"
    assert data == b"RIFF" + struct.pack("<I", 40) + b"WAVEfmt " + fmt + data_chunk


def test_write_wav_and_read_wav_use_paths_and_file_objects(tmp_path):
    path = tmp_path / "a.wav"
    write_wav(path, RAMP, 22050)
    assert read_wav(path)[0].tolist() == RAMP.tolist()
    assert read_wav(str(path))[1] == 22050
    with open(path, "rb") as f:
        assert read_wav(f)[0].tolist() == RAMP.tolist()
    buf = io.BytesIO()
    write_wav(buf, RAMP, 8000)
    assert read_wav(buf.getvalue())[1] == 8000


def test_write_wav_converts_float_samples_with_clipping():
    samples, _ = read_wav(wav_bytes(np.array([0.0, 0.5, -1.0, 2.0]), 24000))
    assert samples.tolist() == [0, 16384, -32768, 32767]


def test_empty_wav_reads_as_empty():
    samples, rate = read_wav(wav_bytes(np.zeros(0, np.int16), 24000))
    assert samples.size == 0 and rate == 24000


def test_read_wav_mixes_stereo_down_to_mono_by_averaging():
    frames = np.array([[1000, 3000], [-32768, -32768], [32767, -32767], [1, 2]], "<i2")
    samples, _ = read_wav(_wav(1, 2, 48000, 16, frames.tobytes()))
    assert samples.tolist() == [2000, -32768, 0, 2]  # 1.5 rounds to even


def test_read_wav_reads_8bit_unsigned():
    samples, _ = read_wav(_wav(1, 1, 8000, 8, bytes([128, 255, 0, 192])))
    assert samples.tolist() == [0, 32512, -32768, 16384]


def test_read_wav_reads_24bit():
    payload = (
        b"\x00\x00\x00" + b"\x00\x00\x40" + b"\xff\xff\xff" + b"\x00\x00\x80" + b"\x80\x01\x00"
    )
    samples, _ = read_wav(_wav(1, 1, 48000, 24, payload))
    assert samples.tolist() == [0, 16384, 0, -32768, 2]  # 0x000180 / 256 = 1.5 -> 2


def test_read_wav_reads_32bit_int_and_float_and_extensible():
    ints = np.array([0, 1 << 30, -(1 << 31)], "<i4").tobytes()
    assert read_wav(_wav(1, 1, 8000, 32, ints))[0].tolist() == [0, 16384, -32768]
    floats = np.array([0.0, 0.25, -1.0, 3.0], "<f4").tobytes()
    assert read_wav(_wav(3, 1, 8000, 32, floats))[0].tolist() == [0, 8192, -32768, 32767]
    doubles = np.array([0.5], "<f8").tobytes()
    assert read_wav(_wav(3, 1, 8000, 64, doubles))[0].tolist() == [16384]
    ext = read_wav(_wav(1, 1, 8000, 16, RAMP.astype("<i2").tobytes(), extensible=True))
    assert ext[0].tolist() == RAMP.tolist()


def test_read_wav_skips_unknown_chunks_and_odd_padding():
    base = _wav(1, 1, 8000, 16, RAMP.astype("<i2").tobytes())
    extra = b"LIST" + struct.pack("<I", 3) + b"abc\x00"  # odd size, padded
    data = base[:12] + extra + base[12:]
    assert read_wav(data)[0].tolist() == RAMP.tolist()


def test_read_wav_tolerates_a_data_size_larger_than_the_file():
    # Streaming writers (sox to a pipe) leave the size field at its maximum.
    data = bytearray(_wav(1, 1, 8000, 16, RAMP.astype("<i2").tobytes() + b"\x07"))
    data[40:44] = struct.pack("<I", 0xFFFFFFFF)
    assert read_wav(bytes(data))[0].tolist() == RAMP.tolist()  # trailing half sample dropped


@pytest.mark.parametrize(
    "args",
    [["-b", "8", "-e", "unsigned-integer"], ["-b", "24"], ["-b", "32"], ["-e", "floating-point"]],
)
def test_read_wav_reads_formats_sox_writes(tmp_path, args):
    require(shutil.which("sox") is not None, "sox is not installed (apt-get install sox)")
    src, out = tmp_path / "in.wav", tmp_path / "out.wav"
    tone = (np.sin(2 * np.pi * 440 * np.arange(2400) / 24000) * 20000).astype(np.int16)
    stereo = np.stack([tone, tone], axis=1).astype("<i2")
    with wave.open(str(src), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(24000)
        w.writeframes(stereo.tobytes())
    # -D: no dither, so the only error left is the target format's quantisation.
    subprocess.run(["sox", "-D", str(src), *args, str(out)], check=True)
    samples, rate = read_wav(out)
    assert rate == 24000 and samples.shape == tone.shape
    tolerance = 128 if "8" in args else 1
    assert np.max(np.abs(samples.astype(int) - tone)) <= tolerance


def test_read_wav_rejects_non_wav_data_with_a_hint():
    with pytest.raises(ValueError, match=r"not a WAV file.*sox"):
        read_wav(b"ID3\x03\x00 this is an mp3")


def test_read_wav_rejects_missing_data_chunk():
    head = _wav(1, 1, 8000, 16, b"")
    with pytest.raises(ValueError, match="'data' chunk"):
        read_wav(head[:36].replace(head[4:8], struct.pack("<I", 28)))


@pytest.mark.parametrize(
    "tag,bits,name", [(6, 8, "0x0006"), (1, 12, "malformed"), (3, 16, "float 16")]
)
def test_read_wav_rejects_unsupported_sample_formats_naming_them(tag, bits, name):
    with pytest.raises(ValueError, match=name):
        read_wav(_wav(tag, 1, 8000, bits, b"\x00" * 8))


def test_write_wav_rejects_bad_rate_and_odd_bytes(tmp_path):
    with pytest.raises(ValueError, match="rate"):
        write_wav(tmp_path / "x.wav", RAMP, 0)
    with pytest.raises(ValueError, match="even number of bytes"):
        wav_bytes(b"\x00\x00\x00", 8000)


def test_read_wav_accepts_fmt_chunk_after_data_chunk():
    base = _wav(1, 1, 8000, 16, RAMP.astype("<i2").tobytes())
    fmt_chunk, data_chunk = base[12:36], base[36:]
    assert read_wav(base[:12] + data_chunk + fmt_chunk)[0].tolist() == RAMP.tolist()
