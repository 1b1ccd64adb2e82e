"""The openai SDK's Realtime types as a test oracle (DESIGN §6, issue 12 point 3).

The installed ``openai`` package describes what OpenAI serves now, twice: TypedDicts
(``*_param.py``) for what a client may *send*, pydantic models for what a server *emits*. This
module reads both so tests can follow the SDK instead of a hand-written copy of it:

- :func:`client_event_params` / :func:`server_event_models`: event ``type`` -> SDK type, read from
  the SDK's ``RealtimeClientEventParam`` and ``RealtimeServerEvent`` unions;
- :func:`covering_samples`: values of a type that together use every field, every union branch
  and every literal at least once (so a field the SDK adds appears in some sample and a server
  that refuses it fails a test that names the field);
- :func:`sdk_errors`: strict validation of an event against its SDK model; fields the model does
  not declare (pydantic keeps them as extras) are problems too.

Realistic values for fields whose type alone is too loose (an id that must exist, a number with a
range in the docs) come from :data:`FIELD_VALUES`, by field name.
"""

from __future__ import annotations

import base64
import collections.abc
import functools
import types
import typing
from typing import Any

from typing_extensions import NotRequired, Required, is_typeddict

FIELD_VALUES: dict[str, list[Any]] = {
    # Ids the test conversation holds (see tests/server/test_sdk_conformance.py).
    "item_id": ["item_user"],
    "previous_item_id": ["item_user"],
    "call_id": ["call_1"],
    "approval_request_id": ["mcpr_1"],
    "response_id": ["resp_x"],
    "event_id": ["evt_sdk"],
    "id": ["item_new"],
    # The SDK types it `str | "auto" | "none"`, but the service "currently supports auto and none".
    "conversation": ["auto"],
    "language": ["fr"],
    # A str-or-literal union: the server refuses transcription models OpenAI does not name.
    "model": ["gpt-4o-mini-transcribe"],
    "languages": ["fr"],
    "keywords": ["Jupyter"],
    # 100 ms of PCM16 silence at 24 kHz: enough to commit.
    "audio": [base64.b64encode(bytes(4800)).decode()],
    # A whole 1x1 grey PNG: the server reads the header (issue 12), so a bare signature fails.
    "image_url": [
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
    ],
    "arguments": ['{"city": "Paris"}'],
    "output": ['{"ok": true}'],
    "parameters": [{"type": "object", "properties": {}}],
    "metadata": [{"topic": "weather"}],
    "variables": [{"city": "Paris"}],
    "headers": [{"X-Key": "v"}],
    "group_id": ["group"],
    "workflow_name": ["workflow"],
    "server_url": ["http://127.0.0.1:9/mcp"],
    # Numbers whose documented ranges the SDK types do not carry.
    "threshold": [0.5],
    "speed": [1.0],
    "strength": [0.5],
    "retention_ratio": [0.5],
    "prefix_padding_ms": [300],
    "silence_duration_ms": [500],
    "idle_timeout_ms": [6000],
    "max_output_tokens": [100],
    "post_instructions": [1000],
    "content_index": [0],
    "audio_end_ms": [0],
}
"""Realistic values by field name, used instead of the generic value of the field's type."""

_SEQUENCES = (list, collections.abc.Sequence, collections.abc.Iterable)
_GENERIC = {str: "text", int: 1, float: 0.5, bool: True}


def _union_members(union: Any) -> list[Any]:
    if typing.get_origin(union) is typing.Annotated:
        union = typing.get_args(union)[0]
    return list(typing.get_args(union))


@functools.cache
def client_event_params() -> dict[str, Any]:
    """Map each client event ``type`` the SDK can send to its TypedDict (``...EventParam``)."""
    from openai.types.realtime import RealtimeClientEventParam

    out = {}
    for member in _union_members(RealtimeClientEventParam):
        hints = typing.get_type_hints(member)
        for etype in typing.get_args(_strip(hints["type"])):
            out[etype] = member
    return out


@functools.cache
def server_event_models() -> dict[str, Any]:
    """Map each server event ``type`` the SDK defines to its pydantic model."""
    from openai.types.realtime import RealtimeServerEvent

    out = {}
    for member in _union_members(RealtimeServerEvent):
        for etype in typing.get_args(member.model_fields["type"].annotation):
            out[etype] = member
    return out


def _strip(hint: Any) -> Any:
    """Drop ``Required``/``NotRequired``/``Annotated`` wrappers."""
    while typing.get_origin(hint) in (Required, NotRequired, typing.Annotated):
        hint = typing.get_args(hint)[0]
    return hint


def _variants(hint: Any, name: str, depth: int, values: dict[str, list[Any]]) -> list[Any]:
    """Values of ``hint`` that together use every branch, literal and field of it."""
    hint = _strip(hint)
    origin = typing.get_origin(hint)
    if hint is type(None):
        return [None]
    if origin is typing.Literal:
        return list(typing.get_args(hint))
    if origin in (typing.Union, types.UnionType):
        out: list[Any] = []
        for member in typing.get_args(hint):
            if _strip(member) is str and name in values:
                out += values[name]
            else:
                out += _variants(member, name, depth, values)
        return _unique(out)
    if origin in _SEQUENCES or getattr(origin, "__name__", "") == "SequenceNotStr":
        (inner,) = typing.get_args(hint) or (str,)
        return [[value] for value in _variants(inner, name, depth, values)]
    if origin in (dict, collections.abc.Mapping) or hint is dict:
        return values.get(name, [{"key": "value"}])
    if is_typeddict(hint):
        return _typeddict_samples(hint, depth + 1, values)
    if name in values:
        return values[name]
    if hint in _GENERIC:
        return [_GENERIC[hint]]
    if hint is object or hint is Any:
        return [{"key": "value"}]
    raise TypeError(f"no sample for field {name!r} of type {hint!r}: extend tests/sdk_models.py")


