"""The embedded server's session: realistic GA defaults, ``session.update`` checks and merge (pure).

The state machine keeps the session in GA shape (beta connections are converted at the edge by
``realtime_widget.protocol``). ``session.update`` is checked against :data:`SESSION_SPEC` (the
settings the real service accepts), then merged: nested ``audio`` objects merge key by key, while
``turn_detection``, ``transcription``, formats and ``tools`` replace the old value whole, with
missing turn-detection fields filled from the defaults, as the real service answers.
"""

from __future__ import annotations

import copy
from typing import Any

from realtime_widget.server._checks import ClientError, check_fields, one_of, optional, typed

__all__ = [
    "DEFAULT_INSTRUCTIONS",
    "ITEM_SPECS",
    "RESPONSE_SPEC",
    "SESSION_SPEC",
    "default_session",
    "merge_session",
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

_TOOL = {
    "type": typed(str, enum=("function",)),
    "name": typed(str),
    "description": typed(str),
    "parameters": typed(dict),
}

_TOOL_CHOICE = one_of(
    typed(str, enum=("auto", "none", "required")),
    {"type": typed(str, enum=("function",)), "name": typed(str)},
)

_MAX_TOKENS = one_of(typed(int, minimum=1, maximum=4096), typed(str, enum=("inf",)))

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
            "transcription": optional(
                {"model": typed(str), "language": typed(str), "prompt": typed(str)}
            ),
            "noise_reduction": optional({"type": typed(str, enum=("near_field", "far_field"))}),
            "turn_detection": optional(lambda v, p: check_fields(v, _SERVER_VAD, p, ("type",))),
        },
        "output": {
            "format": _FORMAT,
            "voice": typed(str),
            "speed": typed(float, minimum=0.25, maximum=1.5),
        },
    },
    "tools": typed(list, items=lambda v, p: check_fields(v, _TOOL, p, ("type", "name"))),
    "tool_choice": _TOOL_CHOICE,
    "max_output_tokens": _MAX_TOKENS,
    "tracing": optional(one_of(typed(str, enum=("auto",)), typed(dict))),
    "truncation": one_of(typed(str, enum=("auto", "disabled")), typed(dict)),
    "include": optional(
        typed(list, items=typed(str, enum=("item.input_audio_transcription.logprobs",)))
    ),
    "prompt": optional(typed(dict)),
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
    "audio": {"output": {"format": _FORMAT, "voice": typed(str)}},
    "tools": SESSION_SPEC["tools"],
    "tool_choice": _TOOL_CHOICE,
    "max_output_tokens": _MAX_TOKENS,
    "conversation": typed(str, enum=("auto", "none")),
    "metadata": optional(lambda value, param: _metadata(value, param)),
    "prompt": optional(typed(dict)),
    "parallel_tool_calls": typed(bool),
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
    "type": typed(str, enum=("message", "function_call", "function_call_output", "item_reference")),
    "status": typed(str, enum=("completed", "incomplete", "in_progress")),
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
    "item_reference": ({"id": typed(str), "type": _COMMON["type"]}, ("id",)),
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
    ("audio", "input", "transcription"),
    ("audio", "input", "noise_reduction"),
    ("audio", "input", "turn_detection"),
}


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
    merged = copy.deepcopy(current)
    _merge(merged, update, ())
    return merged, extras
