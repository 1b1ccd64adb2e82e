"""Users' session configurations -> the ``session`` of a ``session.update``, in either dialect.

``build_session`` accepts the seed client's flat keys (``voice``, ``modalities``,
``input_audio_format``, ``turn_detection``, ...) and the GA nested keys (``audio.input.format``,
``output_modalities``, ...) in one dict, checks them strictly (a user's typo should fail loudly
here, not as a server error later) and emits a GA or beta session. ``session_to_flat`` is the
lenient GA -> flat view the embedded server uses to speak beta.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from realtime_widget.protocol import _shape
from realtime_widget.protocol.catalogue import Dialect, check_dialect
from realtime_widget.protocol.formats import to_ga_format
from realtime_widget.protocol.mcp import check_mcp_tool

_GA_TOP_KEYS = frozenset(
    {
        "type",
        "model",
        "instructions",
        "output_modalities",
        "audio",
        "include",
        "tracing",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "reasoning",
        "max_output_tokens",
        "truncation",
        "prompt",
    }
)
_AUDIO_KEYS: dict[str, frozenset[str]] = {
    "input": frozenset({"format", "transcription", "noise_reduction", "turn_detection"}),
    "output": frozenset({"format", "voice", "speed"}),
}
_FLAT_KEYS = frozenset(_shape.SESSION.renames) | _shape.SESSION.beta_only
VALID_KEYS: frozenset[str] = _GA_TOP_KEYS | _FLAT_KEYS
"""Every top-level key ``build_session`` accepts (flat seed keys and GA keys)."""

_TURN_DETECTION_TYPES = ("server_vad", "semantic_vad")
_NOISE_REDUCTION_TYPES = ("near_field", "far_field")
_MODALITIES = ("text", "audio")


def _suggest(key: str, valid: frozenset[str] | set[str], where: str) -> ValueError:
    close = difflib.get_close_matches(key, sorted(valid), n=1, cutoff=0.5)
    hint = f"; did you mean {where + close[0]!r}?" if close else "."
    return ValueError(
        f"unknown session setting {where + key!r}{hint} Valid keys here: {', '.join(sorted(valid))}"
    )


def _check_modalities(value: Any, where: str) -> list[str]:
    if (
        not isinstance(value, (list, tuple))
        or not value
        or any(v not in _MODALITIES for v in value)
    ):
        raise ValueError(
            f"{where}: expected a non-empty list of 'text' / 'audio', got {value!r} "
            "(e.g. ['audio'] for spoken answers with a transcript, ['text'] for text only)"
        )
    return ["audio"] if "audio" in value else ["text"]


def _check_turn_detection(value: Any, where: str) -> Any:
    if value is None:
        return None  # null turns server VAD off (push-to-talk)
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a dict like {{'type': 'server_vad'}} or None")
    value = dict(value)
    kind = value.setdefault("type", "server_vad")
    if kind not in _TURN_DETECTION_TYPES:
        raise ValueError(f"{where}.type: {kind!r} is not one of {list(_TURN_DETECTION_TYPES)}")
    return value


def _check_noise_reduction(value: Any, where: str) -> Any:
    if isinstance(value, str):
        value = {"type": value}  # shorthand: noise_reduction="far_field"
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in _NOISE_REDUCTION_TYPES:
        raise ValueError(
            f"{where}: expected None or {{'type': t}} with t in {list(_NOISE_REDUCTION_TYPES)}, "
            f"got {value!r}"
        )
    return dict(value)


def _check_transcription(value: Any, where: str) -> Any:
    if value is not None and not isinstance(value, dict):
        raise ValueError(f"{where}: expected None or a dict like {{'model': 'whisper-1'}}")
    return value


def _check_voice(value: Any, where: str) -> Any:
    if isinstance(value, str) or (
        isinstance(value, dict) and set(value) == {"id"} and isinstance(value["id"], str)
    ):
        return value
    raise ValueError(f"{where}: expected a voice name such as 'alloy' or {{'id': 'voice_...'}}")


def _check_speed(value: Any, where: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.25 <= value <= 1.5:
        raise ValueError(f"{where}: expected a number from 0.25 to 1.5, got {value!r}")
    return value


def _check_max_tokens(value: Any, where: str) -> Any:
    if value == "inf" or (
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 4096
    ):
        return value
    raise ValueError(f"{where}: expected an integer from 1 to 4096 or 'inf', got {value!r}")


def _check_type(value: Any, where: str) -> Any:
    if value != "realtime":
        raise ValueError(f"{where}: a conversation session has type 'realtime', got {value!r}")
    return value


def _check_tools(value: Any, where: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise ValueError(f"{where}: expected a list of tool definitions")
    tools = []
    for i, tool in enumerate(value):
        if not isinstance(tool, dict):
            raise ValueError(f"{where}[{i}]: expected a dict, got {type(tool).__name__}")
        if tool.get("type", "function") == "function" and isinstance(tool.get("function"), dict):
            # Chat Completions nest the function; Realtime tools are flat.
            tool = {"type": "function", **tool["function"]}
        tool = {"type": "function", **tool} if "type" not in tool else dict(tool)
        if tool["type"] == "function" and not isinstance(tool.get("name"), str):
            raise ValueError(f"{where}[{i}]: a function tool needs a 'name'")
        if tool["type"] == "mcp":  # the server runs these; checked field by field (issue 12)
            tool = check_mcp_tool(tool, f"{where}[{i}]")
        tools.append(tool)
    return tools


# GA path -> checker (dispatch table). Each returns the cleaned value or raises ValueError.
_CHECKS: dict[_shape.Path, Callable[[Any, str], Any]] = {
    ("type",): _check_type,
    ("output_modalities",): _check_modalities,
    ("max_output_tokens",): _check_max_tokens,
    ("tools",): _check_tools,
    ("audio", "input", "format"): to_ga_format,
    ("audio", "output", "format"): to_ga_format,
    ("audio", "input", "turn_detection"): _check_turn_detection,
    ("audio", "input", "noise_reduction"): _check_noise_reduction,
    ("audio", "input", "transcription"): _check_transcription,
    ("audio", "output", "voice"): _check_voice,
    ("audio", "output", "speed"): _check_speed,
}
_FLAT_NAME = {path: key for key, path in _shape.SESSION.renames.items()}


def _check_audio(audio: Any) -> None:
    if not isinstance(audio, dict):
        raise ValueError("audio: expected a dict like {'input': {...}, 'output': {...}}")
    for side, settings in audio.items():
        if side not in _AUDIO_KEYS:
            raise _suggest(side, set(_AUDIO_KEYS), "audio.")
        if not isinstance(settings, dict):
            raise ValueError(f"audio.{side}: expected a dict")
        for key in settings:
            if key not in _AUDIO_KEYS[side]:
                raise _suggest(key, _AUDIO_KEYS[side], f"audio.{side}.")


def _to_ga(config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check ``config`` and return (GA session, beta-only settings)."""
    for key in config:
        if key not in VALID_KEYS:
            raise _suggest(str(key), VALID_KEYS, "")
    if "audio" in config:
        _check_audio(config["audio"])
    plain, to_ga = dict(config), _shape.value_to_ga
    for key, path in _shape.SESSION.renames.items():
        found, nested = _shape.get_path(plain, path)
        if key in config and found and to_ga(path, nested) != to_ga(path, config[key]):
            raise ValueError(
                f"both {key!r} and {'.'.join(path)!r} are set, to different values; keep one "
                f"({'.'.join(path)!r} is the GA name)"
            )
    if "modalities" in config:
        # Checked before reshaping, which maps any list to ["audio"] or ["text"].
        _check_modalities(config["modalities"], "modalities")
    beta_only = {k: config[k] for k in _shape.SESSION.beta_only if k in config}
    session = _shape.flat_to_nested(dict(config), _shape.SESSION)
    session.setdefault("type", "realtime")
    for path, check in _CHECKS.items():
        found, value = _shape.get_path(session, path)
        if found:
            name = _FLAT_NAME.get(path) if _FLAT_NAME.get(path) in config else ".".join(path)
            _shape.set_path(session, path, check(value, name))
    return session, beta_only


