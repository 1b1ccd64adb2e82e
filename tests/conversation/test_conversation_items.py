"""RealtimeConversation items, deltas, responses and robustness, event by event, in both dialects
(beta goes through normalize_server_event). The rules are numbered in ``conversation.py``.
"""

from __future__ import annotations

import base64
import logging

import numpy as np
import pytest

from realtime_widget.conversation._conversation import _HANDLERS, RealtimeConversation
from realtime_widget.protocol import SERVER_EVENTS, normalize_server_event
from tests.conversation._dialects import (
    NAMES,
    announce,
    assistant,
    delta,
    feed,
    pcm,
    user_audio_item,
)

# -- announcements -------------------------------------------------------------------------------


def test_user_text_message_is_completed_with_its_text(conversation, dialect):
    result = announce(
        conversation,
        dialect,
        {
            "id": "item_u",
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [
                {"type": "input_text", "text": "Hello "},
                {"type": "input_text", "text": "there"},
            ],
        },
    )
    item = result["item"]
    assert item is conversation.get_item("item_u")
    assert item["status"] == "completed"
    assert item["formatted"]["text"] == "Hello there"
    assert item["formatted"]["transcript"] == ""
    assert item["formatted"]["audio"].dtype == np.int16 and len(item["formatted"]["audio"]) == 0
    assert "tool" not in item["formatted"]


def test_announced_item_is_a_copy_of_the_wire_item(conversation, dialect):
    wire = {
        "id": "item_u",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "a"}],
    }
    announce(conversation, dialect, wire)
    wire["content"][0]["text"] = "mutated later by the caller"
    assert conversation.get_item("item_u")["content"][0]["text"] == "a"


def test_assistant_message_is_in_progress_until_output_item_done(conversation, dialect):
    item = assistant(conversation, dialect)
    assert item["status"] == "in_progress"
    done = {"id": "item_a", "type": "message", "role": "assistant", "status": "completed"}
    result = feed(
        conversation,
        {"type": "response.output_item.done", "response_id": "r", "output_index": 0, "item": done},
    )
    assert result["item"] is item and item["status"] == "completed"


def test_second_announcement_of_a_known_item_changes_nothing(conversation, dialect):
    first = assistant(conversation, dialect)
    delta(conversation, dialect, "transcript", "hi")
    again = announce(
        conversation,
        dialect,
        {"id": "item_a", "type": "message", "role": "assistant", "content": []},
    )
    assert again["item"] is first
    assert first["formatted"]["transcript"] == "hi" and len(conversation.get_items()) == 1


def test_function_call_output_item_is_completed_with_its_output(conversation, dialect):
    item = announce(
        conversation,
        dialect,
        {
            "id": "item_o",
            "type": "function_call_output",
            "call_id": "call_1",
            "output": '{"t": 21}',
        },
    )["item"]
    assert item["status"] == "completed"
    assert item["formatted"]["output"] == '{"t": 21}'


def test_conversation_item_done_updates_a_known_item_and_announces_an_unknown_one(conversation):
    item = assistant(conversation, "ga")
    final = {
        "id": "item_a",
        "type": "message",
        "role": "assistant",
        "status": "incomplete",
        "content": [],
    }
    assert (
        conversation.process_event({"type": "conversation.item.done", "item": final})["item"]
        is item
    )
    assert item["status"] == "incomplete"
    other = {"id": "item_x", "type": "message", "role": "user", "status": "completed",
             "content": [{"type": "input_text", "text": "late"}]}  # fmt: skip
    result = conversation.process_event({"type": "conversation.item.done", "item": other})
    assert result["item"]["formatted"]["text"] == "late"
    assert [i["id"] for i in conversation.get_items()] == ["item_a", "item_x"]


# -- deltas --------------------------------------------------------------------------------------


