"""Item views, the Markdown transcript and the event log (realtime_widget.widget._items)."""

from __future__ import annotations

import json

import numpy as np

from realtime_widget.widget._items import EventLog, item_view, redact, transcript_markdown


def assistant_item(text="", transcript="", audio=None):
    return {
        "id": "item_a",
        "type": "message",
        "role": "assistant",
        "status": "in_progress",
        "content": [{"type": "output_audio", "transcript": transcript}],
        "formatted": {
            "text": text,
            "transcript": transcript,
            "audio": np.zeros(0, np.int16) if audio is None else audio,
        },
    }


def test_item_view_holds_no_audio_and_is_json_safe():
    view = item_view(
        assistant_item(transcript="hi", audio=np.ones(4800, np.int16)), audio_samples=4800
    )
    text = json.dumps(view)
    assert "formatted" not in view and "audio" not in view
    assert view["transcript"] == "hi" and view["audio_samples"] == 4800
    assert len(text) < 600


def test_item_view_marks_a_user_audio_item_without_transcript_as_transcribing():
    item = {
        "id": "item_u",
        "type": "message",
        "role": "user",
        "status": "completed",
        "content": [{"type": "input_audio"}],
        "formatted": {"transcript": ""},
    }
    assert item_view(item)["transcribing"] is True
    item["formatted"]["transcript"] = "hello"
    assert item_view(item)["transcribing"] is False


def test_item_view_describes_a_function_call_and_its_output():
    call = {
        "id": "item_c",
        "type": "function_call",
        "status": "completed",
        "name": "add",
        "call_id": "call_1",
        "arguments": '{"a": 1}',
        "formatted": {},
    }
    view = item_view(call, tool_state="done", duration_ms=12.5)
    assert view["tool"] == {"name": "add", "call_id": "call_1", "arguments": '{"a": 1}'}
    out = item_view(
        {"id": "item_o", "type": "function_call_output", "call_id": "call_1", "output": "2"}
    )
    assert out["tool"]["call_id"] == "call_1" and out["output"] == "2"
    md = transcript_markdown([view, out])
    assert md == '**Tool:** `add({"a": 1})` → `2`'


def test_transcript_is_markdown_with_roles_and_truncation():
    user = item_view(
        {
            "id": "u",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "Hi"}],
        }
    )
    bot = item_view(assistant_item(transcript="Hello there"), truncated_ms=800)
    assert transcript_markdown([user, bot]) == (
        "**User:** Hi\n\n**Assistant:** Hello there *(truncated)*"
    )


def test_redact_replaces_audio_and_secrets_with_placeholders():
    event = {
        "type": "input_audio_buffer.append",
        "audio": "AAAA" * 100,
        "session": {"client_secret": "sk-live", "nested": [{"audio": "AAAA"}]},
    }
    out = redact(event)
    assert out["audio"] == "<300 bytes of audio>"
    assert out["session"]["client_secret"] == "<redacted>"
    assert out["session"]["nested"][0]["audio"] == "<3 bytes of audio>"
    assert redact({"delta": "AAAA"}, audio_delta=True) == {"delta": "<3 bytes of audio>"}


def test_redact_shortens_image_data_urls_to_their_type_and_size():
    url = "data:image/png;base64," + "A" * 4000
    part = {"type": "input_image", "image_url": url, "detail": "low"}
    out = redact({"type": "conversation.item.create", "item": {"content": [part]}})
    assert out["item"]["content"][0] == {
        "type": "input_image",
        "image_url": f"<image/png, {len(url) * 3 // 4} bytes>",
        "detail": "low",
    }
    assert redact({"image_url": "https://example.com/a.png"})["image_url"].startswith("https")


def test_event_log_collapses_repeated_deltas_of_one_item_and_redacts_audio():
    log = EventLog(maxlen=10)
    for _ in range(300):
        log.add("<", {"type": "response.output_audio.delta", "item_id": "a", "delta": "AAAA"}, 1.0)
    log.add("<", {"type": "response.output_audio.delta", "item_id": "b", "delta": "AAAA"}, 2.0)
    entries = log.snapshot()
    assert [(e["item_id"], e["count"]) for e in entries] == [("a", 300), ("b", 1)]
    assert "AAAA" not in entries[0]["json"] and "bytes of audio" in entries[0]["json"]


