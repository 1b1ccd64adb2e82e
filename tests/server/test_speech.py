"""Speech: the default transcriber, espeak-ng and the built-in synthesizer, the WAV helper."""

from __future__ import annotations

import numpy as np

from realtime_widget.audio import EnergyVAD, read_wav, rms
from realtime_widget.server.speech import (
    describe_audio,
    espeak_available,
    espeak_speech,
    formant_speech,
    speech_wav,
    synthesize,
)
from tests.helpers import require


def test_describe_audio_reports_kind_and_duration():
    assert describe_audio(np.full(36000, 3000, np.int16), 24000) == "[speech 1.5 s]"
    assert describe_audio(np.zeros(12000, np.int16), 24000) == "[silence 0.5 s]"


def test_builtin_synthesizer_is_deterministic_audible_and_speech_like():
    a = formant_speech("hello there, how are you today?")
    assert np.array_equal(a, formant_speech("hello there, how are you today?"))
    assert a.dtype == np.int16 and 1.0 < len(a) / 24000 < 4.0
    assert rms(a) > 0.05
    # syllables and pauses: the energy VAD sees speech, and the words are not one flat tone
    vad = EnergyVAD(24000, prefix_padding_ms=0, silence_duration_ms=500)
    events = vad.process(np.concatenate([a, np.zeros(24000, np.int16)]))
    assert [e.kind for e in events] == ["speech_started", "speech_stopped"]
    frames = a[: len(a) // 240 * 240].reshape(-1, 240).astype(float)
    levels = np.sqrt((frames**2).mean(axis=1))
    assert (levels < levels.max() * 0.05).sum() > 5  # gaps between words


def test_espeak_synthesizer_speaks_at_24khz():
    require(espeak_available(), "espeak-ng is not installed")
    audio = espeak_speech("testing one two three")
    assert audio.dtype == np.int16 and 0.8 < len(audio) / 24000 < 4.0
    assert rms(audio) > 0.02
    assert synthesize("testing one two three").shape == audio.shape


def test_speech_wav_is_a_readable_wav_at_the_requested_rate():
    data = speech_wav("hello microphone", rate=48000, lead_silence=0.25, tail_silence=0.5)
    samples, rate = read_wav(data)
    assert rate == 48000 and len(samples) / rate > 0.75


def test_synthesizers_survive_lone_surrogates_from_json():
    assert synthesize("bad \ud800 text").size > 0
    assert formant_speech("bad \ud800 text").size > 0
