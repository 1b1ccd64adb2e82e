"""Flat (beta) <-> nested (GA) reshaping of session-like objects, driven by tables.

Three objects share the beta flat / GA nested split: the session (``session.update``,
``session.created/updated``), the ``response`` of a ``response.create`` and the ``response``
object a server reports. Each gets a ``Shape`` table here; the conversions below read the tables,
so a new setting is one line. All functions are lenient (never raise on peers' data);
``session.py`` adds the strict checks for users' configurations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from realtime_widget.protocol.formats import try_beta_format, try_ga_format

Path = tuple[str, ...]


def _modalities_to_ga(value: Any) -> Any:
    # GA answers with audio *or* text; audio always carries a transcript, so ["text", "audio"]
    # (the beta default) means ["audio"].
    if isinstance(value, (list, tuple)):
        return ["audio"] if "audio" in value else ["text"]
    return value


def _modalities_to_beta(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return ["text", "audio"] if "audio" in value else ["text"]
    return value


def _same(value: Any) -> Any:
    return value


# GA path -> (to GA, to beta) value transforms.
_TRANSFORMS: dict[Path, tuple[Callable[[Any], Any], Callable[[Any], Any]]] = {
    ("output_modalities",): (_modalities_to_ga, _modalities_to_beta),
    ("audio", "input", "format"): (try_ga_format, try_beta_format),
    ("audio", "output", "format"): (try_ga_format, try_beta_format),
}


@dataclass(frozen=True)
class Shape:
    """How one kind of object maps between beta (flat) and GA (nested).

    Attributes:
        renames: beta flat key -> GA path (keys shared unchanged need no entry).
        beta_only: beta keys GA lacks (dropped going to GA).
        ga_only: GA paths beta lacks (dropped going to beta).
    """

    renames: dict[str, Path]
    beta_only: frozenset[str]
    ga_only: frozenset[Path]


SESSION = Shape(
    renames={
        "modalities": ("output_modalities",),
        "voice": ("audio", "output", "voice"),
        "input_audio_format": ("audio", "input", "format"),
        "output_audio_format": ("audio", "output", "format"),
        "input_audio_transcription": ("audio", "input", "transcription"),
        "turn_detection": ("audio", "input", "turn_detection"),
        "input_audio_noise_reduction": ("audio", "input", "noise_reduction"),
        "max_response_output_tokens": ("max_output_tokens",),
    },
    beta_only=frozenset({"temperature"}),
    ga_only=frozenset(
        {
            ("type",),
            ("tracing",),
            ("truncation",),
            ("prompt",),
            ("include",),
            ("parallel_tool_calls",),
            ("reasoning",),
            ("audio", "output", "speed"),
            ("audio", "input", "turn_detection", "idle_timeout_ms"),
            ("audio", "input", "transcription", "languages"),
            ("audio", "input", "transcription", "keywords"),
            ("audio", "input", "transcription", "delay"),
        }
    ),
)
"""The session of ``session.update`` / ``session.created`` / ``session.updated``."""

RESPONSE_PARAMS = Shape(
    renames={
        "modalities": ("output_modalities",),
        "voice": ("audio", "output", "voice"),
        "output_audio_format": ("audio", "output", "format"),
        "max_response_output_tokens": ("max_output_tokens",),
    },
    beta_only=frozenset({"temperature"}),
    ga_only=frozenset({("prompt",), ("parallel_tool_calls",), ("reasoning",)}),
)
"""The ``response`` of a ``response.create``."""

RESPONSE = Shape(
    renames={
        "modalities": ("output_modalities",),
        "voice": ("audio", "output", "voice"),
        "output_audio_format": ("audio", "output", "format"),
    },
    beta_only=frozenset({"temperature"}),
    ga_only=frozenset(),
)
"""The ``response`` object of ``response.created`` / ``response.done``."""


def value_to_ga(path: Path, value: Any) -> Any:
    """The GA form of a beta value stored at GA ``path`` (formats, modalities); lenient."""
    return _TRANSFORMS.get(path, (_same, _same))[0](value)


def needs_reshape(obj: dict[str, Any], shape: Shape, to_ga: bool) -> bool:
    """Whether ``obj`` holds anything the conversion to GA (or to beta) would move or drop."""
    if to_ga:
        return any(k in obj for k in shape.renames) or any(k in obj for k in shape.beta_only)
    nested = {path[0] for path in shape.renames.values()} | {path[0] for path in shape.ga_only}
    return any(k in obj for k in nested)


def get_path(obj: dict[str, Any], path: Path) -> tuple[bool, Any]:
    """Return ``(found, value)`` for a nested path."""
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return False, None
        obj = obj[key]
    return True, obj


def set_path(obj: dict[str, Any], path: Path, value: Any) -> None:
    """Set a nested path, creating (or replacing non-dict) intermediate dicts."""
    for key in path[:-1]:
        nxt = obj.get(key)
        if not isinstance(nxt, dict):
            nxt = obj[key] = {}
        obj = nxt
    obj[path[-1]] = value


def pop_path(obj: dict[str, Any], path: Path) -> tuple[bool, Any]:
    """Remove a nested path; drop intermediate dicts left empty. Returns ``(found, value)``."""
    parents = []
    for key in path[:-1]:
        nxt = obj.get(key) if isinstance(obj, dict) else None
        if not isinstance(nxt, dict):
            return False, None
        parents.append((obj, key))
        obj = nxt
    if not isinstance(obj, dict) or path[-1] not in obj:
        return False, None
    value = obj.pop(path[-1])
    for parent, key in reversed(parents):
        if parent[key]:
            break
        del parent[key]
    return True, value


def deep_copy(obj: Any) -> Any:
    """Copy nested dicts and lists (leaves are shared; they are immutable JSON values)."""
    if isinstance(obj, dict):
        return {k: deep_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [deep_copy(v) for v in obj]
    return obj


def flat_to_nested(obj: dict[str, Any], shape: Shape) -> dict[str, Any]:
    """Reshape a beta flat object to GA: renamed keys move, beta-only keys go, others stay."""
    # Unrenamed keys first, so that a GA nested key given next to flat ones (e.g. `audio` beside
    # `voice`) is the base the renamed values are set into.
    out = {
        k: deep_copy(v)
        for k, v in obj.items()
        if k not in shape.renames and k not in shape.beta_only
    }
    for key, path in shape.renames.items():
        if key in obj:
            to_ga = _TRANSFORMS.get(path, (_same, _same))[0]
            set_path(out, path, to_ga(deep_copy(obj[key])))
    return out


def nested_to_flat(
    obj: dict[str, Any], shape: Shape, on_drop: Callable[[str], None] | None = None
) -> dict[str, Any]:
    """Reshape a GA nested object to beta flat; GA-only settings go (reported to ``on_drop``)."""
    rest = deep_copy(obj)
    for path in sorted(shape.ga_only, key=len, reverse=True):
        found, _ = pop_path(rest, path)
        if found and on_drop is not None and path != ("type",):
            on_drop(".".join(path))
    out: dict[str, Any] = {}
    for key, path in shape.renames.items():
        found, value = pop_path(rest, path)
        if found:
            to_beta = _TRANSFORMS.get(path, (_same, _same))[1]
            out[key] = to_beta(value)
    # Whatever GA nesting is left (e.g. an unknown audio.input key) has no beta place.
    audio = rest.pop("audio", None)
    if audio and on_drop is not None:
        for leaf in _leaves(audio, ("audio",)):
            on_drop(leaf)
    return {**rest, **out}


def _leaves(obj: Any, prefix: Path) -> list[str]:
    if isinstance(obj, dict) and obj:
        return [leaf for k, v in obj.items() for leaf in _leaves(v, (*prefix, str(k)))]
    return [".".join(prefix)]