def test_event_log_is_bounded_and_truncates_large_json():
    log = EventLog(maxlen=5, json_limit=100)
    for i in range(20):
        log.add(">", {"type": f"t{i}", "text": "x" * 1000}, float(i))
    entries = log.snapshot()
    assert [e["type"] for e in entries] == ["t15", "t16", "t17", "t18", "t19"]
    assert all(len(e["json"]) <= 101 for e in entries)


def _delta(kind: str, response: str, item: str = "i", data: str = "AAAA") -> dict:
    return {"type": kind, "response_id": response, "item_id": item, "delta": data}


def test_event_log_folds_interleaved_deltas_into_one_counter_per_type_and_response():
    log = EventLog(maxlen=50)
    log.add("<", {"type": "response.created", "response": {"id": "r1"}}, 0.0)
    for i in range(87):  # the server interleaves audio and transcript deltas
        log.add("<", _delta("response.output_audio.delta", "r1"), 1.0 + i)
        log.add("<", _delta("response.output_audio_transcript.delta", "r1", data="hi"), 1.0 + i)
    log.add("<", {"type": "response.done", "response": {"id": "r1"}}, 100.0)
    log.add("<", _delta("response.output_audio.delta", "r2"), 101.0)
    entries = log.snapshot()
    assert [(e["type"], e["count"], e["group"]) for e in entries] == [
        ("response.created", 1, None),
        ("response.output_audio.delta", 87, "response r1"),
        ("response.output_audio_transcript.delta", 87, "response r1"),
        ("response.done", 1, None),
        ("response.output_audio.delta", 1, "response r2"),
    ]
    audio = entries[1]
    assert (audio["first_time"], audio["time"], audio["bytes"]) == (1.0, 87.0, 87 * 3)
    assert entries[2]["bytes"] == 0  # a transcript is not audio


def test_event_log_folds_audio_appends_per_user_turn_ended_by_the_servers_commit():
    log = EventLog(maxlen=50)
    append = {"type": "input_audio_buffer.append", "audio": "AAAAAA=="}
    for _ in range(143):
        log.add(">", append, 1.0)
    log.add("<", {"type": "input_audio_buffer.speech_started"}, 2.0)
    for _ in range(7):  # the turn goes on after the server heard speech start
        log.add(">", append, 2.5)
    log.add("<", {"type": "input_audio_buffer.committed", "item_id": "u1"}, 3.0)
    for _ in range(5):
        log.add(">", append, 4.0)
    log.add(">", {"type": "input_audio_buffer.clear"}, 5.0)
    log.add(">", append, 6.0)
    folded = [(e["count"], e["group"], e["bytes"]) for e in log.snapshot() if e["count"] > 1]
    assert folded == [(150, "turn 1", 150 * 4), (5, "turn 2", 5 * 4)]
    assert log.snapshot()[-1]["group"] == "turn 3"


def test_event_log_starts_a_new_counter_when_the_folded_entry_was_dropped_by_the_bound():
    log = EventLog(maxlen=3)
    log.add("<", _delta("response.output_audio.delta", "r1"), 0.0)
    for i in range(5):  # a long response: its counter scrolls out of the bounded log
        log.add("<", {"type": f"other.{i}"}, 1.0)
    log.add("<", _delta("response.output_audio.delta", "r1"), 2.0)
    entries = log.snapshot()
    assert len(entries) == 3 and entries[-1]["count"] == 1 and entries[-1]["seq"] == 7
    assert len(log._open) == 1  # the dropped counter's key went with it: bounded too


def test_event_log_over_an_hour_of_events_keeps_its_bound():
    log = EventLog(maxlen=500)
    append = {"type": "input_audio_buffer.append", "audio": "AAAA"}
    for turn in range(240):  # a turn every 15 s: 50 appends/s, a response of 100+50 deltas
        for _ in range(750):
            log.add(">", append, float(turn))
        log.add("<", {"type": "input_audio_buffer.committed", "item_id": f"u{turn}"}, 0.0)
        for _ in range(100):
            log.add("<", _delta("response.output_audio.delta", f"r{turn}"), 0.0)
            if _ % 2:
                log.add("<", _delta("response.output_audio_transcript.delta", f"r{turn}"), 0.0)
        log.add("<", {"type": "response.done"}, 0.0)
    assert len(log.snapshot()) == 500 and len(log._open) <= 500
    # 5 entries per turn: appends ×750, committed, audio deltas ×100, transcript ×50, done.
    assert [e["count"] for e in log.snapshot()[-5:]] == [750, 1, 100, 50, 1]
