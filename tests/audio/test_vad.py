"""EnergyVAD: synthetic signals with exact positions, hysteresis, chunking invariance, errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_widget.audio import EnergyVAD, VadEvent, threshold_to_dbfs

RATE = 24000


def _tone(seconds, level_dbfs, freq=300.0, rate=RATE):
    # A sine's RMS is amp/sqrt(2): choose amp so the frame level is level_dbfs.
    amp = np.sqrt(2) * 10 ** (level_dbfs / 20)
    t = np.arange(round(seconds * rate)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def _silence(seconds, rate=RATE):
    return np.zeros(round(seconds * rate))


def _noise(seconds, level_dbfs, seed=0, rate=RATE):
    return np.random.default_rng(seed).normal(0, 10 ** (level_dbfs / 20), round(seconds * rate))


def _pcm(*parts):
    return np.clip(np.rint(np.concatenate(parts) * 32768), -32768, 32767).astype(np.int16)


def _events(vad, x):
    return [(e.kind, e.sample) for e in vad.process(x)]


def test_vad_reports_nothing_for_silence():
    assert EnergyVAD().process(np.zeros(RATE * 3, np.int16)) == []


def test_vad_reports_tone_start_with_prefix_padding_and_stop_after_silence():
    x = _pcm(_silence(1.0), _tone(1.0, -20), _silence(1.0))
    # Start: onset 1.0 s minus 300 ms padding; stop: end 2.0 s plus 500 ms of silence.
    assert _events(EnergyVAD(), x) == [("speech_started", 16800), ("speech_stopped", 60000)]


def test_vad_events_carry_millisecond_positions():
    events = EnergyVAD().process(_pcm(_silence(1.0), _tone(1.0, -20), _silence(1.0)))
    assert [e.ms(RATE) for e in events] == [700, 2500]
    assert events[0] == VadEvent("speech_started", 16800)


def test_vad_clamps_prefix_padding_at_the_first_sample():
    x = _pcm(_silence(0.1), _tone(0.5, -20))
    assert _events(EnergyVAD(), x) == [("speech_started", 0)]


def test_vad_honours_custom_padding_and_silence_duration():
    vad = EnergyVAD(RATE, prefix_padding_ms=100, silence_duration_ms=200)
    x = _pcm(_silence(1.0), _tone(1.0, -20), _silence(1.0))
    assert _events(vad, x) == [("speech_started", 21600), ("speech_stopped", 52800)]


def test_vad_ignores_quiet_background_noise_at_default_threshold():
    assert EnergyVAD().process(_pcm(_noise(5.0, -55))) == []


def test_vad_ignores_clicks_shorter_than_min_speech():
    x = _pcm(_silence(0.5), _noise(0.05, -10), _silence(1.0), _tone(0.09, -10), _silence(1.0))
    assert EnergyVAD().process(x) == []


def test_vad_detects_a_burst_as_long_as_min_speech():
    x = _pcm(_silence(0.5), _tone(0.1, -10), _silence(1.0))
    assert [e.kind for e in EnergyVAD().process(x)] == ["speech_started", "speech_stopped"]


def test_vad_keeps_speaking_through_pauses_shorter_than_silence_duration():
    x = _pcm(_silence(0.5), _tone(0.4, -20), _silence(0.4), _tone(0.4, -20), _silence(1.0))
    assert _events(EnergyVAD(), x) == [("speech_started", 4800), ("speech_stopped", 52800)]


def test_vad_hysteresis_keeps_speech_going_between_off_and_on_levels():
    # On at -40 dBFS, off at -46: a tone fading to -43 dBFS is still speech, -50 is silence.
    x = _pcm(_silence(0.5), _tone(0.5, -30), _tone(2.0, -43), _tone(1.0, -50))
    assert _events(EnergyVAD(), x) == [("speech_started", 4800), ("speech_stopped", 84000)]


def test_vad_does_not_start_on_levels_between_off_and_on():
    assert EnergyVAD().process(_pcm(_tone(3.0, -43))) == []


def test_vad_threshold_maps_linearly_to_dbfs():
    assert [threshold_to_dbfs(t) for t in (0, 0.25, 0.5, 1)] == [-80.0, -60.0, -40.0, 0.0]
    vad = EnergyVAD(threshold=0.8)
    assert (vad.on_dbfs, vad.off_dbfs) == pytest.approx((-16.0, -22.0))


def test_vad_higher_threshold_needs_louder_audio():
    x = _pcm(_silence(0.5), _tone(1.0, -30), _silence(1.0))
    assert len(EnergyVAD(threshold=0.5).process(x)) == 2
    assert EnergyVAD(threshold=0.8).process(x) == []


@pytest.mark.parametrize("rate", [8000, 16000, 22050, 44100, 48000])
def test_vad_positions_follow_the_stream_rate(rate):
    x = _pcm(_silence(1.0, rate), _tone(1.0, -20, rate=rate), _silence(1.0, rate))
    events = EnergyVAD(rate).process(x)
    assert [e.kind for e in events] == ["speech_started", "speech_stopped"]
    # Positions are on the 10 ms frame grid and durations round up to whole frames.
    assert [e.ms(rate) for e in events] == pytest.approx([700, 2500], abs=21)


def test_vad_accepts_float_and_pcm16_bytes_like_int16():
    x = _pcm(_silence(0.5), _tone(1.0, -20), _silence(1.0))
    expected = _events(EnergyVAD(), x)
    assert _events(EnergyVAD(), x.astype(np.float32) / 32768) == expected
    assert _events(EnergyVAD(), x.astype("<i2").tobytes()) == expected


def test_vad_reset_starts_counting_from_zero_again():
    vad = EnergyVAD()
    x = _pcm(_silence(1.0), _tone(1.0, -20), _silence(1.0))
    first = _events(vad, x)
    vad.process(_pcm(_tone(0.5, -20)))  # leaves it speaking
    vad.reset()
    assert not vad.speaking and vad.samples_seen == 0
    assert _events(vad, x) == first


def test_vad_exposes_state_and_last_frame_level():
    vad = EnergyVAD()
    vad.process(_pcm(_silence(0.2), _tone(0.3, -20)))
    assert vad.speaking
    assert vad.level_dbfs == pytest.approx(-20, abs=0.2)
    assert vad.samples_seen == round(0.5 * RATE)


def _scene(seed):
    rng = np.random.default_rng(seed)
    parts = [_noise(0.3, -60, seed)]
    for i in range(4):
        parts.append(_tone(rng.uniform(0.05, 0.8), rng.uniform(-35, -10), rng.uniform(100, 900)))
        parts.append(_noise(rng.uniform(0.1, 0.9), -60, seed + i + 1))
    return _pcm(*parts)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 1000), cuts=st.lists(st.integers(0, 3000), max_size=40))
def test_vad_events_do_not_depend_on_chunking(seed, cuts):
    x = _scene(seed)
    whole = _events(EnergyVAD(), x)
    vad, streamed, i = EnergyVAD(), [], 0
    for size in cuts:
        streamed += _events(vad, x[i : i + size])
        i += size
    streamed += _events(vad, x[i:])
    assert streamed == whole


def test_vad_chunking_invariance_covers_real_transitions():
    # Guards the property test above against only ever comparing empty event lists.
    assert sum(len(EnergyVAD().process(_scene(s))) for s in range(10)) >= 10


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "0.5", None, float("nan")])
def test_vad_rejects_threshold_outside_0_to_1(threshold):
    with pytest.raises(ValueError, match="threshold"):
        EnergyVAD(threshold=threshold)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"prefix_padding_ms": -1}, "prefix_padding_ms"),
        ({"silence_duration_ms": -5}, "silence_duration_ms"),
        ({"min_speech_ms": float("nan")}, "min_speech_ms"),
        ({"frame_ms": "10"}, "frame_ms"),
        ({"frame_ms": 0}, "frame_ms"),
        ({"frame_ms": 500}, "frame_ms"),
        ({"hysteresis_db": -1}, "hysteresis_db"),
        ({"rate": 0}, "rate"),
        ({"rate": 22050.5}, "rate"),
    ],
)
def test_vad_rejects_bad_settings_naming_them(kwargs, name):
    with pytest.raises(ValueError, match=name):
        EnergyVAD(**kwargs)


def test_vad_rejects_stereo_and_odd_length_bytes():
    with pytest.raises(ValueError, match="mono"):
        EnergyVAD().process(np.zeros((100, 2), np.float32))
    with pytest.raises(ValueError, match="even number of bytes"):
        EnergyVAD().process(b"\x00\x00\x00")


def test_vad_empty_chunk_yields_no_events():
    assert EnergyVAD().process(np.zeros(0, np.int16)) == []


def test_vad_accepts_numpy_numbers_for_settings():
    vad = EnergyVAD(np.int64(16000), threshold=np.float32(0.5), silence_duration_ms=np.int32(200))
    assert vad.rate == 16000 and vad.on_dbfs == -40.0


def test_vad_treats_nan_frames_as_silence():
    x = np.full(RATE, np.nan, dtype=np.float32)
    vad = EnergyVAD()
    assert vad.process(x) == [] and not vad.speaking