def test_audio_deltas_are_decoded_once_and_concatenated(conversation, dialect):
    item = assistant(conversation, dialect)
    first = delta(conversation, dialect, "audio", pcm(1, -2, 3))
    second = delta(conversation, dialect, "audio", pcm(32767, -32768))
    assert first["item"] is item
    assert first["delta"]["audio"].tolist() == [1, -2, 3]
    assert second["delta"]["audio"].dtype == np.int16
    audio = item["formatted"]["audio"]
    assert audio.dtype == np.int16
    assert audio.tolist() == [1, -2, 3, 32767, -32768]


def test_audio_read_while_streaming_stays_a_valid_snapshot(conversation, dialect):
    item = assistant(conversation, dialect)
    delta(conversation, dialect, "audio", pcm(1, 2))
    snapshot = item["formatted"]["audio"]
    delta(conversation, dialect, "audio", pcm(3))
    assert snapshot.tolist() == [1, 2]
    assert item["formatted"]["audio"].tolist() == [1, 2, 3]
    assert not item["formatted"]["audio"].flags.writeable


def test_transcript_deltas_accumulate_in_content_and_formatted(conversation, dialect):
    item = assistant(conversation, dialect)
    result = delta(conversation, dialect, "transcript", "Hel")
    delta(conversation, dialect, "transcript", "lo")
    assert result == {"item": item, "delta": {"transcript": "Hel"}}
    assert item["formatted"]["transcript"] == "Hello"
    assert item["content"][0]["transcript"] == "Hello"


def test_text_deltas_accumulate_in_content_and_formatted(conversation, dialect):
    item = assistant(conversation, dialect, part="text_part")
    assert item["content"][0]["type"] == "output_text"  # beta's "text" was normalised
    result = delta(conversation, dialect, "text", "Hi ")
    delta(conversation, dialect, "text", "you")
    assert result["delta"] == {"text": "Hi "}
    assert item["formatted"]["text"] == "Hi you" and item["content"][0]["text"] == "Hi you"


def test_text_delta_without_a_content_part_still_reaches_formatted(conversation, dialect):
    announce(
        conversation,
        dialect,
        {"id": "item_a", "type": "message", "role": "assistant", "content": []},
    )
    delta(conversation, dialect, "text", "orphan")
    assert conversation.get_item("item_a")["formatted"]["text"] == "orphan"


def test_transcript_delta_after_truncation_grows_the_part_and_the_cleared_formatted(
    conversation, dialect
):
    item = assistant(conversation, dialect)
    delta(conversation, dialect, "transcript", "words")
    feed(
        conversation,
        {"type": "conversation.item.truncated", "item_id": "item_a", "content_index": 0,
         "audio_end_ms": 0},
    )  # fmt: skip
    delta(conversation, dialect, "transcript", " more")
    assert item["content"][0]["transcript"] == "words more"  # the seed keeps the wire part
    assert item["formatted"]["transcript"] == " more"


def test_text_deltas_of_two_parts_grow_each_part_and_formatted_gets_both(conversation, dialect):
    item = assistant(conversation, dialect, part="text_part")
    second = {"type": NAMES[dialect]["text_part"], "text": ""}
    feed(
        conversation,
        {"type": "response.content_part.added", "item_id": "item_a", "content_index": 1,
         "output_index": 0, "response_id": "resp_1", "part": second},
    )  # fmt: skip
    for index, piece in ((0, "a"), (0, "b"), (1, "c"), (0, "d"), (1, "e")):
        event = {"type": NAMES[dialect]["text"], "item_id": "item_a", "content_index": index,
                 "delta": piece}  # fmt: skip
        feed(conversation, event)
    assert [part["text"] for part in item["content"]] == ["abd", "ce"]
    assert item["formatted"]["text"] == "abcde"


