"""build_session: users' flat (seed) and GA nested settings -> a GA or beta session."""

from __future__ import annotations

import copy
import warnings

import pytest

from realtime_widget.protocol import build_session, session_to_flat, session_to_ga
from realtime_widget.testing.schema import schema_errors

SEED_CONFIG = {
    "instructions": "Be brief.",
    "modalities": ["text", "audio"],
    "voice": "alloy",
    "input_audio_format": "pcm16",
    "output_audio_format": "g711_ulaw",
    "input_audio_transcription": {"model": "whisper-1"},
    "turn_detection": {"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 200},
    "tools": [
        {
            "type": "function",
            "name": "add",
            "description": "Add.",
            "parameters": {"type": "object", "properties": {"a": {"type": "number"}}},
        }
    ],
    "tool_choice": "auto",
    "max_response_output_tokens": 300,
}
GA_SESSION = {
    "type": "realtime",
    "instructions": "Be brief.",
    "output_modalities": ["audio"],
    "audio": {
        "input": {
            "format": {"type": "audio/pcm", "rate": 24000},
            "transcription": {"model": "whisper-1"},
            "turn_detection": {"type": "server_vad", "threshold": 0.5, "silence_duration_ms": 200},
        },
        "output": {"format": {"type": "audio/pcmu"}, "voice": "alloy"},
    },
    "tools": SEED_CONFIG["tools"],
    "tool_choice": "auto",
    "max_output_tokens": 300,
}


def _session_update(session: dict) -> dict:
    return {"type": "session.update", "session": session}


def test_build_session_converts_the_seeds_flat_keys_to_a_ga_session():
    assert build_session(SEED_CONFIG) == GA_SESSION


def test_build_session_emits_a_flat_beta_session_from_flat_or_ga_keys():
    expected = {**SEED_CONFIG}
    assert build_session(SEED_CONFIG, "beta") == expected
    assert build_session(GA_SESSION, "beta") == expected


def test_build_session_accepts_a_ga_session_unchanged():
    assert build_session(GA_SESSION) == GA_SESSION


def test_build_session_merges_flat_and_nested_keys():
    config = {"voice": "ash", "audio": {"input": {"format": "pcm16"}}}
    assert build_session(config) == {
        "type": "realtime",
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 24000}},
            "output": {"voice": "ash"},
        },
    }


@pytest.mark.parametrize("dialect", ["ga", "beta"])
def test_built_sessions_conform_strictly_to_the_schema(dialect):
    configs = [
        SEED_CONFIG,
        GA_SESSION,
        {"instructions": ""},
        {"modalities": ["text"], "turn_detection": None, "input_audio_transcription": None},
        {"turn_detection": {"type": "semantic_vad", "eagerness": "low"}},
        {"input_audio_noise_reduction": {"type": "far_field"}, "tool_choice": "none"},
        {"tools": [], "max_response_output_tokens": "inf", "model": "gpt-4o-realtime-preview"},
    ]
    for config in configs:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            session = build_session(config, dialect)
        assert schema_errors(_session_update(session), dialect, strict=True) == [], config


def test_ga_only_settings_conform_strictly_to_the_ga_schema():
    session = build_session(
        {
            "tracing": "auto",
            "truncation": "auto",
            "include": ["item.input_audio_transcription.logprobs"],
            "prompt": {"id": "pmpt_1"},
            "audio": {
                "output": {"voice": {"id": "voice_1"}, "speed": 1.25},
                "input": {
                    "noise_reduction": None,
                    "turn_detection": {"type": "server_vad", "idle_timeout_ms": 6000},
                },
            },
        }
    )
    assert schema_errors(_session_update(session), "ga", strict=True) == []


