"""EnergyVAD on real speech, synthesised at test time by espeak-ng and resampled by sox."""

import shutil
import subprocess

import numpy as np
import pytest

from realtime_widget.audio import EnergyVAD, dbfs, read_wav, resample
from tests.helpers import require

RATE = 24000
GAP_S = 1.5
LEAD_S = 1.0


@pytest.fixture(scope="module")
def phrases(tmp_path_factory):
    """Two spoken phrases as int16 at 24 kHz (espeak-ng speaks at 22050 Hz; sox resamples)."""
    require(shutil.which("espeak-ng") is not None, "espeak-ng is not installed (apt-get install)")
    require(shutil.which("sox") is not None, "sox is not installed (apt-get install sox)")
    out = []
    for i, text in enumerate(["Hello there, how are you today?", "Please book a table for two."]):
        raw = tmp_path_factory.mktemp("speech") / f"{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(raw), text], check=True, timeout=60)
        wav = raw.with_name(f"{i}_24k.wav")
        subprocess.run(["sox", str(raw), "-r", str(RATE), str(wav)], check=True, timeout=60)
        samples, rate = read_wav(wav)
        assert rate == RATE
        out.append(samples)
    return out


def _extent(samples, level=-40.0):
    """First and last sample of 10 ms frames at or above ``level`` dBFS (where speech is)."""
    n = len(samples) // 240
    loud = [i for i in range(n) if dbfs(samples[i * 240 : (i + 1) * 240]) >= level]
    return loud[0] * 240, (loud[-1] + 1) * 240


def _conversation(phrases, gain_db=0.0, noise_dbfs=None):
    lead, gap = np.zeros(int(LEAD_S * RATE)), np.zeros(int(GAP_S * RATE))
    a, b = (p.astype(np.float64) / 32768 * 10 ** (gain_db / 20) for p in phrases)
    x = np.concatenate([lead, a, gap, b, gap])
    if noise_dbfs is not None:
        x += np.random.default_rng(1).normal(0, 10 ** (noise_dbfs / 20), x.size)
    starts = [len(lead), len(lead) + len(a) + len(gap)]
    return np.clip(np.rint(x * 32768), -32768, 32767).astype(np.int16), starts


def _check_two_turns(events, phrases, starts, gain_db=0.0):
    assert [e.kind for e in events] == ["speech_started", "speech_stopped"] * 2
    for (first, last), start, phrase in zip(
        [_extent(p.astype(np.float64) / 32768 * 10 ** (gain_db / 20)) for p in phrases],
        starts,
        phrases,
        strict=True,
    ):
        began, ended = start + first, start + last
        started, stopped = events.pop(0), events.pop(0)
        # Start = detected onset (on the 10 ms grid, <= 100 ms late for min speech) - 300 ms.
        assert began - 7200 - 240 <= started.sample <= began - 7200 + 2400
        # Stop = last loud frame + 500 ms of silence (+ frames within the hysteresis band).
        assert ended + 12000 - 240 <= stopped.sample <= ended + 12000 + 4800
        assert stopped.sample < start + len(phrase) + int(GAP_S * RATE)


def test_vad_finds_both_turns_of_normal_speech(phrases):
    x, starts = _conversation(phrases)
    _check_two_turns(EnergyVAD().process(x), phrases, starts)


def test_vad_finds_quiet_speech_at_default_threshold(phrases):
    # espeak-ng speaks at about -21 dBFS; 12 dB quieter is a soft voice on a mic without AGC.
    x, starts = _conversation(phrases, gain_db=-12)
    _check_two_turns(EnergyVAD().process(x), phrases, starts, gain_db=-12)


def test_vad_finds_speech_over_quiet_background_noise(phrases):
    x, starts = _conversation(phrases, noise_dbfs=-55)
    _check_two_turns(EnergyVAD().process(x), phrases, starts)


def test_vad_ignores_distant_speech_far_below_the_threshold(phrases):
    x, _ = _conversation(phrases, gain_db=-40)
    assert EnergyVAD().process(x) == []


def test_vad_on_speech_gives_same_events_in_20ms_chunks(phrases):
    x, _ = _conversation(phrases, noise_dbfs=-55)
    whole = EnergyVAD().process(x)
    vad = EnergyVAD()
    chunked = [e for i in range(0, len(x), 480) for e in vad.process(x[i : i + 480])]
    assert chunked == whole


def test_vad_on_16khz_speech_matches_24khz_positions(phrases):
    x, _ = _conversation(phrases)
    at24 = [e.ms(RATE) for e in EnergyVAD().process(x)]
    at16 = [e.ms(16000) for e in EnergyVAD(16000).process(resample(x, RATE, 16000))]
    assert len(at16) == 4
    assert np.max(np.abs(np.subtract(at16, at24))) <= 30
