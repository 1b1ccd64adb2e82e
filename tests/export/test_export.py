"""Export: Markdown transcript, plain records, DataFrame, WAV of an item or the conversation."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from realtime_widget.audio import encode_base64, read_wav
from realtime_widget.conversation import RealtimeConversation
from realtime_widget.export import (
    RECORD_COLUMNS,
    conversation_audio,
    save_audio,
    to_dataframe,
    to_markdown,
    to_records,
)
from tests.helpers import require

USER_AUDIO = np.arange(-1200, 1200, dtype=np.int16)  # 0.1 s
ANSWER_AUDIO = (np.sin(np.arange(4800) / 7) * 5000).astype(np.int16)  # 0.2 s


def _assistant_turn(item_id: str, transcript: str, audio: np.ndarray) -> list[dict]:
    return [
        {
            "type": "conversation.item.added",
            "item": {"id": item_id, "type": "message", "role": "assistant", "content": []},
        },
        {
            "type": "response.content_part.added",
            "item_id": item_id,
            "content_index": 0,
            "part": {"type": "output_audio", "transcript": ""},
        },
        {
            "type": "response.output_audio.delta",
            "item_id": item_id,
            "content_index": 0,
            "delta": encode_base64(audio),
        },
        {
            "type": "response.output_audio_transcript.delta",
            "item_id": item_id,
            "content_index": 0,
            "delta": transcript,
        },
        {
            "type": "conversation.item.done",
            "item": {
                "id": item_id,
                "type": "message",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_audio", "transcript": transcript}],
            },
        },
    ]


@pytest.fixture
def conversation() -> RealtimeConversation:
    """A user text turn, a user audio turn, an answer, a tool call with output, a cut answer."""
    conv = RealtimeConversation()
    events = [
        {
            "type": "conversation.item.added",
            "item": {
                "id": "u1",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "What is 2 + 3?"}],
            },
        },
        *_assistant_turn("a1", "Let me add.", ANSWER_AUDIO),
        {
            "type": "conversation.item.added",
            "item": {
                "id": "f1",
                "type": "function_call",
                "call_id": "call_1",
                "name": "add",
                "arguments": '{"a": 2, "b": 3}',
                "status": "completed",
            },
        },
        {
            "type": "conversation.item.added",
            "item": {
                "id": "o1",
                "type": "function_call_output",
                "call_id": "call_1",
                "output": "5",
            },
        },
        *_assistant_turn("a2", "The answer is five, and here is a long story", ANSWER_AUDIO),
        {
            "type": "conversation.item.truncated",
            "item_id": "a2",
            "content_index": 0,
            "audio_end_ms": 50,
        },
    ]
    conv.queue_input_audio(USER_AUDIO)
    conv.process_event(
        {
            "type": "conversation.item.added",
            "item": {
                "id": "u0",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "transcript": None}],
            },
        }
    )
    for event in events:
        conv.process_event(event)
    return conv


def test_markdown_labels_speakers_and_shows_tool_calls_on_one_line(conversation):
    md = to_markdown(conversation, title="Lesson 1")
    assert md.split("\n\n") == [
        "# Lesson 1",
        "**User:** *[0.1 s of audio]*",
        "**User:** What is 2 + 3?",
        "**Assistant:** Let me add.",
        '**Tool:** `add({"a": 2, "b": 3})` → `5`',
        "**Assistant:** The answer is five, and here is a long story *(truncated: 0.1 s heard)*\n",
    ]


def test_markdown_marks_ids_given_as_truncated_and_cancelled_turns_as_interrupted(conversation):
    conversation.get_item("a1")["status"] = "incomplete"
    md = to_markdown(conversation)
    assert "**Assistant:** Let me add. *(interrupted)*" in md
    assert "Let me add. *(truncated: 0.2 s heard)*" in to_markdown(conversation, truncated={"a1"})


def test_markdown_shows_an_unanswered_call_and_an_orphan_output():
    items = [
        {"id": "f", "type": "function_call", "call_id": "c1", "name": "slow", "arguments": "{}"},
        {"id": "o", "type": "function_call_output", "call_id": "c9", "output": "late"},
    ]
    assert to_markdown(items).split("\n\n") == [
        "**Tool:** `slow({})` *(no output)*",
        "**Tool output** (c9): `late`\n",
    ]


def test_records_are_plain_json_with_audio_as_duration(conversation):
    records = to_records(conversation)
    assert json.loads(json.dumps(records)) == records  # nothing numpy, nothing binary
    assert all(tuple(r) == RECORD_COLUMNS for r in records)
    by_id = {r["id"]: r for r in records}
    assert by_id["u0"]["audio_seconds"] == 0.1 and by_id["a1"]["audio_seconds"] == 0.2
    assert by_id["a2"]["truncated"] and by_id["a2"]["audio_seconds"] == 0.05
    assert (by_id["f1"]["name"], by_id["f1"]["arguments"]) == ("add", '{"a": 2, "b": 3}')
    assert by_id["o1"]["output"] == "5" and by_id["o1"]["text"] is None


def test_dataframe_has_one_row_per_item_in_order(conversation):
    try:
        import pandas as pd
    except ImportError:
        pd = None
    require(pd is not None, "pandas not installed (pip install pandas)")
    df = to_dataframe(conversation)
    assert isinstance(df, pd.DataFrame)
    assert list(df.columns) == list(RECORD_COLUMNS)
    assert list(df["id"]) == ["u0", "u1", "a1", "f1", "o1", "a2"]
    assert df["audio_seconds"].sum() == pytest.approx(0.35)


def test_dataframe_without_pandas_says_how_to_install_it(conversation, monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install pandas"):
        to_dataframe(conversation)


def test_whole_conversation_audio_is_every_message_in_order_with_optional_gaps(conversation):
    audio = conversation_audio(conversation)
    expected = np.concatenate([USER_AUDIO, ANSWER_AUDIO, ANSWER_AUDIO[:1200]])
    assert np.array_equal(audio, expected)
    gapped = conversation_audio(conversation, gap_ms=10)
    assert len(gapped) == len(expected) + 2 * 240 and not gapped[2400:2640].any()


def test_wav_of_one_item_and_of_the_conversation_read_back_exactly(conversation, tmp_path):
    path = save_audio(conversation, tmp_path / "a1.wav", "a1")
    samples, rate = read_wav(path)
    assert rate == 24000 and np.array_equal(samples, ANSWER_AUDIO)
    samples, _ = read_wav(save_audio(conversation, tmp_path / "all.wav"))
    assert np.array_equal(samples, conversation_audio(conversation))


def test_audio_errors_say_what_to_pick(conversation):
    with pytest.raises(ValueError, match="has no audio"):
        conversation_audio(conversation, "u1")
    with pytest.raises(KeyError, match="no item 'nope'"):
        conversation_audio(conversation, "nope")
    with pytest.raises(ValueError, match="no audio"):
        conversation_audio([])


def test_sources_client_widget_like_and_list_give_the_same_export(conversation):
    class Holder:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    client = Holder(conversation=conversation)
    widget = Holder(client=client)
    expected = to_markdown(conversation)
    assert to_markdown(client) == to_markdown(widget) == expected
    assert to_markdown(conversation.get_items()) == expected
    with pytest.raises(TypeError, match="cannot export int"):
        to_markdown(3)


def _mcp_conversation() -> RealtimeConversation:
    conversation = RealtimeConversation()
    tools = [{"name": "add", "input_schema": {}}, {"name": "fail", "input_schema": {}}]
    listing = {"id": "l1", "type": "mcp_list_tools", "server_label": "demo", "tools": tools}
    calls = [
        {"id": "c1", "name": "add", "arguments": '{"a": 2}', "output": "5"},
        {
            "id": "c2",
            "name": "fail",
            "arguments": "{}",
            "error": {"type": "tool_execution_error", "message": "boom"},
        },
    ]
    request = {"id": "r1", "type": "mcp_approval_request", "name": "add", "arguments": "{}"}
    answer = {
        "id": "a1",
        "type": "mcp_approval_response",
        "approval_request_id": "r1",
        "approve": False,
        "reason": "later",
    }
    items = [
        listing,
        *({"type": "mcp_call", "server_label": "demo", **c} for c in calls),
        {**request, "server_label": "demo"},
        answer,
    ]
    for item in items:
        conversation.process_event({"type": "conversation.item.added", "item": item})
    return conversation


def test_export_markdown_shows_mcp_tools_calls_and_approvals():
    text = to_markdown(_mcp_conversation())
    assert text.split("\n\n") == [
        "**MCP server** demo: tools `add`, `fail`",
        '**MCP tool** demo: `add({"a": 2})` → `5`',
        "**MCP tool** demo: `fail({})` → *failed: boom*",
        "**Approval asked** for demo: `add({})` → denied (later)\n",
    ]


def test_export_records_carry_mcp_server_and_error():
    records = {r["id"]: r for r in to_records(_mcp_conversation())}
    assert records["c1"]["server_label"] == "demo" and records["c1"]["output"] == "5"
    assert records["c2"]["error"] == "boom" and records["c2"]["status"] == "failed"
    json.dumps(list(records.values()))  # JSON-ready
