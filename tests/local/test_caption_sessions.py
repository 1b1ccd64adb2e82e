"""`RealtimeTranscriber` and `RealtimeTranslator` with the real local pipeline (issue 14).

espeak-ng speaks a known sentence into the embedded server running whisper base, the 0.5B
language model (prompted to translate) and espeak-ng's French voice.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from realtime_widget.client import RealtimeTranscriber, RealtimeTranslator
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.speech import espeak_speech
from tests.helpers import UNIT

pytestmark = pytest.mark.local

SENTENCE = "The weather is very nice today and I am happy."


def _sentence() -> np.ndarray:
    silence = np.zeros(24000, np.int16)
    return np.concatenate([silence[:12000], espeak_speech(SENTENCE), silence, silence])


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-zà-ÿ]+", text.lower()))


async def test_local_transcriber_captions_hold_the_spoken_words(pipeline):
    async with LocalRealtimeServer(brain=pipeline) as server:
        transcriber = RealtimeTranscriber(url=server.url, language="en")
        await transcriber.connect_async()
        transcriber.append_input_audio(_sentence())
        segment = await transcriber.wait_for_next_caption_async(120 * UNIT)
        await transcriber.disconnect_async()
    assert {"weather", "today", "happy"} <= _words(segment.text), segment.text
    assert segment.start is not None and segment.end > segment.start


async def test_local_translator_speaks_french_and_keeps_both_transcripts(pipeline):
    async with LocalRealtimeServer(brain=pipeline) as server:
        translator = RealtimeTranslator("fr", url=server.url)
        await translator.connect_async()
        translator.append_input_audio(_sentence())
        await translator.wait_for_next("audio.delta", 120 * UNIT)
        await translator.disconnect_async()  # session.close: the phrase is finished first
    [segment] = translator.segments
    assert "weather" in _words(segment.words), segment.words
    assert segment.translation and not segment.translation.startswith("[fr]")
    assert len(translator.output_audio()) > 24000 // 2
