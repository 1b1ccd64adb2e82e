"""The pure session state machine: session, errors, conversation items (no sockets)."""

from __future__ import annotations

import base64

import pytest

from tests.server.checked import types
from tests.server.driver import StateDriver, assert_alive, of_type


def test_server_greets_with_full_default_session_then_conversation():
    d = StateDriver()
    assert types(d.start) == ["session.created", "conversation.created"]
    session = d.start[0]["session"]
    assert session["type"] == "realtime" and session["object"] == "realtime.session"
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}
    vad = session["audio"]["input"]["turn_detection"]
    assert vad["type"] == "server_vad" and vad["threshold"] == 0.5
    assert vad["prefix_padding_ms"] == 300 and vad["create_response"] is True
    assert session["output_modalities"] == ["audio"]
    assert len({e["event_id"] for e in d.start}) == 2


def test_session_update_merges_fields_and_reports_whole_session():
    d = StateDriver()
    out = d.send(
        {
            "type": "session.update",
            "event_id": "evt_1",
            "session": {
                "type": "realtime",
                "instructions": "Be brief.",
                "audio": {
                    "output": {"voice": "cedar"},
                    "input": {"turn_detection": {"type": "server_vad", "threshold": 0.7}},
                },
            },
        }
    )
    assert types(out) == ["session.updated"]
    session = out[0]["session"]
    assert session["instructions"] == "Be brief."
    assert session["audio"]["output"]["voice"] == "cedar"
    assert session["audio"]["output"]["format"] == {"type": "audio/pcm", "rate": 24000}
    vad = session["audio"]["input"]["turn_detection"]
    assert vad["threshold"] == 0.7 and vad["silence_duration_ms"] == 200  # defaults filled in


def test_ga_session_update_without_type_is_refused_and_session_continues():
    d = StateDriver()
    out = d.send({"type": "session.update", "event_id": "evt_x", "session": {"instructions": "x"}})
    error = out[0]["error"]
    assert error["code"] == "missing_required_parameter" and error["param"] == "session.type"
    assert error["event_id"] == "evt_x"
    out = d.send({"type": "session.update", "session": {"type": "realtime", "instructions": "y"}})
    assert out[0]["session"]["instructions"] == "y"


