"""Validate Realtime events against OpenAI's own schemas (test oracle; DESIGN §6).

The schemas live in ``spec/`` with their provenance (``x-source``): the GA one (OpenAPI 3.1
layout) is generated from the installed openai SDK's models by :mod:`.spec_from_sdk`, the beta one
(OpenAPI 3.0) is trimmed from OpenAI's OpenAPI document. OpenAPI is not quite JSON Schema, so each
component is prepared before use:

- the event unions' ``discriminator`` does nothing in JSON Schema, so the schema is picked by the
  event's ``type`` (a map built from each event component's ``type`` enum);
- ``nullable: true`` (3.0) allows ``null``; so does every optional (non-``required``) property,
  since servers send ``null`` for absent optional fields;
- ``oneOf`` becomes ``anyOf``: OpenAPI unions are tagged, and overlapping untagged branches (e.g. a
  realtime vs. a transcription session) would otherwise "match more than one";
- annotations (``x-stainless-const``, ``x-oaiMeta``, ``example``, ...) are ignored;
- ``strict=True`` forbids properties a schema does not list, at every level that lists
  properties: use it for events we build and our server emits; received events are checked
  leniently (a newer server may add fields).

``SPEC_PATCHES`` lists the few places where the published schema lags what servers really send;
each is applied on load and says why.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from realtime_widget.protocol.catalogue import Dialect, check_dialect

SPEC_FILES: dict[Dialect, str] = {
    "ga": "openai-realtime-ga.json",
    "beta": "openai-realtime-beta.json",
}
"""Schema file per dialect, inside ``realtime_widget/testing/spec/``."""

_S = "/components/schemas/"
_ITEM = _S + "RealtimeConversationItem/properties/"
_NULL_OK = {"nullable": True}
SPEC_PATCHES: dict[Dialect, list[tuple[str, str, Any, str]]] = {
    "ga": [
        *(
            (
                _S + f"ResponseContentPart{kind}EventPart/properties/type/anyOf/0/enum",
                "extend",
                ["output_text", "output_audio"],
                "GA servers name assistant content parts output_text/output_audio as in items; "
                "the SDK still lists the beta names",
            )
            for kind in ("Added", "Done")
        ),
        (
            _S + "RealtimeSessionCreateRequest/properties",
            "merge",
            {
                "id": {"type": "string"},
                "object": {"type": "string", "enum": ["realtime.session"]},
                "expires_at": {"type": "integer"},
            },
            "the SDK types session.created/updated's session as the create request; servers "
            "report id, object and expires_at too (the SDK's RealtimeSessionCreateResponse has "
            "them)",
        ),
        (
            _S + "RealtimeTranscriptionSessionCreateRequest/properties",
            "merge",
            {
                "id": {"type": "string"},
                "object": {"type": "string", "enum": ["realtime.transcription_session"]},
                "expires_at": {"type": "integer"},
            },
            "the same for transcription sessions (the SDK's "
            "RealtimeTranscriptionSessionCreateResponse has them)",
        ),
    ],
    "beta": [
        (
            _ITEM + "content/items/properties/type/enum",
            "extend",
            ["audio"],
            "beta servers sent assistant audio content as type 'audio'; the schema omits it",
        ),
        (
            _ITEM + "status/enum",
            "extend",
            ["in_progress"],
            "beta servers announced items with status 'in_progress'",
        ),
        (
            _S + "RealtimeResponse/properties/status/enum",
            "extend",
            ["in_progress"],
            "response.created carries status 'in_progress' (the schema's own example does)",
        ),
        (
            _S + "RealtimeServerEventConversationItemCreated/properties/previous_item_id",
            "merge",
            _NULL_OK,
            "the first item has no predecessor: servers send null",
        ),
        (
            _S + "RealtimeServerEventInputAudioBufferCommitted/properties/previous_item_id",
            "merge",
            _NULL_OK,
            "the first item has no predecessor: servers send null",
        ),
        (
            _S + "RealtimeSession/properties",
            "merge",
            {
                "object": {"type": "string", "enum": ["realtime.session"]},
                "expires_at": {"type": "integer"},
            },
            "session.created/updated carry object and expires_at (the schema's own example does)",
        ),
        *(
            (
                _S + f"{name}/properties/model",
                "set",
                {"type": "string"},
                "the model enum lists only 2024 previews; servers speaking beta (Azure, proxies, "
                "the embedded server) name newer models",
            )
            for name in ("RealtimeSession", "RealtimeSessionCreateRequest")
        ),
        (
            _S + "RealtimeServerEventConversationItemInputAudioTranscriptionCompleted/properties",
            "merge",
            {"usage": {"type": "object"}},
            "later beta servers report transcription usage (the openai SDK's beta model "
            "requires it); this schema snapshot predates it",
        ),
        (
            _S + "RealtimeResponse/properties/usage/properties/input_token_details/properties",
            "merge",
            {"cached_tokens_details": {"type": "object"}},
            "usage reports cached_tokens_details (the schema's own response.done example does)",
        ),
    ],
}
"""Per dialect: (JSON pointer, ``"extend"`` a list / ``"merge"`` into a dict / ``"set"``, value,
why)."""

# Keys whose values are data, not subschemas: never rewrite inside them.
_DATA_KEYS = frozenset({"enum", "const", "default", "example", "examples", "x-oaiMeta"})


class SchemaViolation(ValueError):
    """An event does not match its schema; the message names the event type, path and problem."""


def _jsonschema() -> Any:
    try:
        import jsonschema
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "realtime_widget.testing.schema needs the 'jsonschema' package: "
            "pip install 'realtime_widget[test]' (or pip install jsonschema)"
        ) from exc
    return jsonschema


@functools.cache
def load_spec(dialect: Dialect = "ga") -> dict[str, Any]:
    """Return the schema document of ``dialect`` with ``SPEC_PATCHES`` applied (cached: read only).

    Args:
        dialect: ``"ga"`` or ``"beta"``.

    Returns:
        The parsed OpenAPI document (``x-source`` names its origin and licence).
    """
    dialect = check_dialect(dialect)
    text = resources.files("realtime_widget.testing").joinpath("spec", SPEC_FILES[dialect])
    spec = json.loads(text.read_text(encoding="utf-8"))
    for pointer, op, value, _why in SPEC_PATCHES[dialect]:
        *parents, last = pointer.strip("/").split("/")
        parent = spec
        for part in parents:
            parent = parent[int(part)] if isinstance(parent, list) else parent[part]
        if op == "extend":
            parent[last].extend(v for v in value if v not in parent[last])
        elif op == "merge":
            parent[last].update(value)
        else:
            parent[last] = value
    return spec


@functools.cache
def event_schema_names(dialect: Dialect = "ga") -> dict[str, str]:
    """Map each event ``type`` of ``dialect`` to the name of its schema component.

    Args:
        dialect: ``"ga"`` or ``"beta"``.

    Returns:
        ``{"session.update": "RealtimeClientEventSessionUpdate", ...}`` for client and server
        events alike (their names never overlap).
    """
    names: dict[str, str] = {}
    for name, schema in load_spec(dialect)["components"]["schemas"].items():
        if not name.startswith(("RealtimeClientEvent", "RealtimeServerEvent")):
            continue
        tschema = schema.get("properties", {}).get("type", {})
        for etype in tschema.get("enum") or ([tschema["const"]] if "const" in tschema else []):
            names[etype] = name
    return names


def _or_null(schema: Any) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _prepare(node: Any, strict: bool) -> Any:
    """Rewrite one OpenAPI schema node into plain JSON Schema (see the module docstring)."""
    if isinstance(node, list):
        return [_prepare(v, strict) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DATA_KEYS:
            out[key] = value
        elif key == "properties" and isinstance(value, dict):
            required = set(node.get("required", ()))
            out[key] = {
                name: _prepare(sub, strict) if name in required else _or_null(_prepare(sub, strict))
                for name, sub in value.items()
            }
        elif key == "oneOf":
            out["anyOf" if "anyOf" not in node else "oneOf"] = _prepare(value, strict)
        else:
            out[key] = _prepare(value, strict)
    if strict and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = False
    if out.pop("nullable", False) is True:
        return _or_null(out)
    return out


@functools.cache
def _prepared(dialect: Dialect, strict: bool) -> dict[str, Any]:
    schemas = load_spec(dialect)["components"]["schemas"]
    return {name: _prepare(schema, strict) for name, schema in schemas.items()}


@functools.cache
def _validator(dialect: Dialect, strict: bool, component: str) -> Any:
    root = {
        "$ref": f"#/components/schemas/{component}",
        "components": {"schemas": _prepared(dialect, strict)},
    }
    return _jsonschema().Draft202012Validator(root)


def _branch_score(errors: list[Any]) -> tuple[bool, bool, int]:
    # The branch a reader meant: its JSON type fits, its tag (`type` enum/const) matches, and it
    # has the fewest problems.
    wrong_type = any(e.validator == "type" and not e.relative_path for e in errors)
    wrong_tag = any(
        list(e.relative_path) == ["type"] and e.validator in ("enum", "const") for e in errors
    )
    return (wrong_type, wrong_tag, len(errors))


def _leaves(error: Any) -> list[Any]:
    """The errors worth reading: inside ``anyOf``, those of the branch the event was aiming at."""
    if not error.context:
        return [error]
    branches: dict[Any, list[Any]] = {}
    for sub in error.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    best = min(branches.values(), key=_branch_score)
    return [leaf for sub in best for leaf in _leaves(sub)]


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_path(path: Any) -> str:
    out = "$"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def schema_errors(event: Any, dialect: Dialect = "ga", *, strict: bool = False) -> list[str]:
    """Return readable problems of ``event`` against its schema (empty when it conforms).

    Args:
        event: a decoded client or server event.
        dialect: which schema, ``"ga"`` or ``"beta"``.
        strict: forbid properties the schema does not list (events we build or emit).

    Returns:
        One message per problem: ``"<type> (<dialect>): at <JSON path>: <what is wrong>"``.
    """
    dialect = check_dialect(dialect)
    if not isinstance(event, dict):
        return [f"({dialect}): an event must be a JSON object, got {type(event).__name__}"]
    etype = event.get("type")
    component = event_schema_names(dialect).get(etype) if isinstance(etype, str) else None
    if component is None:
        other = "beta" if dialect == "ga" else "ga"
        hint = (
            f" (it is a {other} event type: convert it first)"
            if isinstance(etype, str) and etype in event_schema_names(other)
            else ""
        )
        return [f"{etype!r} ({dialect}): unknown event type{hint}"]
    mode = f"{dialect}, strict" if strict else dialect
    messages = []
    for error in _validator(dialect, strict, component).iter_errors(event):
        for leaf in _leaves(error):
            where = _json_path(leaf.absolute_path)
            messages.append(f"{etype} ({mode}): at {where}: {_short(leaf.message)}")
    return sorted(set(messages))


def validate_event(event: Any, dialect: Dialect = "ga", *, strict: bool = False) -> None:
    """Raise ``SchemaViolation`` unless ``event`` conforms to the schema of its ``type``.

    Args:
        event: a decoded client or server event.
        dialect: which schema, ``"ga"`` or ``"beta"``.
        strict: forbid properties the schema does not list (events we build or emit).

    Raises:
        SchemaViolation: listing every problem (see ``schema_errors``), including an unknown
            event type.
    """
    errors = schema_errors(event, dialect, strict=strict)
    if errors:
        raise SchemaViolation("; ".join(errors))
