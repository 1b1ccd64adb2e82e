"""`Captions`: transcription and translation events -> bounded caption segments, and exports."""

from __future__ import annotations

import pytest

from realtime_widget.captions import MAX_SEGMENT_CHARS, Captions


def turn(item_id: str, start_ms: int, end_ms: int, deltas: list[str], transcript: str | None):
    events = [
        {
            "type": "input_audio_buffer.speech_started",
            "item_id": item_id,
            "audio_start_ms": start_ms,
        },
        {"type": "input_audio_buffer.speech_stopped", "item_id": item_id, "audio_end_ms": end_ms},
    ]
    events += [
        {
            "type": "conversation.item.input_audio_transcription.delta",
            "item_id": item_id,
            "delta": d,
        }
        for d in deltas
    ]
    if transcript is not None:
        events.append(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                "item_id": item_id,
                "transcript": transcript,
            }
        )
    return events


def test_captions_stream_partial_words_then_final_text_per_turn():
    captions = Captions()
    events = turn("item_1", 500, 2100, ["hello", " my"], None)
    for event in events:
        captions.process_event(event)
    [segment] = captions.segments
    assert (segment.partial, segment.final, segment.text, segment.words) == (
        "hello my",
        False,
        "",
        "hello my",
    )
    assert (segment.start, segment.end, segment.turn) == (0.5, 2.1, 1)
    captions.process_event(
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "item_1",
            "transcript": "hello my friend",
        }
    )
    [segment] = captions.segments
    assert (segment.text, segment.final) == ("hello my friend", True)
    assert [s.id for s in captions.pop_finished()] == ["item_1"]
    assert captions.pop_finished() == []


def test_captions_one_segment_per_vad_turn_in_order():
    captions = Captions()
    captions.process_events(
        turn("a", 0, 1000, ["one"], "one") + turn("b", 1500, 2500, ["two"], "two")
    )
    assert [(s.turn, s.text) for s in captions.segments] == [(1, "one"), (2, "two")]
    assert captions.text == "one\ntwo"


def test_captions_failed_transcription_ends_the_segment_with_the_reason():
    captions = Captions()
    captions.process_events(turn("a", 0, 1000, ["par"], None))
    captions.process_event(
        {
            "type": "conversation.item.input_audio_transcription.failed",
            "item_id": "a",
            "error": {"code": "bad_audio", "message": "audio unreadable"},
        }
    )
    [segment] = captions.segments
    assert segment.final and segment.error == "audio unreadable" and segment.text == "par"


def test_captions_translation_phrases_pair_source_and_translation():
    captions = Captions()
    events = [
        {"type": "session.input_transcript.delta", "delta": "good", "elapsed_ms": 1200},
        {"type": "session.input_transcript.delta", "delta": " morning", "elapsed_ms": 1400},
        {"type": "session.output_transcript.delta", "delta": "bonjour", "elapsed_ms": 1400},
        {"type": "session.input_transcript.delta", "delta": "thank you", "elapsed_ms": 3000},
        {"type": "session.output_transcript.delta", "delta": "merci", "elapsed_ms": 3200},
    ]
    captions.process_events(events)
    first, second = captions.segments
    assert (first.words, first.translation, first.final) == ("good morning", "bonjour", True)
    assert (first.start, first.end) == (1.2, 1.4)
    assert (second.words, second.translation, second.final) == ("thank you", "merci", False)
    captions.process_event({"type": "session.closed", "event_id": "e"})
    assert captions.segments[1].final
    assert captions.translation == "bonjour\nmerci"


def test_captions_are_bounded_and_count_what_they_dropped():
    captions = Captions(max_segments=3)
    for n in range(5):
        captions.process_events(turn(f"i{n}", n * 1000, n * 1000 + 500, [], f"w{n}"))
    assert [s.text for s in captions.segments] == ["w2", "w3", "w4"]
    assert captions.dropped == 2 and [s.turn for s in captions.segments] == [3, 4, 5]
    captions.process_event(
        {
            "type": "conversation.item.input_audio_transcription.delta",
            "item_id": "x",
            "delta": "a" * (MAX_SEGMENT_CHARS + 10),
        }
    )
    assert len(captions.segments[-1].partial) <= MAX_SEGMENT_CHARS + 10
    with pytest.raises(ValueError, match="max_segments"):
        Captions(max_segments=0)


def test_captions_ignore_malformed_and_unrelated_events():
    captions = Captions()
    assert captions.process_event({"type": "response.done"}) is None
    assert (
        captions.process_event({"type": "conversation.item.input_audio_transcription.delta"})
        is None
    )
    assert (
        captions.process_event({"type": "input_audio_buffer.speech_started", "item_id": 3}) is None
    )
    assert captions.process_event({}) is None
    assert len(captions) == 0


def test_captions_time_offset_shifts_a_later_session():
    captions = Captions()
    captions.time_offset = 10.0
    captions.process_events(turn("a", 500, 1500, [], "later"))
    assert (captions.segments[0].start, captions.segments[0].end) == (10.5, 11.5)


def test_captions_export_srt_markdown_and_records():
    captions = Captions()
    captions.process_events(turn("a", 500, 2250, [], "Hello there."))
    captions.process_events(turn("b", 3_600_000 + 61_000, 3_600_000 + 62_000, ["still"], None))
    assert captions.to_srt() == (
        "1\n00:00:00,500 --> 00:00:02,250\nHello there.\n\n"
        "2\n01:01:01,000 --> 01:01:02,000\nstill\n"
    )
    markdown = captions.to_markdown()
    assert markdown.startswith("# Captions\n")
    assert "**Turn 1** [00:00]: Hello there." in markdown
    assert "**Turn 2** [1:01:01]: still *(in progress)*" in markdown
    records = captions.to_records()
    assert records[0] == {
        "id": "a",
        "turn": 1,
        "start": 0.5,
        "end": 2.25,
        "partial": "Hello there.",
        "text": "Hello there.",
        "final": True,
        "translation": "",
        "error": "",
    }
    assert records[1]["text"] == "still" and records[1]["final"] is False
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame(records)
    assert list(frame["text"]) == ["Hello there.", "still"]


def test_captions_srt_of_translation_uses_translated_words():
    captions = Captions()
    captions.process_events(
        [
            {"type": "session.input_transcript.delta", "delta": "hello", "elapsed_ms": 1000},
            {"type": "session.output_transcript.delta", "delta": "bonjour", "elapsed_ms": 1000},
        ]
    )
    assert captions.to_srt(translation=True) == "1\n00:00:01,000 --> 00:00:02,000\nbonjour\n"