@pytest.mark.parametrize(
    ("session", "code", "param"),
    [
        ({"instructions": 5}, "invalid_type", "session.instructions"),
        ({"output_modalities": ["video"]}, "invalid_value", "session.output_modalities[0]"),
        (
            {"audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 2}}}},
            "decimal_above_max_value",
            "session.audio.input.turn_detection.threshold",
        ),
        (
            {"audio": {"output": {"speed": 9}}},
            "decimal_above_max_value",
            "session.audio.output.speed",
        ),
        (
            {"audio": {"input": {"turn_detection": {"threshold": 0.4}}}},
            "missing_required_parameter",
            "session.audio.input.turn_detection.type",
        ),
        ({"temperature": 0.8}, "unknown_parameter", "session.temperature"),
        (
            {"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
            "invalid_value",
            "session.audio.input.format.rate",
        ),
        ({"tools": [{"type": "function"}]}, "missing_required_parameter", "session.tools[0].name"),
        ({"reasoning": {"effort": "max"}}, "invalid_value", "session.reasoning.effort"),
        (
            {"audio": {"input": {"noise_reduction": {"strength": 0.5}}}},
            "missing_required_parameter",
            "session.audio.input.noise_reduction.type",
        ),
        (
            {"audio": {"input": {"noise_reduction": {"type": "far_field", "strength": -1}}}},
            "decimal_below_min_value",
            "session.audio.input.noise_reduction.strength",
        ),
        (
            {"audio": {"input": {"transcription": {"delay": "later"}}}},
            "invalid_value",
            "session.audio.input.transcription.delay",
        ),
        (
            {"audio": {"input": {"transcription": {"languages": "fr"}}}},
            "invalid_type",
            "session.audio.input.transcription.languages",
        ),
        (
            {"audio": {"output": {"voice": {"name": "mine"}}}},
            "missing_required_parameter",
            "session.audio.output.voice.id",
        ),
        (
            {"tools": [{"type": "mcp", "server_label": "docs"}]},
            "missing_required_parameter",
            "session.tools[0].server_url",
        ),
        (
            {"tools": [{"type": "mcp", "server_url": "http://127.0.0.1:9/mcp"}]},
            "missing_required_parameter",
            "session.tools[0].server_label",
        ),
        ({"tools": [{"type": "web_search"}]}, "invalid_value", "session.tools[0].type"),
        (
            {"tool_choice": {"type": "mcp", "name": "search"}},
            "missing_required_parameter",
            "session.tool_choice.server_label",
        ),
        (
            {"truncation": {"type": "retention_ratio", "retention_ratio": 2.0}},
            "decimal_above_max_value",
            "session.truncation.retention_ratio",
        ),
        ({"parallel_tool_calls": "yes"}, "invalid_type", "session.parallel_tool_calls"),
    ],
)
def test_session_update_with_invalid_value_is_refused_naming_the_field(session, code, param):
    d = StateDriver()
    before = d.state.session
    out = d.send(
        {
            "type": "session.update",
            "event_id": "evt_bad",
            "session": {"type": "realtime", **session},
        }
    )
    assert types(out) == ["error"]
    error = out[0]["error"]
    assert (error["code"], error["param"], error["event_id"]) == (code, param, "evt_bad")
    assert d.state.session == before
    assert_alive(d)


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "invalid_json"),
        (b"\x00\x01binary", "invalid_json"),
        ("[1, 2]", "invalid_type"),
        ('{"event_id": "e"}', "missing_required_parameter"),
        ('{"type": "no.such.event"}', "invalid_value"),
        ('{"type": "conversation.item.delete"}', "missing_required_parameter"),
        ('{"type": "conversation.item.delete", "item_id": 7}', "invalid_type"),
        ('{"type": "input_audio_buffer.append", "audio": "%%%"}', "invalid_value"),
        ('{"type": "input_audio_buffer.append", "audio": "AA=="}', "invalid_value"),
        ('{"type": "response.create", "bogus": 1}', "unknown_parameter"),
    ],
)
def test_server_answers_bad_frames_with_error_and_keeps_working(frame, code):
    d = StateDriver()
    out = d.send(frame)
    assert types(out) == ["error"] and out[0]["error"]["code"] == code
    assert_alive(d)


def test_error_echoes_client_event_id():
    d = StateDriver()
    out = d.send({"type": "conversation.item.delete", "item_id": "nope", "event_id": "evt_42"})
    assert out[0]["error"]["event_id"] == "evt_42" and out[0]["error"]["code"] == "item_not_found"
    assert_alive(d)


def test_append_over_15_mib_is_refused():
    d = StateDriver()
    audio = base64.b64encode(bytes(16 * 1024 * 1024)).decode()
    out = d.send({"type": "input_audio_buffer.append", "audio": audio})
    assert out[0]["error"]["code"] == "invalid_value" and out[0]["error"]["param"] == "audio"
    assert d.state.input.buffered_ms == 0
    assert_alive(d)


def test_commit_of_less_than_100ms_is_refused_then_succeeds_with_enough_audio():
    import numpy as np

    d = StateDriver()
    d.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        }
    )
    d.append(np.zeros(1200, np.int16))  # 50 ms
    out = d.send({"type": "input_audio_buffer.commit", "event_id": "c1"})
    assert out[0]["error"]["code"] == "input_audio_buffer_commit_empty"
    d.append(np.zeros(2400, np.int16))
    out = d.send({"type": "input_audio_buffer.commit"})
    assert types(out) == [
        "input_audio_buffer.committed",
        "conversation.item.added",
        "conversation.item.done",
    ]
    assert out[1]["item"]["content"] == [{"type": "input_audio", "transcript": None}]