@pytest.mark.parametrize(
    ("given", "ga", "beta"),
    [
        ("pcm16", {"type": "audio/pcm", "rate": 24000}, "pcm16"),
        ("g711_ulaw", {"type": "audio/pcmu"}, "g711_ulaw"),
        ("g711_alaw", {"type": "audio/pcma"}, "g711_alaw"),
        ("audio/pcm", {"type": "audio/pcm", "rate": 24000}, "pcm16"),
        ({"type": "audio/pcm"}, {"type": "audio/pcm", "rate": 24000}, "pcm16"),
        ({"type": "audio/pcm", "rate": 24000}, {"type": "audio/pcm", "rate": 24000}, "pcm16"),
        ({"type": "audio/pcmu"}, {"type": "audio/pcmu"}, "g711_ulaw"),
        ("audio/pcma", {"type": "audio/pcma"}, "g711_alaw"),
    ],
)
def test_build_session_converts_audio_formats_both_ways(given, ga, beta):
    assert build_session({"input_audio_format": given})["audio"]["input"]["format"] == ga
    assert build_session({"audio": {"output": {"format": given}}}, "beta") == {
        "output_audio_format": beta
    }


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"input_audio_format": "pcm8"}, r"input_audio_format: unsupported audio format 'pcm8'"),
        ({"output_audio_format": "wav"}, r"allowed: 'pcm16'"),
        (
            {"audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}}},
            r"audio\.input\.format: audio/pcm supports only rate 24000, got 16000",
        ),
        (
            {"audio": {"output": {"format": {"type": "audio/pcmu", "rate": 8000}}}},
            r"audio/pcmu takes no rate",
        ),
        ({"audio": {"output": {"format": {"type": "audio/opus"}}}}, r"unsupported audio format"),
    ],
)
def test_build_session_rejects_bad_formats_saying_which_are_allowed(config, message):
    with pytest.raises(ValueError, match=message):
        build_session(config)


@pytest.mark.parametrize(
    ("config", "suggestion"),
    [
        ({"voise": "alloy"}, "'voice'"),
        ({"input_audio_fromat": "pcm16"}, "'input_audio_format'"),
        ({"max_tokens": 5}, "'max_output_tokens'"),
        ({"audio": {"inptu": {}}}, "'audio.input'"),
        ({"audio": {"output": {"vioce": "ash"}}}, "'audio.output.voice'"),
    ],
)
def test_build_session_rejects_an_unknown_key_suggesting_the_closest(config, suggestion):
    with pytest.raises(ValueError, match="unknown session setting") as info:
        build_session(config)
    assert f"did you mean {suggestion}?" in str(info.value)


def test_build_session_names_an_unknown_key_even_without_a_close_match():
    with pytest.raises(ValueError, match=r"unknown session setting 'zzz'\. Valid keys") as info:
        build_session({"zzz": 1})
    assert "did you mean" not in str(info.value)


def test_build_session_drops_temperature_on_ga_with_a_warning_that_says_why():
    with pytest.warns(UserWarning, match=r"'temperature' does not exist in the GA") as record:
        session = build_session({"temperature": 0.7, "voice": "ash"})
    assert len(record) == 1
    assert session == {"type": "realtime", "audio": {"output": {"voice": "ash"}}}
    assert build_session({"temperature": 0.7}, "beta") == {"temperature": 0.7}


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"tracing": "auto"}, "tracing"),
        ({"truncation": "disabled"}, "truncation"),
        ({"include": ["item.input_audio_transcription.logprobs"]}, "include"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt"),
        ({"audio": {"output": {"speed": 1.2}}}, "audio.output.speed"),
        (
            {"turn_detection": {"type": "server_vad", "idle_timeout_ms": 6000}},
            "audio.input.turn_detection.idle_timeout_ms",
        ),
    ],
)
def test_build_session_drops_ga_only_settings_on_beta_with_a_warning(config, name):
    with pytest.warns(UserWarning, match=f"'{name}' exists only in the GA") as record:
        session = build_session(config, "beta")
    assert len(record) == 1
    assert schema_errors(_session_update(session), "beta", strict=True) == []


