"""The ``max_audio_seconds`` cap: a long session keeps its words, not all its audio (issue 8).

Each item keeps its decoded audio (``formatted["audio"]``) so it can be replayed or saved; over an
hour of conversation that is ~170 MB at 24 kHz. With a cap, once the items' audio adds up to more
than the cap, the *oldest* items lose their audio (newest kept whole); their text, transcripts,
tool calls and outputs stay, so history replay and the transcript are unaffected.

The cap is applied when an item completes, and also while audio streams in (``CapSchedule``):
an item that never completes (a broken server, a response that streams forever) must not grow
past the cap either (issue 13). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

__all__ = ["CapSchedule", "cap_audio"]

_EMPTY = np.zeros(0, dtype=np.int16)


def _length(formatted: dict) -> int:
    length = getattr(formatted, "audio_length", None)  # FormattedItem: no materialising
    if length is not None:
        return int(length)
    audio = formatted.get("audio")
    return 0 if audio is None else len(audio)


def cap_audio(items: Iterable[dict], max_samples: int) -> int:
    """Drop the audio of the oldest items so that at most ``max_samples`` remain in total.

    Args:
        items: conversation items, oldest first (their ``formatted`` dicts are changed in place).
        max_samples: samples of audio kept across all items.

    Returns:
        How many samples were dropped.
    """
    kept = dropped = 0
    for item in reversed(list(items)):
        formatted = item.get("formatted")
        if not isinstance(formatted, dict):
            continue
        length = _length(formatted)
        if not length:
            continue
        if kept + length <= max_samples:
            kept += length
            continue
        formatted["audio"] = _EMPTY  # whole items: a half-kept utterance is worth little
        dropped += length
    return dropped


class CapSchedule:
    """When to apply the cap while audio streams in: once per ``step`` samples received.

    Checking on every delta would walk all items 50 times a second; once per step keeps the audio
    held under ``max_samples + step`` at a cost independent of the delta rate. The step is the
    cap itself, within 0.1 s and 1 s (at 24 kHz), so a small cap is at most doubled.
    """

    def __init__(self) -> None:
        self._since = 0

    def due(self, samples: int, max_samples: int) -> bool:
        """Count ``samples`` just received.

        Args:
            samples: samples of the audio delta just received.
            max_samples: the cap, in samples.

        Returns:
            True when the cap should be applied now (the count starts again).
        """
        self._since += samples
        if self._since < max(2400, min(max_samples, 24000)):
            return False
        self._since = 0
        return True