def test_function_call_arguments_accumulate_into_the_tool(conversation, dialect):
    item = announce(
        conversation,
        dialect,
        {"id": "item_f", "type": "function_call", "status": "in_progress", "name": "get_weather",
         "call_id": "call_1", "arguments": ""},
    )["item"]  # fmt: skip
    assert item["status"] == "in_progress"
    for piece in ('{"city": ', '"Paris"}'):
        result = feed(
            conversation,
            {
                "type": "response.function_call_arguments.delta",
                "item_id": "item_f",
                "call_id": "call_1",
                "delta": piece,
            },
        )
    assert result["delta"] == {"arguments": '"Paris"}'}
    assert item["arguments"] == '{"city": "Paris"}'
    assert item["formatted"]["tool"] == {
        "type": "function",
        "name": "get_weather",
        "call_id": "call_1",
        "arguments": '{"city": "Paris"}',
    }


def test_odd_byte_audio_delta_is_ignored_with_a_warning(conversation, dialect, caplog):
    item = assistant(conversation, dialect)
    odd = base64.b64encode(b"\x01\x02\x03").decode()
    with caplog.at_level(logging.WARNING, logger="realtime_widget.conversation"):
        assert delta(conversation, dialect, "audio", odd) == {}
    assert len(item["formatted"]["audio"]) == 0
    assert "malformed" in caplog.text


# -- truncation and deletion ---------------------------------------------------------------------


def test_truncation_cuts_audio_at_audio_end_ms_and_clears_the_transcript(conversation, dialect):
    item = assistant(conversation, dialect)
    delta(conversation, dialect, "audio", pcm(*range(48)))  # 2 ms at 24 kHz
    delta(conversation, dialect, "transcript", "words")
    before = item["formatted"]["audio"]
    result = feed(
        conversation,
        {
            "type": "conversation.item.truncated",
            "item_id": "item_a",
            "content_index": 0,
            "audio_end_ms": 1,
        },
    )
    assert result["item"] is item
    assert item["formatted"]["audio"].tolist() == list(range(24))
    assert item["formatted"]["transcript"] == ""
    assert len(before) == 48  # the array handed out earlier is not shortened under its holder
    delta(conversation, dialect, "audio", pcm(-1))
    assert item["formatted"]["audio"].tolist() == [*range(24), -1]
    assert before.tolist() == list(range(48))


def test_deletion_removes_the_item(conversation, dialect):
    assistant(conversation, dialect, "item_1")
    assistant(conversation, dialect, "item_2")
    result = feed(conversation, {"type": "conversation.item.deleted", "item_id": "item_1"})
    assert result["item"]["id"] == "item_1"
    assert conversation.get_item("item_1") is None
    assert [i["id"] for i in conversation.get_items()] == ["item_2"]


# -- responses -----------------------------------------------------------------------------------


def test_responses_are_kept_with_their_output_and_final_usage(conversation, dialect):
    created = feed(
        conversation,
        {
            "type": "response.created",
            "response": {"id": "resp_1", "status": "in_progress", "output": []},
        },
    )
    response = created["response"]
    out = {"id": "item_a", "type": "message", "role": "assistant", "status": "in_progress",
           "content": [{"type": NAMES[dialect]["audio_part"], "transcript": ""}]}  # fmt: skip
    added = feed(
        conversation,
        {
            "type": "response.output_item.added",
            "response_id": "resp_1",
            "output_index": 0,
            "item": out,
        },
    )
    assert added["response"] is response and added["item"]["id"] == "item_a"
    assert response["output"][0]["content"][0]["type"] == "output_audio"
    usage = {"total_tokens": 3, "input_tokens": 1, "output_tokens": 2}
    done = feed(
        conversation,
        {
            "type": "response.done",
            "response": {"id": "resp_1", "status": "completed", "output": [out], "usage": usage},
        },
    )
    assert done["response"] is response
    assert response["status"] == "completed" and response["usage"] == usage
    assert conversation.get_responses() == [response]


