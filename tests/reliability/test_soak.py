"""Issue 8.4: a long conversation's memory is bounded by the audio kept; the cap keeps it flat.

Short soaks (a few simulated minutes, seconds of wall time); the full hour is in
``bench/bench_reliability.py``. The VAD input ring (5 minutes of input audio) is full from
minute 5 on, so later minutes show only what the conversation itself keeps.
"""

from __future__ import annotations

import numpy as np

from realtime_widget.client._audio_cap import cap_audio
from realtime_widget.conversation import RealtimeConversation
from tests.reliability._soak import soak

SLACK_MB = 1.5  # transcripts, item dicts, allocator noise over a few minutes


def test_soak_memory_grows_only_with_the_audio_the_items_keep():
    samples = soak(10)
    first, last = samples[4], samples[-1]  # minute 5 (ring full) and minute 10
    assert last.audio_mb - first.audio_mb > 7  # ~1.5 MB of audio a minute is kept
    other = (last.traced_mb - last.audio_mb) - (first.traced_mb - first.audio_mb)
    assert other < SLACK_MB, f"{other:.2f} MB grew besides the audio ({samples})"


def test_soak_with_max_audio_seconds_stays_flat_and_keeps_every_transcript():
    samples = soak(10, max_audio_seconds=60)
    assert all(s.audio_mb <= 60 * 24000 * 2 / 1e6 for s in samples)
    first, last = samples[4], samples[-1]
    assert last.traced_mb - first.traced_mb < SLACK_MB, samples
    assert last.traced_mb / first.traced_mb <= 1.2
    assert last.items == 40 and last.words > first.words  # words are never dropped


def test_soak_through_the_widget_kernel_side_stays_flat_with_the_cap():
    samples = soak(7, max_audio_seconds=60, widget=True)
    first, last = samples[4], samples[-1]
    assert last.traced_mb - first.traced_mb < SLACK_MB, samples


def _item(conversation: RealtimeConversation, item_id: str, seconds: float, words: str) -> None:
    conversation.process_event(
        {
            "type": "conversation.item.added",
            "item": {
                "id": item_id,
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_audio", "transcript": words}],
            },
        }
    )
    conversation.get_item(item_id)["formatted"]["audio"] = np.ones(int(seconds * 24000), np.int16)
    conversation.get_item(item_id)["formatted"]["transcript"] = words


def test_audio_cap_drops_the_oldest_items_audio_and_keeps_their_words():
    conversation = RealtimeConversation()
    for n in range(5):
        _item(conversation, f"item_{n}", 2.0, f"words {n}")
    dropped = cap_audio(conversation.get_items(), 5 * 24000)
    kept = [len(i["formatted"]["audio"]) for i in conversation.get_items()]
    assert kept == [0, 0, 0, 48000, 48000]
    assert dropped == 3 * 48000
    assert [i["formatted"]["transcript"] for i in conversation.get_items()] == [
        f"words {n}" for n in range(5)
    ]
