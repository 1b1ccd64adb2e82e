"""The embedded server's session: realistic GA defaults, ``session.update`` checks and merge (pure).

The state machine keeps the session in GA shape (beta connections are converted at the edge by
``realtime_widget.protocol``). ``session.update`` is checked against :data:`SESSION_SPEC`, then
merged: nested ``audio`` objects merge key by key (``noise_reduction`` too: an update without
``strength`` keeps it), while ``turn_detection``, ``transcription``, formats, ``voice``,
``tools``, ``tool_choice``, ``truncation``, ``tracing``, ``prompt`` and ``reasoning`` replace the
old value whole, with missing turn-detection fields filled from the defaults, as the real service
answers.

Rules (issue 12): the specs accept every field the installed openai SDK's GA types define
(``tests/server/test_sdk_conformance.py`` walks them), because a config OpenAI accepts must work
offline too. What the local server can simulate, it does (VAD settings, formats, voice, tools and
``tool_choice``, ``parallel_tool_calls``, noise reduction's default ``strength``, tracing that
cannot change once enabled); the rest (``reasoning``, transcription ``languages``/``keywords``/
``delay``, ``truncation``, MCP tools) is accepted, kept and reported in ``session.updated``.
Invalid values are refused with the real service's codes, naming the field.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from realtime_widget.protocol.mcp import MCP_CONNECTORS
from realtime_widget.protocol.session_kinds import TRANSCRIPTION_MODELS
from realtime_widget.server._checks import (
    ClientError,
    check_fields,
    one_of,
    optional,
    tagged,
    typed,
)

__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "ITEM_SPECS",
    "RESPONSE_SPEC",
    "SESSION_SPEC",
    "TRANSCRIPTION_MODELS",
    "check_transcription_model",
    "default_session",
    "merge_session",
    "named_voice",
    "silence_ms_for",
]

DEFAULT_INSTRUCTIONS = (
    "You are the realtime_widget local test server. You answer deterministically; this is not a "
    "language model."
)


_FORMAT_FIELDS = {
    "type": typed(str, enum=("audio/pcm", "audio/pcmu", "audio/pcma")),
    "rate": typed(int, enum=(24000,)),
}


def _FORMAT(value: Any, param: str) -> None:
    check_fields(value, _FORMAT_FIELDS, param, ("type",))
    if "rate" in value and value["type"] != "audio/pcm":
        raise ClientError(
            "unknown_parameter",
            f"Unknown parameter: '{param}.rate': {value['type']} is always 8 kHz.",
            f"{param}.rate",
        )


_SERVER_VAD = {
    "type": typed(str, enum=("server_vad", "semantic_vad")),
    "threshold": typed(float, minimum=0.0, maximum=1.0),
    "prefix_padding_ms": typed(int, minimum=0, maximum=10000),
    "silence_duration_ms": typed(int, minimum=0, maximum=10000),
    "create_response": typed(bool),
    "interrupt_response": typed(bool),
    "idle_timeout_ms": typed(int, minimum=5000, maximum=30000, nullable=True),
    "eagerness": typed(str, enum=("low", "medium", "high", "auto")),
}

_EFFORT = ("minimal", "low", "medium", "high", "xhigh")

# TRANSCRIPTION_MODELS (imported above) are the names the SDK knows: the local server runs its
# own speech-to-text for each, but refuses a name OpenAI would not know (issue 14, bad input).


def check_transcription_model(value: Any, param: str) -> None:
    """Refuse a transcription model OpenAI does not name, listing the supported ones."""
    typed(str)(value, param)
    if value not in TRANSCRIPTION_MODELS:
        supported = ", ".join(f"'{m}'" for m in TRANSCRIPTION_MODELS)
        raise ClientError(
            "invalid_value",
            f"Invalid value: {value[:100]!r} is not a transcription model this server knows. "
            f"Set '{param}' to one of: {supported}.",
            param,
        )


_TRANSCRIPTION = {
    "model": check_transcription_model,
    "language": typed(str),
    # gpt-transcribe / gpt-live-transcribe: candidate languages and vocabulary hints.
    "languages": typed(list, items=typed(str)),
    "keywords": typed(list, items=typed(str)),
    "prompt": typed(str),
    # gpt-realtime-whisper: how long to wait before emitting text.
    "delay": typed(str, enum=_EFFORT),
}

_NOISE_REDUCTION = {
    "type": typed(str, enum=("near_field", "far_field")),
    # "Higher values apply more suppression. Defaults to 1" (the SDK names no maximum).
    "strength": typed(float, minimum=0.0),
}


def _voice(value: Any, param: str) -> None:
    # A built-in voice by name, or a custom voice as {"id": "voice_..."}.
    if isinstance(value, dict):
        check_fields(value, {"id": typed(str)}, param, ("id",))
    else:
        typed(str)(value, param)


def _string_map(value: Any, param: str) -> None:
    typed(dict)(value, param)
    for key, item in value.items():
        typed(str)(item, f"{param}.{key}")


_TOOL_FILTER = {"read_only": typed(bool), "tool_names": typed(list, items=typed(str))}


def _mcp_source(value: Any, param: str) -> None:
    # "One of server_url, connector_id, or tunnel_id must be provided."
    if not any(value.get(key) for key in ("server_url", "connector_id", "tunnel_id")):
        raise ClientError(
            "missing_required_parameter",
            f"Missing required parameter: '{param}.server_url' (an MCP tool needs one of "
            "server_url, connector_id or tunnel_id).",
            f"{param}.server_url",
        )


_MCP_TOOL = {
    "type": typed(str),
    "server_label": typed(str),
    "server_url": typed(str),
    "connector_id": typed(
        str,
        enum=tuple(sorted(MCP_CONNECTORS)),
    ),
    "tunnel_id": typed(str),
    "server_description": typed(str),
    "authorization": typed(str),
    "headers": optional(_string_map),
    "allowed_callers": optional(typed(list, items=typed(str, enum=("direct", "programmatic")))),
    "allowed_tools": optional(one_of(typed(list, items=typed(str)), _TOOL_FILTER)),
    "require_approval": optional(
        one_of(
            typed(str, enum=("always", "never")),
            {"always": _TOOL_FILTER, "never": _TOOL_FILTER},
        )
    ),
    "defer_loading": typed(bool),
}

_FUNCTION_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")


def _function_name(value: Any, param: str) -> None:
    # OpenAI's rule for function names (^[a-zA-Z0-9_-]{1,64}$): a model cannot call a tool whose
    # name holds NULs, bidi overrides or 300 characters, and such a name misleads whoever reads it.
    typed(str)(value, param)
    if not _FUNCTION_NAME.fullmatch(value):
        shown = repr(value) if len(value) <= 64 else f"{value[:40]!r}... ({len(value)} characters)"
        raise ClientError(
            "invalid_value",
            f"Invalid '{param}': {shown} is not a valid function name. Use 1 to 64 letters, "
            "digits, underscores or dashes (^[a-zA-Z0-9_-]{1,64}$), e.g. 'get_weather'.",
            param,
        )


_TOOLS = {
    "function": (
        {
            "type": typed(str),
            "name": _function_name,
            "description": typed(str),
            "parameters": typed(dict),
        },
        ("name",),
    ),
    "mcp": (_MCP_TOOL, ("server_label",)),
}


_TAGGED_TOOL = tagged(_TOOLS)


def _tool(value: Any, param: str) -> None:
    _TAGGED_TOOL(value, param)
    if value["type"] == "mcp":
        _mcp_source(value, param)


_TOOL_CHOICE = one_of(
    typed(str, enum=("auto", "none", "required")),
    tagged(
        {
            "function": ({"type": typed(str), "name": _function_name}, ("name",)),
            "mcp": (
                {
                    "type": typed(str),
                    "server_label": typed(str),
                    "name": typed(str, nullable=True),
                },
                ("server_label",),
            ),
        }
    ),
)

_MAX_TOKENS = one_of(typed(int, minimum=1, maximum=4096), typed(str, enum=("inf",)))

_REASONING = {"effort": typed(str, enum=_EFFORT)}

_TRUNCATION = one_of(
    typed(str, enum=("auto", "disabled")),
    tagged(
        {
            "retention_ratio": (
                {
                    "type": typed(str),
                    "retention_ratio": typed(float, minimum=0.0, maximum=1.0),
                    "token_limits": {"post_instructions": typed(int, minimum=0)},
                },
                ("retention_ratio",),
            )
        }
    ),
)

_TRACING = one_of(
    typed(str, enum=("auto",)),
    {"workflow_name": typed(str), "group_id": typed(str), "metadata": typed(dict)},
)

_PROMPT_FIELDS = {
    "id": typed(str),
    "version": typed(str, nullable=True),
    "variables": optional(typed(dict)),
}


def _prompt(value: Any, param: str) -> None:
    check_fields(value, _PROMPT_FIELDS, param, ("id",))


SESSION_SPEC: dict[str, Any] = {
    "type": typed(str, enum=("realtime",)),
    "object": typed(str, enum=("realtime.session",)),
    "id": typed(str),
    "model": typed(str),
    "instructions": typed(str),
    "output_modalities": typed(list, items=typed(str, enum=("text", "audio"))),
    "audio": {
        "input": {
            "format": _FORMAT,
            "transcription": optional(_TRANSCRIPTION),
            "noise_reduction": optional(
                lambda v, p: check_fields(v, _NOISE_REDUCTION, p, ("type",))
            ),
            "turn_detection": optional(lambda v, p: check_fields(v, _SERVER_VAD, p, ("type",))),
        },
        "output": {
            "format": _FORMAT,
            "voice": _voice,
            "speed": typed(float, minimum=0.25, maximum=1.5),
        },
    },
    "tools": typed(list, items=_tool),
    "tool_choice": _TOOL_CHOICE,
    "max_output_tokens": _MAX_TOKENS,
    "reasoning": optional(_REASONING),
    "tracing": optional(_TRACING),
    "truncation": _TRUNCATION,
    "include": optional(
        typed(list, items=typed(str, enum=("item.input_audio_transcription.logprobs",)))
    ),
    "prompt": optional(_prompt),
    "parallel_tool_calls": typed(bool),
    "expires_at": typed(int),
}
"""What ``session.update`` may carry (GA shape)."""


def _metadata(value: Any, param: str) -> None:
    typed(dict)(value, param)
    if len(value) > 16:
        raise ClientError("invalid_value", f"Invalid '{param}': at most 16 keys.", param)
    for key, item in value.items():
        if not isinstance(item, str) or len(key) > 64 or len(item) > 512:
            raise ClientError(
                "invalid_value",
                f"Invalid '{param}.{key}': metadata maps keys (<= 64 characters) to strings "
                "(<= 512 characters).",
                f"{param}.{key}",
            )


RESPONSE_SPEC: dict[str, Any] = {
    "output_modalities": SESSION_SPEC["output_modalities"],
    "instructions": typed(str),
    "audio": {"output": {"format": _FORMAT, "voice": _voice}},
    "tools": SESSION_SPEC["tools"],
    "tool_choice": _TOOL_CHOICE,
    "max_output_tokens": _MAX_TOKENS,
    "conversation": typed(str, enum=("auto", "none")),
    "metadata": optional(lambda value, param: _metadata(value, param)),
    "prompt": optional(_prompt),
    "parallel_tool_calls": typed(bool),
    "reasoning": _REASONING,
    "input": typed(list, items=typed(dict)),
}
"""What ``response.create``'s ``response`` may carry (GA shape)."""

