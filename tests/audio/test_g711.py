"""G.711 μ-law/A-law against ITU table literals both ways, sox as a decoding peer, error bounds."""

import shutil
import subprocess

import numpy as np
import pytest

from realtime_widget.audio import alaw_decode, alaw_encode, ulaw_decode, ulaw_encode
from tests.helpers import require

ALL = np.arange(-32768, 32768).astype(np.int16)

# G.711 Table 2a (μ-law), reconstruction values in 14-bit units x4 for 16-bit PCM:
# segment 1 gives 0, 2, ..., 30; segment 2 starts at 33; segment 3 at 99; the top value is 8031.
ULAW_DECODE = {
    0xFF: 0,
    0xFE: 2 * 4,
    0xF0: 30 * 4,
    0xEF: 33 * 4,
    0xE0: 93 * 4,
    0xDF: 99 * 4,
    0x80: 8031 * 4,
    0x7F: 0,  # negative zero
    0x7E: -2 * 4,
    0x00: -8031 * 4,
}
# G.711 Table 1a (A-law, even bits inverted on the line), in 13-bit units x8:
# segments 1-2 step 2 from 1; segment 3 starts at 66; the top value is 4032.
ALAW_DECODE = {
    0xD5: 1 * 8,
    0xD4: 3 * 8,
    0xC5: 33 * 8,
    0xF5: 66 * 8,
    0xAA: 4032 * 8,
    0x55: -1 * 8,
    0x2A: -4032 * 8,
}
# Decision values: μ-law 14-bit 1 (16-bit 4) separates codes 0xFF and 0xFE; 31 (124) starts
# segment 2. A-law 13-bit 2 (16-bit 16) separates 0xD5 and 0xD4; 32 (256) starts segment 2.
ULAW_ENCODE = {0: 0xFF, 3: 0xFF, 4: 0xFE, -1: 0x7F, -4: 0x7F, -5: 0x7E, 123: 0xF0, 124: 0xEF}
ULAW_ENCODE |= {32767: 0x80, -32768: 0x00, 32124: 0x80}
ALAW_ENCODE = {0: 0xD5, 15: 0xD5, 16: 0xD4, -1: 0x55, -16: 0x55, -17: 0x54, 255: 0xDA, 256: 0xC5}
ALAW_ENCODE |= {32767: 0xAA, -32768: 0x2A}


def test_ulaw_decode_matches_g711_table_literals():
    codes = bytes(ULAW_DECODE)
    assert ulaw_decode(codes).tolist() == list(ULAW_DECODE.values())


def test_alaw_decode_matches_g711_table_literals():
    codes = bytes(ALAW_DECODE)
    assert alaw_decode(codes).tolist() == list(ALAW_DECODE.values())


def test_ulaw_encode_matches_g711_decision_literals():
    x = np.array(list(ULAW_ENCODE), np.int16)
    assert ulaw_encode(x).tolist() == list(ULAW_ENCODE.values())


def test_alaw_encode_matches_g711_decision_literals():
    x = np.array(list(ALAW_ENCODE), np.int16)
    assert alaw_encode(x).tolist() == list(ALAW_ENCODE.values())


@pytest.mark.parametrize("encoding,decode", [("u-law", ulaw_decode), ("a-law", alaw_decode)])
def test_decoders_agree_with_sox_on_all_256_codes(tmp_path, encoding, decode):
    require(shutil.which("sox") is not None, "sox is not installed (apt-get install sox)")
    codes = bytes(range(256))
    (tmp_path / "in.raw").write_bytes(codes)
    enc = "ul" if encoding == "u-law" else "al"
    subprocess.run(
        [
            *("sox", "-t", enc, "-r", "8000", "-c", "1", str(tmp_path / "in.raw")),
            *("-t", "raw", "-e", "signed-integer", "-b", "16", "-L", str(tmp_path / "out.raw")),
        ],
        check=True,
    )
    theirs = np.frombuffer((tmp_path / "out.raw").read_bytes(), "<i2")
    assert decode(codes).tolist() == theirs.tolist()


def _ulaw_half_step(codes):
    # Segment e (0..7) of a μ-law code has a step of 2 << e in 14-bit units, 8 << e in 16-bit.
    return 4 << (((~codes.astype(int)) >> 4) & 7)


def _alaw_half_step(codes):
    # A-law segments 0 and 1 step by 2 in 13-bit units (16 in 16-bit), then the step doubles.
    e = ((codes.astype(int) ^ 0x55) & 0x7F) >> 4
    return np.where(e <= 1, 16, 16 << np.maximum(e - 1, 0)) // 2


@pytest.mark.parametrize(
    "encode,decode,half_step,top",
    [
        (ulaw_encode, ulaw_decode, _ulaw_half_step, 8159 * 4),
        (alaw_encode, alaw_decode, _alaw_half_step, 32767),
    ],
)
def test_round_trip_error_is_at_most_half_a_step_of_the_segment(encode, decode, half_step, top):
    # G.711 reconstruction values sit mid-interval, so the error is at most half the quantiser
    # step of the chosen code's segment over the whole coding range (all 65536 inputs).
    codes = encode(ALL)
    err = np.abs(decode(codes).astype(int) - ALL.astype(int))
    inside = np.abs(ALL.astype(int)) <= top
    assert np.all(err[inside] <= half_step(codes)[inside])


@pytest.mark.parametrize("encode,decode,top", [(ulaw_encode, ulaw_decode, 32124)])
def test_ulaw_overload_saturates_at_the_top_level(encode, decode, top):
    loud = np.array([32636, 32767, -32637, -32768], np.int16)  # beyond decision value 8159
    assert decode(encode(loud)).tolist() == [top, top, -top, -top]


def test_round_trip_of_decoded_values_is_exact():
    codes = np.arange(256, dtype=np.uint8)
    assert np.array_equal(alaw_encode(alaw_decode(codes)), codes)
    ulaw = ulaw_encode(ulaw_decode(codes))
    # μ-law has two zeros (0xFF, 0x7F); both decode to 0, which encodes to positive zero.
    assert np.array_equal(ulaw[codes != 0x7F], codes[codes != 0x7F]) and ulaw[0x7F] == 0xFF


@pytest.mark.parametrize("encode", [ulaw_encode, alaw_encode])
def test_encoders_are_mirror_symmetric_under_ones_complement(encode):
    # x and -x-1 differ only in the sign bit of the code (G.191 reference arithmetic).
    pos = ALL[ALL >= 0]
    assert np.array_equal(encode(pos) ^ 0x80, encode(~pos))


def test_codecs_accept_bytes_and_return_numpy_arrays():
    pcm = np.array([0, 1000, -1000], np.int16)
    assert ulaw_encode(pcm.astype("<i2").tobytes()).tolist() == ulaw_encode(pcm).tolist()
    assert alaw_decode(b"\xd5").dtype == np.int16
    assert ulaw_encode(pcm).dtype == np.uint8
    assert ulaw_decode(b"").size == 0 and alaw_encode(np.zeros(0, np.int16)).size == 0


def test_encoders_reject_odd_byte_count_and_floats():
    with pytest.raises(ValueError, match="even number of bytes"):
        ulaw_encode(b"\x00")
    with pytest.raises(ValueError, match="float_to_pcm16"):
        alaw_encode(np.zeros(3, np.float32))


def test_decoders_reject_values_that_are_not_bytes():
    with pytest.raises(ValueError, match=r"0\.\.255"):
        ulaw_decode(np.array([0, 256]))
    with pytest.raises(ValueError, match=r"0\.\.255"):
        alaw_decode(np.array([0.5]))