def _unique(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for value in values:
        if value not in out:
            out.append(value)
    return out


def _typeddict_samples(td: Any, depth: int, values: dict[str, list[Any]]) -> list[dict]:
    if depth > 12:
        raise RecursionError(f"{td.__name__} nests too deeply")
    hints = typing.get_type_hints(td, include_extras=True)
    fields = {key: _variants(hint, key, depth, values) for key, hint in hints.items()}
    count = max((len(options) for options in fields.values()), default=1)
    return [
        {key: options[index % len(options)] for key, options in fields.items() if options}
        for index in range(count)
    ]


def covering_samples(td: Any, values: dict[str, list[Any]] | None = None) -> list[dict]:
    """Samples of a TypedDict that together use every field, union branch and literal.

    Every sample has every field (optional ones too); sample ``i`` takes the ``i``-th variant of
    each field (cycling), so there are as many samples as the field with the most variants has.

    Args:
        td: an SDK TypedDict, e.g. ``SessionUpdateEventParam``.
        values: realistic values by field name, over :data:`FIELD_VALUES`.

    Returns:
        Plain JSON-ready dicts.

    Raises:
        TypeError: a field of a type this module cannot sample yet (the message names it).
    """
    return _typeddict_samples(td, 0, {**FIELD_VALUES, **(values or {})})


def field_paths(value: Any, prefix: str = "") -> set[str]:
    """Every dotted path in ``value`` (list indices as ``[]``): which fields a sample uses."""
    paths = {prefix} if prefix else set()
    if isinstance(value, dict):
        for key, sub in value.items():
            paths |= field_paths(sub, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for sub in value:
            paths |= field_paths(sub, f"{prefix}[]")
    return paths


SDK_LAGS: dict[tuple[str, str], str] = {
    **{
        (etype, f".session.{key}"): (
            "the SDK types the session of session.created/updated as the create request; "
            "servers report id, object and expires_at too (its RealtimeSessionCreateResponse "
            "has them; schema.SPEC_PATCHES says the same for the JSON schema)"
        )
        for etype in ("session.created", "session.updated")
        for key in ("id", "object", "expires_at")
    },
}
"""(event type, path of a field) the SDK's models lack but servers send: why it is accepted."""


def _extras(model: Any, path: str) -> list[tuple[str, str]]:
    from pydantic import BaseModel

    out = []
    if isinstance(model, BaseModel):
        for key in model.model_extra or {}:
            out.append((f"{path}.{key}", f"not a field of the SDK's {type(model).__name__}"))
        for key in type(model).model_fields:
            out += _extras(getattr(model, key), f"{path}.{key}")
    elif isinstance(model, (list, tuple)):
        for index, sub in enumerate(model):
            out += _extras(sub, f"{path}[{index}]")
    return out


def sdk_errors(event: dict) -> list[str]:
    """Problems of a server event against the SDK's model of its ``type`` (empty when it fits).

    Strict: a field the model does not declare, at any depth, is a problem.

    Args:
        event: a decoded GA server event.

    Returns:
        ``"<type>: <problem>"`` messages.
    """
    from pydantic import ValidationError

    etype = event.get("type")
    model = server_event_models().get(etype)
    if model is None:
        return [f"{etype!r}: the SDK defines no server event of this type"]
    try:
        parsed = model.model_validate(event)
    except ValidationError as exc:
        return [
            f"{etype}: at $.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        ]
    return [
        f"{etype}: at ${path}: {problem}"
        for path, problem in _extras(parsed, "")
        if (etype, path) not in SDK_LAGS
    ]


def extras_of(model: Any) -> list[str]:
    """Fields a parsed SDK model holds that its class does not declare, at any depth.

    For answers the SDK parsed itself (e.g. ``ClientSecretCreateResponse``, translation
    events): ``"<path>: not a field of the SDK's <Model>"`` per extra field.
    """
    return [f"{path}: {problem}" for path, problem in _extras(model, "")]


@functools.cache
def translation_client_event_params() -> dict[str, Any]:
    """Map each translation-session client event ``type`` to the SDK's TypedDict."""
    from openai.types.realtime import RealtimeTranslationClientEventParam

    out = {}
    for member in _union_members(RealtimeTranslationClientEventParam):
        for etype in typing.get_args(_strip(typing.get_type_hints(member)["type"])):
            out[etype] = member
    return out


def translation_sdk_errors(event: dict) -> list[str]:
    """Problems of a translation-session server event against the SDK's models (strict)."""
    from openai.types.realtime import RealtimeTranslationServerEvent
    from pydantic import TypeAdapter, ValidationError

    try:
        parsed = TypeAdapter(RealtimeTranslationServerEvent).validate_python(event)
    except ValidationError as exc:
        return [f"{event.get('type')}: {e['loc']}: {e['msg']}" for e in exc.errors()]
    return [f"{event.get('type')}: {problem}" for problem in extras_of(parsed)]