def build_session(config: Mapping[str, Any], dialect: Dialect = "ga") -> dict[str, Any]:
    """Return the ``session`` object of a ``session.update`` for ``dialect``.

    Args:
        config: session settings; the seed's flat keys (``instructions``, ``modalities``,
            ``voice``, ``input_audio_format``, ``output_audio_format``,
            ``input_audio_transcription``, ``input_audio_noise_reduction``, ``turn_detection``,
            ``tools``, ``tool_choice``, ``temperature``, ``max_response_output_tokens``) and GA
            keys (``type``, ``model``, ``output_modalities``, ``audio.input.{format,
            transcription, noise_reduction, turn_detection}``, ``audio.output.{format, voice,
            speed}``, ``max_output_tokens``, ``tracing``, ``truncation``, ``prompt``,
            ``include``, ``parallel_tool_calls``, ``reasoning``) may be mixed. Formats may be
            beta names (``"pcm16"``) or GA objects; ``modalities: ["text", "audio"]`` means GA
            ``output_modalities: ["audio"]`` (audio answers carry a transcript).
        dialect: ``"ga"`` (nested session with ``type: "realtime"``) or ``"beta"`` (flat).

    Returns:
        A new session dict; ``config`` is not modified.

    Raises:
        ValueError: for an unknown key (naming the closest valid one), a bad format or value
            (saying which values are allowed), or a flat and a GA key set to different values.

    Warns:
        UserWarning: for each setting the target dialect lacks (``temperature`` on GA; e.g.
            ``tracing`` or ``audio.output.speed`` on beta); the setting is left out.
    """
    dialect = check_dialect(dialect)
    if not isinstance(config, Mapping):
        raise TypeError(f"session config must be a dict, got {type(config).__name__}")
    session, beta_only = _to_ga(config)
    if dialect == "ga":
        for key in beta_only:
            warnings.warn(
                f"session setting {key!r} does not exist in the GA Realtime API (OpenAI removed "
                "it); it was left out. Remove it, or use dialect='beta' for a legacy server.",
                UserWarning,
                stacklevel=2,
            )
        return session

    def dropped(name: str) -> None:
        warnings.warn(
            f"session setting {name!r} exists only in the GA Realtime API; it was left out of "
            "the beta session (the beta server has no such setting).",
            UserWarning,
            stacklevel=4,
        )

    voice = _shape.get_path(session, ("audio", "output", "voice"))[1]
    if isinstance(voice, dict):
        raise ValueError("voice: a custom voice {'id': ...} needs the GA API; use a voice name")
    return {**_shape.nested_to_flat(session, _shape.SESSION, dropped), **beta_only}


def session_to_flat(session: Any) -> Any:
    """Return a GA session (or a mix) as a seed-style flat (beta) view; lenient, never raises.

    GA-only settings (``tracing``, ``audio.output.speed``, ...) are left out; keys it does not
    know (``id``, ``object``, ``expires_at``, ...) are kept. Non-dicts come back unchanged.

    Args:
        session: a GA ``session`` object, e.g. from ``session.update`` or ``session.created``.

    Returns:
        A new flat dict (or ``session`` itself if it is not a dict).
    """
    if not isinstance(session, dict):
        return session
    return _shape.nested_to_flat(session, _shape.SESSION)


def session_to_ga(session: Any) -> Any:
    """Return a beta flat session (or a mix) in GA nested shape; lenient, never raises.

    Beta-only settings (``temperature``) are left out; unknown keys are kept; ``type`` defaults
    to ``"realtime"``. Non-dicts come back unchanged.

    Args:
        session: a beta ``session`` object.

    Returns:
        A new GA dict (or ``session`` itself if it is not a dict).
    """
    if not isinstance(session, dict):
        return session
    out = _shape.flat_to_nested(session, _shape.SESSION)
    out.setdefault("type", "realtime")
    return out
