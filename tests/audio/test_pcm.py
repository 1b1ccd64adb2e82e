"""PCM16 <-> float and base64 transport, against literals both ways and on every error path."""

import base64

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from realtime_widget.audio import (
    as_pcm16,
    decode_base64,
    encode_base64,
    float_to_pcm16,
    pcm16_to_float,
)

# One literal: samples [0, 1, -1, 32767, -32768] as little-endian bytes and their base64.
SAMPLES = np.array([0, 1, -1, 32767, -32768], dtype=np.int16)
LE_BYTES = b"\x00\x00\x01\x00\xff\xff\xff\x7f\x00\x80"
B64 = "AAABAP///38AgA=="


def test_encode_base64_matches_little_endian_literal():
    assert base64.b64decode(B64) == LE_BYTES
    assert encode_base64(SAMPLES) == B64


def test_decode_base64_matches_little_endian_literal():
    out = decode_base64(B64)
    assert out.dtype == np.int16
    assert out.tolist() == SAMPLES.tolist()


def test_decode_base64_accepts_ascii_bytes():
    assert decode_base64(B64.encode()).tolist() == SAMPLES.tolist()


def test_decode_base64_returns_writable_array():
    out = decode_base64(B64)
    out[0] = 5  # conversation code appends to and edits decoded chunks
    assert out[0] == 5


def test_encode_base64_sends_raw_bytes_unchanged():
    assert encode_base64(LE_BYTES) == B64
    assert encode_base64(bytearray(LE_BYTES)) == B64
    assert encode_base64(memoryview(LE_BYTES)) == B64


def test_encode_base64_is_little_endian_for_big_endian_arrays():
    assert encode_base64(SAMPLES.astype(">i2")) == B64


def test_empty_audio_encodes_and_decodes_to_empty():
    assert encode_base64(np.zeros(0, np.int16)) == ""
    assert encode_base64(b"") == ""
    out = decode_base64("")
    assert out.dtype == np.int16 and out.size == 0


@given(arrays(np.int16, st.integers(0, 300)))
def test_base64_round_trip_is_exact(x):
    assert np.array_equal(decode_base64(encode_base64(x)), x)


@pytest.mark.parametrize(
    "text",
    ["not base64!", "AAA", "AA=A", "AAAA\nAAAA", "ÄÄÄÄ", "AAAA====", "AA==AA==", "-_-_"],
)
def test_decode_base64_rejects_non_base64_text(text):
    with pytest.raises(ValueError, match="base64"):
        decode_base64(text)


@pytest.mark.parametrize("text", ["AA==", "AAAA", "AAAAAAA="])  # 1, 3 and 5 bytes
def test_decode_base64_rejects_odd_byte_count(text):
    with pytest.raises(ValueError, match="odd number of bytes"):
        decode_base64(text)


def test_decode_base64_rejects_non_text():
    with pytest.raises(ValueError, match="base64 text"):
        decode_base64(12)  # type: ignore[arg-type]


def test_encode_base64_rejects_odd_length_bytes():
    with pytest.raises(ValueError, match="even number of bytes"):
        encode_base64(b"\x00\x01\x02")


def test_encode_base64_rejects_float_samples_with_a_hint():
    with pytest.raises(ValueError, match="float_to_pcm16"):
        encode_base64(np.zeros(4, np.float32))


def test_encode_base64_rejects_ints_outside_int16():
    with pytest.raises(ValueError, match="int16"):
        encode_base64(np.array([0, 40000]))


def test_encode_base64_accepts_in_range_int_lists():
    assert encode_base64([0, 1, -1, 32767, -32768]) == B64


def test_as_pcm16_rejects_stereo_arrays():
    with pytest.raises(ValueError, match="mono"):
        as_pcm16(np.zeros((10, 2), np.int16))


def test_pcm16_to_float_scales_by_32768_literal():
    out = pcm16_to_float(SAMPLES)
    assert out.dtype == np.float32
    assert out.tolist() == [0.0, 1 / 32768, -1 / 32768, 32767 / 32768, -1.0]


def test_float_to_pcm16_scales_by_32768_literal():
    x = [0.0, 1 / 32768, -1 / 32768, 32767 / 32768, -1.0]
    assert float_to_pcm16(x).tolist() == SAMPLES.tolist()


def test_pcm16_to_float_reads_little_endian_bytes():
    assert pcm16_to_float(LE_BYTES)[3] == np.float32(32767 / 32768)


def test_pcm16_to_float_rejects_odd_byte_count():
    with pytest.raises(ValueError, match="even number of bytes"):
        pcm16_to_float(b"\x00")


def test_float_to_pcm16_clips_instead_of_wrapping():
    assert float_to_pcm16([1.0, 1.5, -1.0, -7.0, np.inf, -np.inf]).tolist() == [
        32767,
        32767,
        -32768,
        -32768,
        32767,
        -32768,
    ]


def test_float_to_pcm16_maps_nan_to_silence():
    assert float_to_pcm16([np.nan]).tolist() == [0]


def test_float_to_pcm16_rounds_to_nearest():
    assert float_to_pcm16([0.4 / 32768, 0.6 / 32768, -0.6 / 32768]).tolist() == [0, 1, -1]


def test_pcm_float_round_trip_is_exact_for_every_int16():
    x = np.arange(-32768, 32768).astype(np.int16)
    assert np.array_equal(float_to_pcm16(pcm16_to_float(x)), x)


def test_pcm_conversions_of_empty_input_are_empty():
    assert pcm16_to_float(np.zeros(0, np.int16)).size == 0
    assert pcm16_to_float(b"").size == 0
    assert float_to_pcm16(np.zeros(0)).size == 0


def test_float_to_pcm16_gives_the_same_result_for_float32_and_float64():
    x = np.random.default_rng(0).uniform(-1.2, 1.2, 10000)
    assert np.array_equal(
        float_to_pcm16(x.astype(np.float32)),
        float_to_pcm16(x.astype(np.float32).astype(np.float64)),
    )


def test_float_to_pcm16_keeps_shape_including_scalars():
    assert float_to_pcm16(0.5) == 16384
    assert float_to_pcm16([[0.5, -0.5]]).shape == (1, 2)