def test_clear_answers_cleared_and_empties_buffer():
    import numpy as np

    d = StateDriver()
    d.append(np.zeros(4800, np.int16))
    assert types(d.send({"type": "input_audio_buffer.clear"})) == ["input_audio_buffer.cleared"]
    assert d.state.input.buffered_ms == 0


def test_item_create_after_unknown_previous_item_is_refused_and_root_inserts_first():
    d = StateDriver()
    first = d.say("one")[0]["item"]["id"]
    out = d.send(
        {
            "type": "conversation.item.create",
            "previous_item_id": "item_missing",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "x"}],
            },
        }
    )
    assert (
        out[0]["error"]["code"] == "item_not_found"
        and out[0]["error"]["param"] == "previous_item_id"
    )
    out = d.send(
        {
            "type": "conversation.item.create",
            "previous_item_id": "root",
            "item": {
                "id": "item_zero",
                "type": "message",
                "role": "system",
                "content": [{"type": "input_text", "text": "sys"}],
            },
        }
    )
    assert out[0]["previous_item_id"] is None and out[0]["item"]["id"] == "item_zero"
    assert [r.item["id"] for r in d.state.conversation.records()] == ["item_zero", first]


def test_function_call_output_for_unknown_call_id_is_refused():
    d = StateDriver()
    out = d.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "call_nope", "output": "{}"},
        }
    )
    assert out[0]["error"]["code"] == "invalid_value" and out[0]["error"]["param"] == "item.call_id"
    d.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call", "call_id": "call_1", "name": "f", "arguments": "{}"},
        }
    )
    out = d.send(
        {
            "type": "conversation.item.create",
            "item": {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        }
    )
    assert types(out) == ["conversation.item.added", "conversation.item.done"]


def test_user_message_with_assistant_content_type_is_refused():
    d = StateDriver()
    out = d.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "output_text", "text": "x"}],
            },
        }
    )
    assert out[0]["error"]["code"] == "invalid_value"


def test_delete_and_retrieve_answer_and_refuse_unknown_ids():
    d = StateDriver()
    item_id = d.say("keep me")[0]["item"]["id"]
    out = d.send({"type": "conversation.item.retrieve", "item_id": item_id})
    assert (
        types(out) == ["conversation.item.retrieved"]
        and out[0]["item"]["content"][0]["text"] == "keep me"
    )
    assert types(d.send({"type": "conversation.item.delete", "item_id": item_id})) == [
        "conversation.item.deleted"
    ]
    for kind in ("conversation.item.delete", "conversation.item.retrieve"):
        out = d.send({"type": kind, "item_id": item_id})
        assert out[0]["error"]["code"] == "item_not_found"
    assert len(d.state.conversation) == 0
    assert_alive(d)


def test_beta_connection_speaks_beta_names_and_flat_session():
    d = StateDriver("beta")
    assert "modalities" in d.start[0]["session"] and "voice" in d.start[0]["session"]
    out = d.send(
        {
            "type": "session.update",
            "session": {
                "voice": "verse",
                "turn_detection": None,
                "input_audio_format": "g711_ulaw",
            },
        }
    )
    assert types(out) == ["session.updated"] and out[0]["session"]["voice"] == "verse"
    assert out[0]["session"]["input_audio_format"] == "g711_ulaw"
    assert d.state.session["audio"]["input"]["format"] == {"type": "audio/pcmu"}
    assert types(d.say("hi")) == ["conversation.item.created"]
    d.send({"type": "response.create", "response": {"modalities": ["text"]}})
    events = d.drain()
    assert "response.text.delta" in types(events) and "conversation.item.done" not in types(events)
    assert (
        of_type(events, "response.done")[0]["response"]["output"][0]["content"][0]["type"] == "text"
    )


