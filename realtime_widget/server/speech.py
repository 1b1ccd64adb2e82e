"""Speech for the embedded server: a transcriber for user audio and a synthesizer for replies.

Both are pluggable (``LocalRealtimeServer(transcriber=..., synthesizer=...)``); these are the
defaults. Nothing is downloaded at run time (issue 3, point 9):

* :func:`describe_audio` transcribes deterministically by describing the audio
  (``"[speech 1.8 s]"``), so tests can assert transcripts without a speech model.
* :func:`synthesize` speaks with the system's ``espeak-ng`` when the binary exists, and otherwise
  with :func:`formant_speech`, a small numpy synthesizer whose voiced syllables have speech-like
  pitch, formants and rhythm (audible, and enough to trip a real VAD), deterministic per text.

:func:`speech_wav` wraps either in a WAV file: the UI tests use it as the fake microphone.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import shutil
import struct
import subprocess
from collections.abc import Callable

import numpy as np

__all__ = [
    "SAMPLE_RATE",
    "Synthesizer",
    "Transcriber",
    "describe_audio",
    "espeak_available",
    "espeak_speech",
    "formant_speech",
    "speech_wav",
    "synthesize",
]

SAMPLE_RATE = 24000
"""Rate of every synthesized array (the protocol's PCM16 rate)."""

Transcriber = Callable[[np.ndarray, int], str]
"""``(int16 samples, rate) -> transcript`` of one committed user audio item."""

Synthesizer = Callable[[str], np.ndarray]
"""``text -> int16 samples at 24 kHz``."""


_LEVEL_SAMPLES = 1 << 18


def describe_audio(samples: np.ndarray, rate: int = SAMPLE_RATE) -> str:
    """Describe audio deterministically instead of recognising it.

    Args:
        samples: int16 mono samples.
        rate: their sample rate.

    Returns:
        ``"[speech 1.8 s]"``, or ``"[silence 0.5 s]"`` when the audio is (nearly) silent.
    """
    samples = np.asarray(samples)
    seconds = len(samples) / float(rate) if rate else 0.0
    # The level of at most 2**18 samples in 64 evenly spaced runs: a float64 copy of a whole
    # 10-minute commit is 115 MB and took over a second on the event loop that serves every
    # session, for a speech/silence call that a sample of the audio makes just as well.
    if len(samples) > _LEVEL_SAMPLES:
        width = _LEVEL_SAMPLES // 64
        starts = np.linspace(0, len(samples) - width, 64).astype(np.int64)
        samples_used = np.concatenate([samples[s : s + width] for s in starts])
    else:
        samples_used = samples
    sampled = samples_used.astype(np.float64)
    energy = float(np.dot(sampled, sampled))
    level = math.sqrt(energy / len(sampled)) if len(sampled) else 0.0
    kind = "speech" if level > 100.0 else "silence"
    return f"[{kind} {seconds:.1f} s]"


def espeak_available() -> bool:
    """True when an ``espeak-ng`` binary is on ``PATH``."""
    return shutil.which("espeak-ng") is not None


def synthesize(text: str, voice: str | None = None) -> np.ndarray:
    """Speak ``text`` as int16 at 24 kHz (espeak-ng if present, else :func:`formant_speech`).

    Args:
        text: what to say.
        voice: the session's voice name; only picks the built-in synthesizer's pitch.

    Returns:
        A new int16 array (callers may keep or modify it).
    """
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates from JSON
    if espeak_available():
        try:
            return espeak_speech(text).copy()
        except (OSError, subprocess.SubprocessError, ValueError):
            pass  # a broken espeak install falls back rather than leaving the reply silent
    return formant_speech(text, voice=voice).copy()


@functools.lru_cache(maxsize=256)
def espeak_speech(text: str, words_per_minute: int = 175, voice: str = "en-us") -> np.ndarray:
    """Run ``espeak-ng --stdout`` and return its speech resampled to 24 kHz (cached per text).

    ``voice`` is an espeak-ng voice (a language: ``"en-us"``, ``"fr"``, ``"de"``, ...).

    Raises:
        OSError: the binary is missing. ``subprocess.SubprocessError``: it failed or hung.
        ValueError: its output was not a WAV stream.
    """
    if not text.strip():
        return np.zeros(0, dtype=np.int16)
    out = subprocess.run(
        ["espeak-ng", "--stdout", "-v", voice, "-s", str(words_per_minute), "--", text],
        capture_output=True,
        check=True,
        timeout=30,
    ).stdout
    samples, rate = _parse_streamed_wav(out)
    if rate != SAMPLE_RATE:
        from realtime_widget.audio import resample

        samples = np.asarray(resample(samples, rate, SAMPLE_RATE))
        if samples.dtype != np.int16:
            samples = np.clip(np.round(samples), -32768, 32767).astype(np.int16)
    samples.setflags(write=False)
    return samples


def _parse_streamed_wav(data: bytes) -> tuple[np.ndarray, int]:
    # espeak-ng streams to stdout, so its RIFF and data sizes are placeholders (0x7ffff0xx):
    # take the format from "fmt " and everything after the "data" header as samples.
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise ValueError("espeak-ng did not write a WAV stream")
    pos, rate = 12, 0
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if chunk == b"fmt ":
            channels, rate = struct.unpack("<HI", data[pos + 10 : pos + 16])
            if channels != 1:
                raise ValueError("espeak-ng wrote more than one channel")
        elif chunk == b"data":
            body = data[pos + 8 :]
            body = body[: len(body) - len(body) % 2]
            return np.frombuffer(body, dtype="<i2").astype(np.int16), rate
        pos += 8 + size + (size & 1)
    raise ValueError("no data chunk in espeak-ng output")


# -- the built-in synthesizer ----------------------------------------------------------------
# (F1, F2, F3) in Hz of a few English vowels; each syllable picks one from its letters.
_VOWELS = {
    "a": (730, 1090, 2440),
    "e": (530, 1840, 2480),
    "i": (270, 2290, 3010),
    "o": (570, 840, 2410),
    "u": (300, 870, 2240),
    "y": (390, 1990, 2550),
}
_SYLLABLE = re.compile(r"[^aeiouy]*[aeiouy]+", re.IGNORECASE)


@functools.lru_cache(maxsize=256)
def _formant_speech_cached(text: str, voice: str) -> np.ndarray:
    seed = int.from_bytes(
        hashlib.sha256(f"{voice}|{text}".encode("utf-8", "surrogatepass")).digest()[:4], "little"
    )
    rng = np.random.default_rng(seed)
    f0_base = 110.0 + (seed % 5) * 12.0 if voice else 120.0
    pieces: list[np.ndarray] = [np.zeros(int(0.05 * SAMPLE_RATE))]
    words = re.findall(r"[\w']+|[.,;:!?]", text)
    for word in words:
        if word in ".,;:!?":
            pieces.append(np.zeros(int((0.25 if word in ".!?" else 0.12) * SAMPLE_RATE)))
            continue
        syllables = _SYLLABLE.findall(word.lower()) or [word.lower()]
        for index, syllable in enumerate(syllables):
            vowel = next((c for c in reversed(syllable) if c in _VOWELS), "a")
            length = 0.16 + 0.04 * min(len(syllable), 4) + 0.02 * rng.random()
            f0 = f0_base * (1.1 - 0.15 * index / max(len(syllables), 1))
            pieces.append(_voiced(_VOWELS[vowel], length, f0, consonant=syllable[0] not in _VOWELS))
        pieces.append(np.zeros(int(0.07 * SAMPLE_RATE)))
    signal = np.concatenate(pieces) if pieces else np.zeros(0)
    peak = float(np.max(np.abs(signal))) if signal.size else 0.0
    out = (signal / peak * 0.5 * 32767).astype(np.int16) if peak > 0 else signal.astype(np.int16)
    out.setflags(write=False)
    return out


def _voiced(
    formants: tuple[int, int, int], seconds: float, f0: float, consonant: bool
) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    # A falling pitch contour, harmonics weighted by three formant resonances: vowel-like colour.
    pitch = f0 * (1.0 - 0.12 * t / max(seconds, 1e-3))
    phase = 2 * np.pi * np.cumsum(pitch) / SAMPLE_RATE
    harmonics = np.arange(1, int(4000 / f0) + 1)
    weights = np.zeros(len(harmonics))
    for k, formant in enumerate(formants):
        bandwidth = 80.0 + 40.0 * k
        weights += (1.0 / (k + 1)) / (1.0 + ((harmonics * f0 - formant) / bandwidth) ** 2)
    wave = np.sin(np.outer(phase, harmonics)) @ weights
    attack, release = int(0.02 * SAMPLE_RATE), int(0.05 * SAMPLE_RATE)
    envelope = np.ones(n)
    envelope[:attack] = np.linspace(0.0, 1.0, min(attack, n))[: len(envelope[:attack])]
    envelope[-release:] = np.linspace(1.0, 0.0, min(release, n))[-len(envelope[-release:]) :]
    wave *= envelope
    if consonant:  # a short noise burst in front reads as a consonant onset
        burst = np.random.default_rng(n).normal(
            0.0, 0.15 * np.max(np.abs(wave)), int(0.03 * SAMPLE_RATE)
        )
        wave = np.concatenate([burst, wave])
    return wave


def formant_speech(text: str, voice: str | None = None) -> np.ndarray:
    """Built-in speech-like synthesis: one voiced, formant-coloured syllable per vowel group.

    Deterministic for a given ``(text, voice)``; about 4 syllables per second with pauses between
    words and longer ones at punctuation, so a VAD sees realistic speech/silence structure.

    Returns:
        Read-only int16 samples at 24 kHz (cached; copy before modifying).
    """
    return _formant_speech_cached(text, voice or "")


def speech_wav(
    text: str, rate: int = 48000, *, lead_silence: float = 0.5, tail_silence: float = 1.0
) -> bytes:
    """A mono PCM16 WAV file of ``text`` spoken by :func:`synthesize`, with silence around it.

    Useful as Chromium's ``--use-file-for-fake-audio-capture`` microphone (the WAV loops, so the
    trailing silence lets server VAD end the turn).

    Args:
        text: what to say.
        rate: the WAV's sample rate (resampled from 24 kHz).
        lead_silence: seconds of silence before the speech.
        tail_silence: seconds of silence after it.

    Returns:
        The WAV file's bytes.
    """
    speech = synthesize(text)
    samples = np.concatenate(
        [
            np.zeros(int(lead_silence * SAMPLE_RATE), dtype=np.int16),
            speech,
            np.zeros(int(tail_silence * SAMPLE_RATE), dtype=np.int16),
        ]
    )
    from realtime_widget.audio import resample, wav_bytes

    if rate != SAMPLE_RATE:
        samples = np.asarray(resample(samples, SAMPLE_RATE, rate))
        if samples.dtype != np.int16:
            samples = np.clip(np.round(samples), -32768, 32767).astype(np.int16)
    return wav_bytes(samples, rate)