_CONTENT = {
    "type": typed(
        str,
        enum=("input_text", "input_audio", "input_image", "output_text", "output_audio", "text"),
    ),
    "text": typed(str),
    "audio": typed(str, nullable=True),
    "transcript": typed(str, nullable=True),
    "image_url": typed(str),
    "detail": typed(str, enum=("auto", "low", "high")),
    "id": typed(str),
}
_COMMON = {
    "id": typed(str),
    "object": typed(str, enum=("realtime.item",)),
    "type": typed(str),
    "status": typed(str, enum=("completed", "incomplete", "in_progress")),
}
_MCP_ITEM = {"id": typed(str), "type": typed(str), "server_label": typed(str)}
_MCP_ERROR = tagged(
    {
        kind: ({"type": typed(str), "code": typed(int), "message": typed(str)}, ("message",))
        for kind in ("protocol_error", "http_error")
    }
    | {"tool_execution_error": ({"type": typed(str), "message": typed(str)}, ("message",))}
)
_LISTED_TOOL = {
    "name": typed(str),
    "input_schema": typed(dict),
    "description": typed(str, nullable=True),
    "annotations": optional(typed(dict)),
}
ITEM_SPECS: dict[str, tuple[dict, tuple[str, ...]]] = {
    "message": (
        {
            **_COMMON,
            "role": typed(str, enum=("user", "assistant", "system")),
            "content": typed(list, items=lambda v, p: check_fields(v, _CONTENT, p, ("type",))),
        },
        ("role", "content"),
    ),
    "function_call": (
        {**_COMMON, "call_id": typed(str), "name": typed(str), "arguments": typed(str)},
        ("name", "arguments"),
    ),
    "function_call_output": (
        {**_COMMON, "call_id": typed(str), "output": typed(str)},
        ("call_id", "output"),
    ),
    "item_reference": ({"id": typed(str), "type": typed(str)}, ("id",)),
    # MCP items (history replayed by a client, or the approval it answers with).
    "mcp_list_tools": (
        {
            **_MCP_ITEM,
            "tools": typed(list, items=lambda v, p: check_fields(v, _LISTED_TOOL, p, ("name",))),
        },
        ("server_label", "tools"),
    ),
    "mcp_call": (
        {
            **_MCP_ITEM,
            "name": typed(str),
            "arguments": typed(str),
            "approval_request_id": typed(str, nullable=True),
            "output": typed(str, nullable=True),
            "error": optional(_MCP_ERROR),
        },
        ("server_label", "name", "arguments"),
    ),
    "mcp_approval_request": (
        {**_MCP_ITEM, "name": typed(str), "arguments": typed(str)},
        ("server_label", "name", "arguments"),
    ),
    "mcp_approval_response": (
        {
            "id": typed(str),
            "type": typed(str),
            "approval_request_id": typed(str),
            "approve": typed(bool),
            "reason": typed(str, nullable=True),
        },
        ("approval_request_id", "approve"),
    ),
}
"""Per item type: (field spec, required fields) for ``conversation.item.create``."""