@pytest.mark.parametrize(
    ("modalities", "ga"),
    [(["text", "audio"], ["audio"]), (["audio"], ["audio"]), (["text"], ["text"])],
)
def test_build_session_maps_modalities_to_ga_output_modalities(modalities, ga):
    assert build_session({"modalities": modalities})["output_modalities"] == ga
    expected_beta = ["text", "audio"] if "audio" in modalities else ["text"]
    assert build_session({"output_modalities": ga}, "beta") == {"modalities": expected_beta}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"modalities": []}, r"modalities: expected a non-empty list"),
        ({"modalities": ["video"]}, r"'text' / 'audio'"),
        ({"turn_detection": {"type": "push_to_talk"}}, r"turn_detection\.type: 'push_to_talk'"),
        ({"turn_detection": "server_vad"}, r"turn_detection: expected a dict"),
        ({"max_response_output_tokens": 0}, r"from 1 to 4096 or 'inf'"),
        ({"max_output_tokens": "lots"}, r"max_output_tokens: expected an integer"),
        ({"audio": {"output": {"speed": 3}}}, r"0\.25 to 1\.5"),
        ({"input_audio_noise_reduction": {"type": "medium"}}, r"near_field"),
        ({"type": "transcription"}, r"type 'realtime'"),
        ({"tools": [{"type": "function"}]}, r"tools\[0\]: a function tool needs a 'name'"),
        ({"tools": "add"}, r"tools: expected a list"),
        ({"voice": 3}, r"voice: expected a voice name"),
        ({"audio": {"input": "loud"}}, r"audio\.input: expected a dict"),
    ],
)
def test_build_session_rejects_bad_values_saying_what_to_use(config, message):
    with pytest.raises(ValueError, match=message):
        build_session(config)


def test_build_session_rejects_a_custom_voice_for_beta():
    with pytest.raises(ValueError, match="custom voice"):
        build_session({"audio": {"output": {"voice": {"id": "voice_1"}}}}, "beta")


def test_build_session_rejects_a_flat_and_a_ga_key_set_differently():
    with pytest.raises(ValueError, match=r"both 'voice' and 'audio\.output\.voice'"):
        build_session({"voice": "ash", "audio": {"output": {"voice": "sage"}}})
    same = build_session({"voice": "ash", "audio": {"output": {"voice": "ash"}}})
    assert same["audio"]["output"]["voice"] == "ash"


def test_build_session_rejects_non_dict_config_and_unknown_dialect():
    with pytest.raises(TypeError, match="must be a dict"):
        build_session(["voice"])
    with pytest.raises(ValueError, match="unknown dialect"):
        build_session({}, "v2")


def test_build_session_does_not_modify_its_config():
    config = copy.deepcopy(SEED_CONFIG)
    build_session(config)
    build_session(config, "beta")
    assert config == SEED_CONFIG


def test_build_session_flattens_a_chat_completions_style_tool():
    tool = {"type": "function", "function": {"name": "f", "description": "d", "parameters": {}}}
    assert build_session({"tools": [tool]})["tools"] == [
        {"type": "function", "name": "f", "description": "d", "parameters": {}}
    ]


def test_session_to_flat_and_session_to_ga_are_inverse_views():
    assert session_to_flat(GA_SESSION) == SEED_CONFIG
    assert session_to_ga(SEED_CONFIG) == GA_SESSION
    served = {**GA_SESSION, "id": "sess_1", "object": "realtime.session", "tracing": None}
    assert session_to_flat(served) == {**SEED_CONFIG, "id": "sess_1", "object": "realtime.session"}
    assert session_to_flat(None) is None
    assert session_to_ga("x") == "x"


def test_build_session_accepts_a_flat_and_a_ga_key_that_agree_after_conversion():
    session = build_session(
        {
            "input_audio_format": "pcm16",
            "modalities": ["text", "audio"],
            "output_modalities": ["audio"],
            "audio": {"input": {"format": {"type": "audio/pcm"}}},
        }
    )
    assert session["audio"]["input"]["format"] == {"type": "audio/pcm", "rate": 24000}


def test_build_session_drops_ga_only_transcription_settings_on_beta():
    config = {"input_audio_transcription": {"model": "whisper-1", "keywords": ["widget"]}}
    with pytest.warns(UserWarning, match="'audio.input.transcription.keywords' exists only"):
        session = build_session(config, "beta")
    assert session == {"input_audio_transcription": {"model": "whisper-1"}}


def test_build_session_keeps_every_realtime_session_the_sdk_can_send():
    # Issue 12: users may pass any GA setting the installed SDK types; none is refused or lost.
    pytest.importorskip("openai")
    from tests.sdk_models import client_event_params, covering_samples

    sessions = [
        s["session"]
        for s in covering_samples(client_event_params()["session.update"])
        if s["session"]["type"] == "realtime"
    ]
    assert len(sessions) > 10
    for session in sessions:
        assert build_session(session) == session
