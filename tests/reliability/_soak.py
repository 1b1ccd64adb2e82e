"""An accelerated long conversation with memory sampled every simulated minute (issue 8.4).

Not a test module: ``test_soak`` runs a short soak, ``bench/bench_reliability.py`` the full hour.
A simulated minute is 60 s of microphone audio appended faster than real time (two turns of 5 s
of speech-like noise, each followed by 25 s of silence) to the embedded server (its own process,
unpaced), which answers each turn with 10 s of audio: about 31 s of audio a minute end up in the
client's items. After each minute the client's memory is sampled: Python's traced memory
(tracemalloc) and the process RSS.
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import tracemalloc
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.helpers import UNIT
from tests.reliability._harness import wait_until

__all__ = ["MinuteSample", "soak"]

ROOT = Path(__file__).resolve().parents[2]
RATE = 24000
SPEECH = (np.random.default_rng(5).standard_normal(5 * RATE) * 6000).astype(np.int16)
SILENCE = np.zeros(25 * RATE, np.int16)
CHUNK = 2 * RATE  # samples per append: a microphone sends many small chunks, 2 s keeps it cheap


@dataclass(frozen=True)
class MinuteSample:
    """Memory after one simulated minute.

    Attributes:
        minute: simulated minutes so far.
        traced_mb: Python-traced memory now (tracemalloc), in MB.
        rss_mb: resident set size of the process, in MB.
        audio_mb: audio held in the conversation's items, in MB (int16).
        items: items in the conversation.
        words: characters of text and transcripts held (these are never dropped).
    """

    minute: int
    traced_mb: float
    rss_mb: float
    audio_mb: float
    items: int
    words: int


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def _audio_mb(client) -> float:
    total = 0
    for item in client.conversation.get_items():
        formatted = item.get("formatted") or {}
        length = getattr(formatted, "audio_length", None)
        total += length if length is not None else len(formatted.get("audio", ()))
    return total * 2 / 1e6


def _words(client) -> int:
    return sum(
        len((item.get("formatted") or {}).get(key) or "")
        for item in client.conversation.get_items()
        for key in ("text", "transcript")
    )


def _replies(client) -> int:
    return sum(
        1
        for item in client.conversation.get_items()
        if item.get("role") == "assistant" and item.get("status") == "completed"
    )


def soak(
    minutes: int, *, max_audio_seconds: float | None = None, widget: bool = False
) -> list[MinuteSample]:
    """Run ``minutes`` simulated minutes of conversation; one memory sample per minute.

    Args:
        minutes: simulated minutes.
        max_audio_seconds: the client's audio cap (``None``: keep all audio).
        widget: drive a ``RealtimeWidget``'s client (its kernel side stays attached).

    Returns:
        One :class:`MinuteSample` per minute.
    """
    from realtime_widget.client import RealtimeClient

    key = "sk-soak-local-key"
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability._soak_server", key],
        cwd=ROOT,
        # SPEECH is white noise standing in for speech: only the energy VAD takes it for speech
        # (Silero, picked when installed, rightly does not, and no turn would ever end).
        env={**os.environ, "REALTIME_WIDGET_VAD": "energy"},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    started = tracemalloc.is_tracing()
    if not started:
        tracemalloc.start()
    owner = None
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        vad = {"type": "server_vad", "silence_duration_ms": 500}
        if widget:
            from realtime_widget import RealtimeWidget

            owner = RealtimeWidget(
                url=url, api_key=key, autoconnect=False, max_audio_seconds=max_audio_seconds
            )
            owner.connect(10 * UNIT)
            client = owner.client
            client.update_session(turn_detection=vad)
        else:
            client = owner = RealtimeClient(
                {"turn_detection": vad}, url=url, api_key=key, max_audio_seconds=max_audio_seconds
            )
            client.connect(10 * UNIT)
        client.wait_for_session_created(10 * UNIT)
        samples: list[MinuteSample] = []
        for minute in range(1, minutes + 1):
            for _ in range(2):
                before = _replies(client)
                turn = np.concatenate([SPEECH, SILENCE])
                for start in range(0, len(turn), CHUNK):
                    client.append_input_audio(turn[start : start + CHUNK])
                wait_until(lambda b=before: _replies(client) > b, 30 * UNIT, "the reply")
            gc.collect()
            samples.append(
                MinuteSample(
                    minute,
                    tracemalloc.get_traced_memory()[0] / 1e6,
                    _rss_mb(),
                    _audio_mb(client),
                    len(client.conversation.get_items()),
                    _words(client),
                )
            )
        return samples
    finally:
        if owner is not None:
            owner.close()
        if not started:
            tracemalloc.stop()
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(10)
