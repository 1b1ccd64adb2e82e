"""The client's pure parts with plain data: history replay, response queue, playback counts,
session settings (what an update changed, rolling a refused one back)."""

from __future__ import annotations

import base64

import numpy as np

from realtime_widget.client._config import _UNSET, SessionConfig
from realtime_widget.client._playback import PlaybackTracker, base64_samples
from realtime_widget.client._reconnect import backoff_delay, history_items
from realtime_widget.client._responses import ResponseSequencer
from realtime_widget.client._usage import add_usage


def test_history_replays_words_and_complete_call_pairs_only():
    items = [
        {
            "id": "i1",
            "type": "message",
            "role": "system",
            "content": [{"type": "input_text", "text": "Be kind."}],
        },
        {
            "id": "i2",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": "hi there"}],
        },
        {
            "id": "i3",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio"}],
            "formatted": {"transcript": ""},
        },
        {
            "id": "i4",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_audio", "transcript": "Hello!"}],
        },
        {
            "id": "i5",
            "type": "function_call",
            "call_id": "c1",
            "name": "f",
            "arguments": '{"a": 1}',
        },
        {"id": "i6", "type": "function_call_output", "call_id": "c1", "output": "2"},
        {"id": "i7", "type": "function_call", "call_id": "c2", "name": "g", "arguments": "{}"},
        {"id": "i8", "type": "function_call", "call_id": "c3", "name": "h", "arguments": "{}"},
        {"id": "i9", "type": "function_call_output", "call_id": "c_orphan", "output": "x"},
    ]
    replay = history_items(items, keep_calls={"c3"})
    assert replay == [
        {
            "id": "i1",
            "type": "message",
            "role": "system",
            "content": [{"type": "input_text", "text": "Be kind."}],
        },
        {
            "id": "i2",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hi there"}],
        },
        {
            "id": "i4",
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "Hello!"}],
        },
        {
            "id": "i5",
            "type": "function_call",
            "call_id": "c1",
            "name": "f",
            "arguments": '{"a": 1}',
        },
        {"id": "i6", "type": "function_call_output", "call_id": "c1", "output": "2"},
        {"id": "i8", "type": "function_call", "call_id": "c3", "name": "h", "arguments": "{}"},
    ]


def test_backoff_doubles_from_the_base_and_is_capped():
    assert [backoff_delay(n, 0.5) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]


def test_sequencer_sends_one_create_at_a_time_and_coalesces_plain_requests():
    sent: list[dict | None] = []

    def send(params):
        sent.append(params)
        return {"event_id": f"evt_{len(sent)}"}

    seq = ResponseSequencer(send)
    seq.request()
    seq.request()
    seq.request()  # coalesced with the previous queued plain request
    seq.request({"instructions": "x"})
    assert sent == [None] and seq.queued == 2
    seq.on_response_created({"response": {"id": "r1"}})
    seq.on_response_done({"response": {"id": "r1"}})
    assert sent == [None, None]
    seq.on_response_created({"response": {"id": "r2"}})
    seq.on_response_done({"response": {"id": "r2"}})
    assert sent == [None, None, {"instructions": "x"}]
    refused = {"error": {"code": "conversation_already_has_active_response", "event_id": "evt_3"}}
    assert seq.on_error(refused)
    assert seq.is_active and seq.queued == 1  # waits for the unknown active response to end
    seq.on_response_done({"response": {"id": "r_vad"}})
    assert sent[-1] == {"instructions": "x"} and len(sent) == 4
    assert not seq.on_error({"error": {"code": "other", "event_id": "evt_someone_else"}})


def test_playback_counts_base64_samples_without_decoding_and_cuts_at_what_was_heard():
    pcm = np.arange(4801, dtype=np.int16)
    data = base64.b64encode(pcm.tobytes()).decode()
    assert base64_samples(data) == 4801
    assert base64_samples(base64.b64encode(b"\x00\x01\x02\x03").decode()) == 2
    tracker = PlaybackTracker()
    tracker.on_audio_delta("a", 0, data)
    assert tracker.truncation_point("a", 0) is None  # nothing reported yet: no truncate
    assert tracker.truncation_point("a", 0, played=0) == 0  # the caller says nothing heard
    tracker.report_played("a", 0, 2400)
    tracker.report_played("a", 0, 1200)  # counts never go back
    assert tracker.playing() == ("a", 0)
    assert tracker.truncation_point("a", 0) == 2400
    assert tracker.truncation_point("a", 0, played=10**9) == 4801
    assert tracker.truncation_point("unknown", 0, played=100) == 0  # nothing received of it
    tracker.mark_truncated("a", 0, 2400)
    assert tracker.truncation_point("a", 0, played=3000) is None  # already cut there
    assert tracker.truncation_point("a", 0, played=0) == 0  # cutting further is allowed
    tracker.mark_truncated("a", 0, 0)
    assert tracker.truncation_point("a", 0, played=0) is None
    assert tracker.audio_end_ms(2400) == 100
    tracker.forget("a")
    assert tracker.playing() is None and tracker.received == {}


def test_usage_adds_nested_numbers_and_ignores_the_rest():
    total: dict = {}
    add_usage(total, {"total_tokens": 5, "input_token_details": {"audio_tokens": 2}, "note": "x"})
    add_usage(total, {"total_tokens": 7, "input_token_details": {"audio_tokens": 1, "cached": 3}})
    assert total == {"total_tokens": 12, "input_token_details": {"audio_tokens": 3, "cached": 3}}


def test_session_config_update_returns_only_the_settings_that_changed():
    config = SessionConfig()
    change = config.update({"voice": "echo", "instructions": "Be brief."})
    assert change.values == {
        ("audio", "output", "voice"): ("alloy", "echo"),
        ("instructions",): (_UNSET, "Be brief."),
    }
    assert not config.update({"voice": "echo"})  # the same value again: nothing changed
    partial = config.session("ga", None, config.update({"turn_detection": {"threshold": 0.6}}))
    assert partial == {
        "type": "realtime",
        "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": 0.6}}},
    }
    temperature = config.update({"temperature": 0.7})
    assert config.session("ga", None, temperature) is None  # GA has no temperature
    assert config.session("beta", None, temperature) == {"temperature": 0.7}


def test_session_config_rollback_restores_what_the_refused_change_replaced():
    config = SessionConfig()
    refused = config.update({"voice": "echo", "tool_choice": "bogus"})
    config.update({"tool_choice": "required"})  # sent after the refused one
    assert sorted(config.rollback(refused)) == ["audio.output.voice"]
    assert config.to_dict()["audio"]["output"]["voice"] == "alloy"
    assert config.to_dict()["tool_choice"] == "required"  # newer than the refused change
    added = config.update({"truncation": "weird"})
    assert config.rollback(added) == ["truncation"] and "truncation" not in config.to_dict()
    assert config.to_dict() == SessionConfig({"tool_choice": "required"}).to_dict()


def test_session_config_rollback_param_puts_the_named_setting_back_to_its_default():
    config = SessionConfig({"instructions": "Be brief.", "voice": "echo"})
    assert config.rollback_param("session.audio.output.voice") == "audio.output.voice"
    assert config.rollback_param("session.audio.output.voice") is None  # at its default now
    assert config.rollback_param("session.instructions") == "instructions"
    assert "instructions" not in config.to_dict()
    assert config.rollback_param("session.tools[0].name") is None  # not a setting of ours
    assert config.rollback_param(None) is None
