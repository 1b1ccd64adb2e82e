"""Speech WAV files made at test time for Chromium's fake microphone.

Chromium's ``--use-file-for-fake-audio-capture`` loops its file, so each fixture is "speech, then
silence": the silence lets server VAD see the end of the turn, and its length sets when the next
loop starts talking again (long for a turn that should be heard out, short for a barge-in).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CAPTURE_RATE = 48000
"""Rate of the WAVs handed to Chromium (a typical device rate; the widget resamples to 24 kHz)."""


def speech_tools_missing() -> list[str]:
    """Names of the command-line tools (espeak-ng, sox) that are not on PATH."""
    return [name for name in ("espeak-ng", "sox") if shutil.which(name) is None]


def make_speech_wav(
    path: Path, text: str, *, lead_silence_s: float = 0.3, trail_silence_s: float = 3.0
) -> Path:
    """Speak ``text`` with espeak-ng into a 48 kHz mono 16-bit WAV padded with silence.

    Args:
        path: output file.
        text: what the fake microphone says.
        lead_silence_s: silence before the speech.
        trail_silence_s: silence after it, before Chromium loops the file.

    Returns:
        ``path``.

    Raises:
        RuntimeError: espeak-ng or sox failed; the message has their stderr.
    """
    raw = path.with_suffix(".raw.wav")
    _run(["espeak-ng", "-s", "150", "-w", str(raw), text])
    # gain -n -3: normalise to -3 dBFS so level-based VAD sees the same speech on every machine.
    convert = ["sox", str(raw), "-r", str(CAPTURE_RATE), "-c", "1", "-b", "16", str(path)]
    _run([*convert, "gain", "-n", "-3", "pad", str(lead_silence_s), str(trail_silence_s)])
    raw.unlink(missing_ok=True)
    return path


def make_silence_wav(path: Path, seconds: float = 5.0) -> Path:
    """A silent 48 kHz mono 16-bit WAV: a microphone that hears nothing (text-only tests)."""
    _run(
        [
            "sox",
            "-n",
            "-r",
            str(CAPTURE_RATE),
            "-c",
            "1",
            "-b",
            "16",
            str(path),
            "trim",
            "0",
            str(seconds),
        ]
    )
    return path


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({proc.returncode}): {proc.stderr.strip()}")