# Content types each role may send (the real service rejects e.g. output_text from a user).
ROLE_CONTENT = {
    "user": {"input_text", "input_audio", "input_image"},
    "system": {"input_text"},
    "assistant": {"output_text", "output_audio"},
}

_SERVER_VAD_DEFAULTS = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 200,  # DESIGN §6: docs say 500, real sessions show 200
    "idle_timeout_ms": None,
    "create_response": True,
    "interrupt_response": True,
}
_SEMANTIC_VAD_DEFAULTS = {
    "type": "semantic_vad",
    "eagerness": "auto",
    "create_response": True,
    "interrupt_response": True,
}


def named_voice(config: dict) -> dict:
    """``config`` (a session or ``response.create`` params) with a custom voice as its id.

    A custom voice is set as ``{"id": "voice_..."}``, but a response reports its voice as a
    string (``RealtimeResponse.audio.output.voice`` in the SDK) and synthesizers take a name.
    """
    voice = config.get("audio", {}).get("output", {}).get("voice")
    if not isinstance(voice, dict):
        return config
    out = copy.deepcopy(config)
    out["audio"]["output"]["voice"] = voice["id"]
    return out


def silence_ms_for(turn_detection: dict) -> int:
    """Silence that ends a turn; ``semantic_vad`` maps its ``eagerness`` to a fixed duration."""
    if turn_detection.get("type") == "semantic_vad":
        # An energy VAD cannot judge meaning: a low eagerness waits longer before answering.
        eagerness = turn_detection.get("eagerness", "auto")
        return {"low": 1500, "medium": 800, "auto": 800, "high": 350}.get(eagerness, 800)
    return int(turn_detection.get("silence_duration_ms", 200))


