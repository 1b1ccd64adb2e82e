"""Streaming resampler: chunking invariance, accuracy, odd rates and errors."""

import importlib.util

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_widget.audio import STREAMING_TOLERANCE, StreamingResampler, resample
from tests.helpers import require

RATES = [8000, 16000, 22050, 44100, 48000, 96000]


def _tone(freq, rate, seconds, amp=0.5):
    t = np.arange(round(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _stream(resampler, x, cuts):
    parts, i = [], 0
    for size in cuts:
        parts.append(resampler.process(x[i : i + size]))
        i += size
    parts.append(resampler.process(x[i:]))
    parts.append(resampler.flush())
    return np.concatenate(parts)


@settings(max_examples=60, deadline=None)
@given(
    src=st.sampled_from([*RATES, 11025, 44056]),
    dst=st.sampled_from([24000, 24000, 16000, 48000]),
    cuts=st.lists(st.integers(0, 2500), max_size=25),
    seed=st.integers(0, 2**32 - 1),
)
def test_streaming_in_random_chunks_equals_whole_signal(src, dst, cuts, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, 9000).astype(np.float32)
    whole = resample(x, src, dst)
    streamed = _stream(StreamingResampler(src, dst), x, cuts)
    assert streamed.shape == whole.shape
    assert np.max(np.abs(streamed - whole), initial=0.0) <= STREAMING_TOLERANCE


@settings(max_examples=25, deadline=None)
@given(src=st.sampled_from(RATES), cuts=st.lists(st.integers(0, 1500), max_size=20))
def test_streaming_int16_in_random_chunks_equals_whole_within_one_lsb(src, cuts):
    x = (_tone(440, src, 0.3) * 32767).astype(np.int16)
    whole = resample(x, src)
    streamed = _stream(StreamingResampler(src), x, cuts)
    assert streamed.dtype == np.int16 and whole.dtype == np.int16
    assert np.max(np.abs(streamed.astype(int) - whole.astype(int))) <= 1


@pytest.mark.parametrize("src", [*RATES, 11025, 44056])
def test_resample_output_length_is_ceil_of_ratio(src):
    for n in (0, 1, 2, 999, 4410):
        out = resample(np.zeros(n, np.float32), src, 24000)
        assert len(out) == -(-n * 24000 // src)


@pytest.mark.parametrize("src", [*RATES, 11025, 44056, 44057, 96001])
def test_resampled_tone_matches_ideal_tone(src):
    out = resample(_tone(1000, src, 0.5), src, 24000)
    ideal = _tone(1000, 24000, 0.5)[: len(out)]
    inner = slice(100, -100)  # away from the zero-padded ends
    assert np.max(np.abs(out[inner] - ideal[inner])) < 1e-4


@pytest.mark.parametrize("freq", [100, 3000, 8000, 10000])
def test_resampler_passband_gain_is_flat_to_10khz(freq):
    out = resample(_tone(freq, 48000, 0.5), 48000, 24000)[500:-500]
    gain_db = 20 * np.log10(np.sqrt(2) * np.sqrt(np.mean(out.astype(np.float64) ** 2)) / 0.5)
    assert abs(gain_db) < 0.1


@pytest.mark.parametrize(
    "src,freq", [(48000, 14000), (48000, 20000), (44100, 13500), (96000, 30000)]
)
def test_resampler_attenuates_aliases_by_80db(src, freq):
    # Above the output Nyquist (12 kHz) a tone must not fold back into the audible band.
    out = resample(_tone(freq, src, 0.5), src, 24000)[500:-500]
    level_db = 20 * np.log10(np.sqrt(np.mean(out.astype(np.float64) ** 2)) / (0.5 / np.sqrt(2)))
    assert level_db < -80


def test_streamed_tone_in_20ms_chunks_has_no_clicks():
    src = 44100
    x = _tone(440, src, 1.0, amp=0.9)
    r = StreamingResampler(src)
    out = np.concatenate([r.process(x[i : i + 882]) for i in range(0, len(x), 882)])
    # A 440 Hz sine at 24 kHz moves at most 2*pi*440/24000*amp per sample; a click would jump.
    max_step = 2 * np.pi * 440 / 24000 * 0.9
    assert np.max(np.abs(np.diff(out[50:]))) <= max_step * 1.01


def test_dc_passes_at_unit_gain():
    out = resample(np.full(4000, 0.25, np.float32), 44100, 24000)
    assert np.allclose(out[100:-100], 0.25, atol=1e-6)


def test_same_rate_passes_samples_through_unchanged():
    x = np.arange(-50, 50, dtype=np.int16)
    r = StreamingResampler(24000, 24000)
    assert np.array_equal(np.concatenate([r.process(x[:30]), r.process(x[30:]), r.flush()]), x)
    assert r.latency == 0


def test_resampler_returns_int16_for_int16_and_bytes_and_float32_for_float():
    x = np.zeros(960, np.int16)
    assert StreamingResampler(48000).process(x).dtype == np.int16
    assert StreamingResampler(48000).process(x.tobytes()).dtype == np.int16
    assert StreamingResampler(48000).process(x.astype(np.float64)).dtype == np.float32


def test_resampler_holds_back_only_its_latency():
    r = StreamingResampler(48000)
    out = r.process(np.zeros(960, np.float32))  # 20 ms
    assert len(out) == -(-(960 - r.latency) * 24000 // 48000)
    assert len(out) + len(r.flush()) == 480


def test_flush_resets_for_a_new_stream():
    x = _tone(300, 16000, 0.1)
    r = StreamingResampler(16000)
    first = np.concatenate([r.process(x), r.flush()])
    second = np.concatenate([r.process(x), r.flush()])
    assert np.array_equal(first, second)


def test_empty_chunks_produce_empty_output():
    r = StreamingResampler(44100)
    assert r.process(np.zeros(0, np.int16)).size == 0
    assert r.process(b"").size == 0
    assert r.flush().size == 0


@pytest.mark.parametrize("src", [11025, 44056, 7919, 767_999])
def test_odd_rates_stream_like_whole(src):
    # 7919 and 767_999 are prime: 24000 phases are too many to tabulate exactly, so their taps
    # are interpolated from a finer table; streaming must still equal one-shot.
    x = np.random.default_rng(src).uniform(-1, 1, 3000).astype(np.float32)
    whole = resample(x, src)
    streamed = _stream(StreamingResampler(src), x, [1, 17, 400, 1000])
    assert np.max(np.abs(streamed - whole)) <= STREAMING_TOLERANCE
    assert len(whole) == -(-3000 * 24000 // src)


def test_upsampled_8khz_tone_matches_ideal():
    out = resample(_tone(1000, 8000, 0.2), 8000, 24000)
    ideal = _tone(1000, 24000, 0.2)
    assert np.max(np.abs(out[200:-200] - ideal[200:-200])) < 1e-4


def test_resample_agrees_with_scipy_resample_poly():
    require(importlib.util.find_spec("scipy") is not None, "scipy (test extra) is not installed")
    from scipy.signal import resample_poly

    x = np.random.default_rng(0).standard_normal(44100)
    # Band-limit to 8 kHz so both filters' transition bands are irrelevant.
    spec = np.fft.rfft(x)
    spec[np.fft.rfftfreq(len(x), 1 / 44100) > 8000] = 0
    x = (np.fft.irfft(spec, len(x)) * 0.1).astype(np.float32)
    ours = resample(x, 44100, 24000)
    theirs = resample_poly(x.astype(np.float64), 80, 147)
    n = min(len(ours), len(theirs))
    err = np.abs(ours[300 : n - 300] - theirs[300 : n - 300])
    assert np.max(err) < 2e-3 * np.max(np.abs(x))


@pytest.mark.parametrize(
    "rate", [0, -8000, 44100.5, float("nan"), float("inf"), "48000", None, True, 10**7]
)
def test_resampler_rejects_bad_source_rate(rate):
    with pytest.raises(ValueError, match="src_rate"):
        StreamingResampler(rate)


@pytest.mark.parametrize("rate", [0, -1, 2.5])
def test_resampler_rejects_bad_destination_rate(rate):
    with pytest.raises(ValueError, match="dst_rate"):
        resample(np.zeros(10), 48000, rate)


def test_resampler_accepts_integral_float_rates():
    # Browsers report AudioContext.sampleRate as a float (48000.0).
    assert StreamingResampler(48000.0).src_rate == 48000


def test_resampler_rejects_stereo_chunks():
    with pytest.raises(ValueError, match="mono"):
        StreamingResampler(48000).process(np.zeros((960, 2), np.float32))


def test_resampler_rejects_odd_length_bytes():
    with pytest.raises(ValueError, match="even number of bytes"):
        StreamingResampler(48000).process(b"\x00\x00\x00")