def test_user_audio_item_is_transcribed_and_retrievable_with_its_audio():
    import numpy as np

    from realtime_widget.audio import decode_base64, encode_base64

    d = StateDriver(transcriber=lambda audio, rate: f"{len(audio)} samples")
    d.send(
        {
            "type": "session.update",
            "session": {
                "type": "realtime",
                "audio": {"input": {"transcription": {"model": "whisper-1"}}},
            },
        }
    )
    audio = (np.arange(4800) % 100 * 100).astype(np.int16)
    out = d.send(
        {
            "type": "conversation.item.create",
            "item": {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_audio", "audio": encode_base64(audio)}],
            },
        }
    )
    assert "audio" not in out[0]["item"]["content"][0]  # announcements do not echo the bytes
    done = of_type(out, "conversation.item.input_audio_transcription.completed")[0]
    assert done["transcript"] == "4800 samples"
    item = d.send({"type": "conversation.item.retrieve", "item_id": done["item_id"]})[0]["item"]
    assert np.array_equal(decode_base64(item["content"][0]["audio"]), audio)
    assert item["content"][0]["transcript"] == "4800 samples"


def test_duplicate_item_id_is_refused():
    d = StateDriver()
    item = {
        "id": "item_same",
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "x"}],
    }
    d.send({"type": "conversation.item.create", "item": item})
    out = d.send({"type": "conversation.item.create", "item": item})
    assert out[0]["error"]["code"] == "item_already_exists"
    assert_alive(d)


def test_conversation_keeps_bounded_user_audio_but_all_transcripts():
    import numpy as np

    d = StateDriver()
    d.state.conversation.max_audio_seconds = 1.0
    d.send(
        {
            "type": "session.update",
            "session": {"type": "realtime", "audio": {"input": {"turn_detection": None}}},
        }
    )
    for _ in range(3):
        d.append(np.full(14400, 500, np.int16))  # 0.6 s
        d.send({"type": "input_audio_buffer.commit"})
    records = d.state.conversation.records()
    assert [r.audio is not None for r in records] == [False, False, True]
    assert all(r.transcript == "[speech 0.6 s]" for r in records)


def test_deeply_nested_json_is_refused_not_crashing():
    d = StateDriver()
    deep = (
        '{"type": "response.create", "response": {"metadata": ' + '{"a": ' * 500 + "1" + "}" * 502
    )
    assert d.send(deep)[0]["error"]["code"] == "invalid_json"
    assert d.send("[" * 100000 + "]" * 100000)[0]["error"]["code"] == "invalid_json"
    nan = (
        '{"type": "session.update", "session": {"type": "realtime", "audio": {"input": '
        '{"turn_detection": {"type": "server_vad", "threshold": NaN}}}}}'
    )
    assert d.send(nan)[0]["error"]["code"] == "invalid_json"
    assert_alive(d)


def _update(d: StateDriver, **session) -> dict:
    out = d.send({"type": "session.update", "session": {"type": "realtime", **session}})
    # MCP tools are listed after session.updated (their item, then mcp_list_tools.*)
    assert types(out)[0] == "session.updated", out
    assert set(types(out)[1:]) <= {"conversation.item.added", "mcp_list_tools.in_progress"}, out
    return out[0]["session"]


def test_session_accepts_and_reports_current_ga_settings():
    # Settings of newer models and transcribers (issue 12): accepted offline, reported back.
    d = StateDriver()
    transcription = {
        "model": "gpt-live-transcribe",
        "languages": ["fr", "en"],
        "keywords": ["Jupyter", "anywidget"],
        "delay": "low",
    }
    session = _update(
        d,
        model="gpt-realtime-2",
        reasoning={"effort": "low"},
        parallel_tool_calls=False,
        truncation={"type": "retention_ratio", "retention_ratio": 0.8},
        tracing={"workflow_name": "class demo"},
        audio={"input": {"transcription": transcription}},
    )
    assert session["reasoning"] == {"effort": "low"}
    assert session["audio"]["input"]["transcription"] == transcription
    assert session["truncation"] == {"type": "retention_ratio", "retention_ratio": 0.8}
    assert session["tracing"] == {"workflow_name": "class demo"}
    assert d.state.extras["parallel_tool_calls"] is False


