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
