"""RealtimeConversation input audio (VAD slices, the ring, push-to-talk) and input transcription.

Both dialects where the event exists in both; the rules are numbered in ``conversation.py``.
"""

from __future__ import annotations

import numpy as np

from realtime_widget.conversation import RealtimeConversation
from tests.conversation._dialects import (
    announce,
    feed,
    user_audio_item,
)

# -- input audio and transcription ---------------------------------------------------------------


def test_vad_turn_takes_its_audio_from_the_input_audio_argument(conversation, dialect):
    session = np.arange(24 * 100, dtype=np.int16)  # 100 ms of session audio
    feed(
        conversation,
        {"type": "input_audio_buffer.speech_started", "item_id": "item_u", "audio_start_ms": 10},
    )
    feed(
        conversation,
        {"type": "input_audio_buffer.speech_stopped", "item_id": "item_u", "audio_end_ms": 40},
        session,
    )
    item = announce(conversation, dialect, user_audio_item())["item"]
    assert item["formatted"]["audio"].tolist() == list(range(240, 960))


def test_vad_turn_takes_its_audio_from_the_ring_when_no_buffer_is_given(conversation, dialect):
    for start in range(0, 2400, 480):  # 20 ms chunks
        conversation.append_input_audio(np.arange(start, start + 480, dtype=np.int16))
    feed(
        conversation,
        {"type": "input_audio_buffer.speech_started", "item_id": "item_u", "audio_start_ms": 10},
    )
    feed(
        conversation,
        {"type": "input_audio_buffer.speech_stopped", "item_id": "item_u", "audio_end_ms": 40},
    )
    assert announce(conversation, dialect, user_audio_item())["item"]["formatted"][
        "audio"
    ].tolist() == list(range(240, 960))


def test_ring_keeps_only_its_bound_of_input_audio():
    conversation = RealtimeConversation(frequency=1000, input_audio_seconds=1.0)  # 1000 samples
    for start in range(0, 5000, 100):
        conversation.append_input_audio(np.arange(start, start + 100, dtype=np.int16) % 30000)
    assert len(conversation.input_audio) == 1000 and conversation.input_audio.end == 5000
    conversation.process_event(
        {"type": "input_audio_buffer.speech_started", "item_id": "u", "audio_start_ms": 3500}
    )
    conversation.process_event(
        {"type": "input_audio_buffer.speech_stopped", "item_id": "u", "audio_end_ms": 4500}
    )
    item = conversation.process_event(
        {"type": "conversation.item.added", "item": user_audio_item("u")}
    )["item"]
    # 3500..4000 is older than the bound: only the held part comes back
    assert item["formatted"]["audio"].tolist() == list(range(4000, 4500))


def test_speech_stopped_without_speech_started_gives_empty_audio(conversation, dialect):
    session = np.arange(2400, dtype=np.int16)
    feed(
        conversation,
        {"type": "input_audio_buffer.speech_stopped", "item_id": "item_u", "audio_end_ms": 50},
        session,
    )
    assert (
        len(announce(conversation, dialect, user_audio_item())["item"]["formatted"]["audio"]) == 0
    )


def test_queued_input_audio_becomes_the_next_user_items_audio(conversation, dialect):
    conversation.queue_input_audio(np.array([5, 6, 7], dtype=np.int16))
    first = announce(conversation, dialect, user_audio_item("u1"))["item"]
    second = announce(conversation, dialect, user_audio_item("u2"))["item"]
    assert first["formatted"]["audio"].tolist() == [5, 6, 7]
    assert len(second["formatted"]["audio"]) == 0


def test_speech_queued_for_items_that_never_appear_is_bounded(conversation):
    for n in range(1000):
        conversation.process_event(
            {
                "type": "input_audio_buffer.speech_started",
                "item_id": f"ghost_{n}",
                "audio_start_ms": 0,
            }
        )
        conversation.process_event(
            {
                "type": "input_audio_buffer.speech_stopped",
                "item_id": f"ghost_{n}",
                "audio_end_ms": 1,
            },
            np.ones(48, np.int16),
        )
    early = conversation.process_event(
        {"type": "conversation.item.added", "item": user_audio_item("ghost_0")}
    )
    late = conversation.process_event(
        {"type": "conversation.item.added", "item": user_audio_item("ghost_999")}
    )
    assert len(early["item"]["formatted"]["audio"]) == 0  # the oldest pending entry was dropped
    assert late["item"]["formatted"]["audio"].tolist() == [1] * 24


def test_input_transcription_completed_sets_the_transcript(conversation, dialect):
    item = announce(conversation, dialect, user_audio_item())["item"]
    event = {
        "type": "conversation.item.input_audio_transcription.completed",
        "item_id": "item_u",
        "content_index": 0,
        "transcript": "hello",
    }
    assert feed(conversation, event) == {"item": item, "delta": {"transcript": "hello"}}
    assert item["formatted"]["transcript"] == "hello"
    assert item["content"][0]["transcript"] == "hello"


def test_empty_input_transcription_shows_a_single_space_as_the_seed_does(conversation, dialect):
    item = announce(conversation, dialect, user_audio_item())["item"]
    feed(
        conversation,
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "item_u",
            "content_index": 0,
            "transcript": "",
        },
    )
    assert item["formatted"]["transcript"] == " "


def test_input_transcription_before_its_item_is_applied_when_the_item_appears(
    conversation, dialect
):
    event = {
        "type": "conversation.item.input_audio_transcription.completed",
        "item_id": "item_u",
        "content_index": 0,
        "transcript": "early",
    }
    assert feed(conversation, event) == {}
    assert (
        announce(conversation, dialect, user_audio_item())["item"]["formatted"]["transcript"]
        == "early"
    )


def test_input_transcription_deltas_accumulate_then_completed_replaces(conversation):
    item = conversation.process_event(
        {"type": "conversation.item.added", "item": user_audio_item()}
    )["item"]
    for piece in ("hel", "lo wor"):
        result = conversation.process_event(
            {
                "type": "conversation.item.input_audio_transcription.delta",
                "item_id": "item_u",
                "content_index": 0,
                "delta": piece,
            }
        )
    assert result["delta"] == {"transcript": "lo wor"}
    assert item["formatted"]["transcript"] == "hello wor"
    conversation.process_event(
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "item_u",
            "content_index": 0,
            "transcript": "hello world",
        }
    )
    assert item["formatted"]["transcript"] == "hello world"


def test_failed_input_transcription_drops_the_partial_transcript(conversation):
    item = conversation.process_event(
        {"type": "conversation.item.added", "item": user_audio_item()}
    )["item"]
    conversation.process_event(
        {
            "type": "conversation.item.input_audio_transcription.delta",
            "item_id": "item_u",
            "content_index": 0,
            "delta": "hal",
        }
    )
    result = conversation.process_event(
        {
            "type": "conversation.item.input_audio_transcription.failed",
            "item_id": "item_u",
            "content_index": 0,
            "error": {"message": "x"},
        }
    )
    assert result["item"] is item
    assert item["formatted"]["transcript"] == "" and item["content"][0]["transcript"] is None


def test_transcription_segment_names_the_item_and_changes_nothing(conversation):
    item = conversation.process_event(
        {"type": "conversation.item.added", "item": user_audio_item()}
    )["item"]
    segment = {"type": "conversation.item.input_audio_transcription.segment", "item_id": "item_u",
               "content_index": 0, "text": "hi", "id": "seg_1", "speaker": "A", "start": 0.0,
               "end": 0.4}  # fmt: skip
    assert conversation.process_event(segment) == {"item": item}
    assert item["formatted"]["transcript"] == ""