# -- robustness ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "event",
    [
        {
            "type": "response.output_audio.delta",
            "item_id": "nope",
            "content_index": 0,
            "delta": "AAA=",
        },
        {
            "type": "response.output_audio_transcript.delta",
            "item_id": "nope",
            "content_index": 0,
            "delta": "x",
        },
        {"type": "response.output_text.delta", "item_id": "nope", "content_index": 0, "delta": "x"},
        {"type": "response.function_call_arguments.delta", "item_id": "nope", "delta": "x"},
        {
            "type": "conversation.item.truncated",
            "item_id": "nope",
            "content_index": 0,
            "audio_end_ms": 5,
        },
        {"type": "conversation.item.deleted", "item_id": "nope"},
        {
            "type": "response.content_part.added",
            "item_id": "nope",
            "content_index": 0,
            "part": {"type": "output_text"},
        },
        {
            "type": "response.output_item.done",
            "response_id": "r",
            "item": {"id": "nope", "status": "completed"},
        },
        {"type": "response.output_item.added", "response_id": "nope", "item": {"id": "nope"}},
        {
            "type": "conversation.item.input_audio_transcription.failed",
            "item_id": "nope",
            "content_index": 0,
        },
    ],
    ids=lambda e: e["type"],
)
def test_events_naming_an_unknown_item_return_empty_and_never_raise(conversation, event):
    assert conversation.process_event(event) == {}
    assert conversation.get_items() == []


@pytest.mark.parametrize(
    "event",
    [
        {"type": "response.from_the_future", "event_id": "e"},
        {"no_type": True},
        {"type": None},
        {"type": "response.output_audio.delta"},  # no item_id
        {"type": "conversation.item.added"},  # no item
        {"type": "conversation.item.added", "item": "not a dict"},
        {"type": "conversation.item.added", "item": {"type": "message", "role": "user"}},
        {"type": "conversation.item.done", "item": {"id": None, "type": "message"}},
        {"type": "response.created", "response": None},
        None,
        "not an event",
        [],
    ],
    ids=repr,
)
def test_unknown_and_malformed_events_return_empty_and_never_raise(conversation, event):
    assert conversation.process_event(event) == {}
    assert conversation.get_items() == []


def test_every_server_event_type_of_both_dialects_has_a_table_entry():
    ga_names = {normalize_server_event({"type": name})["type"] for name in SERVER_EVENTS["beta"]}
    assert SERVER_EVENTS["ga"] - set(_HANDLERS) == set()
    assert ga_names - set(_HANDLERS) == set()


def test_clear_forgets_items_responses_and_queued_audio(conversation, dialect):
    assistant(conversation, dialect)
    conversation.append_input_audio(np.ones(100, np.int16))
    conversation.queue_input_audio(np.ones(3, np.int16))
    conversation.clear()
    assert conversation.get_items() == [] and conversation.get_responses() == []
    assert len(conversation.input_audio) == 0
    assert (
        len(announce(conversation, dialect, user_audio_item())["item"]["formatted"]["audio"]) == 0
    )


def test_frequency_must_be_positive():
    with pytest.raises(ValueError, match="positive sample rate"):
        RealtimeConversation(frequency=0)


def test_transcript_done_repairs_a_lost_delta_and_otherwise_changes_nothing(conversation):
    item = assistant(conversation, "ga")
    for piece in ("Hello ", "world"):  # "there " was lost on the way
        delta(conversation, "ga", "transcript", piece)
    done = {"type": "response.output_audio_transcript.done", "item_id": "item_a",
            "content_index": 0, "transcript": "Hello there world"}  # fmt: skip
    assert conversation.process_event(done) == {"item": item}
    assert item["formatted"]["transcript"] == "Hello there world"
    assert item["content"][0]["transcript"] == "Hello there world"
    assert conversation.process_event(done) == {"item": item}  # idempotent
    assert item["formatted"]["transcript"] == "Hello there world"


def test_conversation_item_retrieved_updates_a_known_item(conversation):
    item = conversation.process_event(
        {"type": "conversation.item.added", "item": user_audio_item()}
    )["item"]
    retrieved = {**user_audio_item(), "content": [{"type": "input_audio", "transcript": "hi"}]}
    assert (
        conversation.process_event({"type": "conversation.item.retrieved", "item": retrieved})[
            "item"
        ]
        is item
    )
    assert item["content"][0]["transcript"] == "hi"