def test_noise_reduction_strength_defaults_to_1_and_survives_an_update_without_it():
    d = StateDriver()
    noise = _update(d, audio={"input": {"noise_reduction": {"type": "far_field"}}})
    assert noise["audio"]["input"]["noise_reduction"] == {"type": "far_field", "strength": 1.0}
    _update(d, audio={"input": {"noise_reduction": {"type": "far_field", "strength": 0.3}}})
    again = _update(d, audio={"input": {"noise_reduction": {"type": "near_field"}}})
    assert again["audio"]["input"]["noise_reduction"] == {"type": "near_field", "strength": 0.3}
    off = _update(d, audio={"input": {"noise_reduction": None}})
    assert off["audio"]["input"]["noise_reduction"] is None


def test_tool_choice_is_replaced_whole_not_merged():
    d = StateDriver()
    mcp = {"type": "mcp", "server_label": "docs", "server_url": "http://127.0.0.1:9/mcp"}
    weather = {"type": "function", "name": "get_weather", "parameters": {"type": "object"}}
    _update(d, tools=[weather, mcp], tool_choice={"type": "function", "name": "get_weather"})
    session = _update(d, tool_choice={"type": "mcp", "server_label": "docs"})
    assert session["tool_choice"] == {"type": "mcp", "server_label": "docs"}
    assert session["tools"] == [weather, mcp]


def test_tracing_cannot_change_once_enabled_as_the_service_says():
    d = StateDriver()
    _update(d, tracing="auto")
    out = d.send(
        {"type": "session.update", "session": {"type": "realtime", "tracing": {"group_id": "g"}}}
    )
    assert out[0]["error"]["param"] == "session.tracing"
    assert _update(d, tracing="auto")["tracing"] == "auto"  # the same setting again is fine


def test_custom_voice_is_reported_by_id_and_synthesized_by_name():
    d = StateDriver()
    session = _update(d, audio={"output": {"voice": {"id": "voice_1234"}}})
    assert session["audio"]["output"]["voice"] == {"id": "voice_1234"}
    d.say("hello")
    created = d.send({"type": "response.create"})
    # A response reports its voice as a string (the SDK's RealtimeResponse).
    assert created[0]["response"]["audio"]["output"]["voice"] == "voice_1234"
    while d.state.audio_request is None and d.state.next_output() is not None:
        pass
    assert d.state.audio_request[1] == "voice_1234"
    assert d.state.active_voice == "voice_1234"


def test_response_create_accepts_reasoning_and_a_custom_voice():
    d = StateDriver()
    d.say("hello")
    out = d.send(
        {
            "type": "response.create",
            "response": {
                "reasoning": {"effort": "high"},
                "audio": {"output": {"voice": {"id": "v"}}},
            },
        }
    )
    assert types(out) == ["response.created"]
    assert out[0]["response"]["audio"]["output"]["voice"] == "v"
    d.drain()


def test_mcp_items_are_stored_and_an_approval_must_answer_a_request():
    d = StateDriver()
    request = {
        "type": "mcp_approval_request",
        "id": "mcpr_1",
        "server_label": "docs",
        "name": "search",
        "arguments": "{}",
    }
    out = d.send({"type": "conversation.item.create", "item": request})
    assert out[0]["item"] == request
    answer = {"type": "mcp_approval_response", "approval_request_id": "mcpr_9", "approve": True}
    out = d.send({"type": "conversation.item.create", "item": answer})
    assert out[0]["error"]["param"] == "item.approval_request_id"
    out = d.send(
        {"type": "conversation.item.create", "item": {**answer, "approval_request_id": "mcpr_1"}}
    )
    assert out[0]["type"] == "conversation.item.added"
    call = {"type": "mcp_call", "server_label": "docs", "name": "search", "arguments": "{}"}
    out = d.send({"type": "conversation.item.create", "item": call})
    item = out[0]["item"]
    assert item["output"] is None and item["error"] is None and item["id"]
    d.say("and now?")
    d.send({"type": "response.create"})
    assert d.drain()[-2]["response"]["status"] == "completed"