def default_session(session_id: str, model: str, expires_at: int) -> dict:
    """The session a new connection starts with (what ``session.created`` reports)."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": dict(_SERVER_VAD_DEFAULTS),
            },
            "output": {
                "format": {"type": "audio/pcm", "rate": 24000},
                "voice": "marin",
                "speed": 1.0,
            },
        },
        "include": None,
    }


def _normalize_turn_detection(value: dict | None) -> dict | None:
    if value is None:
        return None
    kind = value.get("type", "server_vad")
    base = _SEMANTIC_VAD_DEFAULTS if kind == "semantic_vad" else _SERVER_VAD_DEFAULTS
    allowed = set(base)
    extra = sorted(set(value) - allowed)
    if extra:
        raise ClientError(
            "unknown_parameter",
            f"Unknown parameter: 'session.audio.input.turn_detection.{extra[0]}' for {kind}.",
            f"session.audio.input.turn_detection.{extra[0]}",
        )
    return {**base, **value, "type": kind}


_WHOLE = {
    ("audio", "input", "format"),
    ("audio", "output", "format"),
    ("audio", "output", "voice"),
    ("audio", "input", "transcription"),
    ("audio", "input", "turn_detection"),
    ("tool_choice",),
    ("truncation",),
    ("tracing",),
    ("prompt",),
    ("reasoning",),
}
# noise_reduction merges key by key: "omitting strength from a session update preserves the
# current strength" (SDK, RealtimeAudioConfigInput).
_NOISE_STRENGTH = 1.0  # "Defaults to 1 when noise reduction is first enabled."


def _merge(into: dict, update: dict, path: tuple[str, ...]) -> None:
    for key, value in update.items():
        here = (*path, key)
        if isinstance(value, dict) and here not in _WHOLE and isinstance(into.get(key), dict):
            _merge(into[key], value, here)
        else:
            into[key] = copy.deepcopy(value)


def merge_session(current: dict, update: Any, *, require_type: bool) -> tuple[dict, dict]:
    """Check a ``session.update``'s session and return the merged session.

    Args:
        current: the effective session (not modified).
        update: the client's ``session`` object (GA shape).
        require_type: GA connections must send ``session.type`` (the real service refuses
            the update otherwise); beta ones cannot.

    Returns:
        ``(session, extras)``: the new effective session, and settings the server honours but
        does not report in the session object (``parallel_tool_calls``).

    Raises:
        ClientError: the first invalid field, with its dotted ``param``.
    """
    check_fields(update, SESSION_SPEC, "session", ("type",) if require_type else ())
    update = copy.deepcopy(update)
    extras = {k: update.pop(k) for k in ("parallel_tool_calls",) if k in update}
    for key in ("id", "object", "expires_at"):
        update.pop(key, None)  # echoed fields from a previous session.created: ignored
    td = update.get("audio", {}).get("input", {})
    if "turn_detection" in td:
        td["turn_detection"] = _normalize_turn_detection(td["turn_detection"])
    if "output_modalities" in update:
        mods = update["output_modalities"]
        if not mods:
            raise ClientError(
                "invalid_value",
                "Invalid 'session.output_modalities': expected ['audio'] or ['text'].",
                "session.output_modalities",
            )
        update["output_modalities"] = ["audio"] if "audio" in mods else ["text"]
    if (
        current.get("tracing") is not None
        and update.get("tracing", current["tracing"]) != (current["tracing"])
    ):
        raise ClientError(
            "invalid_value",
            "Invalid 'session.tracing': once tracing is enabled for a session, its "
            "configuration cannot be modified.",
            "session.tracing",
        )
    merged = copy.deepcopy(current)
    _merge(merged, update, ())
    noise = merged["audio"]["input"].get("noise_reduction")
    if isinstance(noise, dict):
        noise.setdefault("strength", _NOISE_STRENGTH)
    return merged, extras
