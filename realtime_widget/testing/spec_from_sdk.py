"""Regenerate ``spec/openai-realtime-ga.json`` from the installed ``openai`` SDK (DESIGN §6).

The SDK's pydantic models (``openai.types.realtime``) describe the Realtime API as OpenAI serves
it now (they are generated from OpenAI's OpenAPI document). This module turns the models of every
client and server event into the same layout the schema validator reads
(``components.schemas`` of an OpenAPI 3.1 document, one component per event type):

- event components are named ``RealtimeClientEvent<Type>`` / ``RealtimeServerEvent<Type>`` after
  their ``type`` (``response.done`` -> ``RealtimeServerEventResponseDone``);
  other components keep the SDK's class names (module-qualified ones shortened);
- pydantic's ``title``, ``additionalProperties: true`` (the SDK keeps unknown fields) and
  ``default: null`` are dropped, and a single-value ``const`` becomes a one-value ``enum``, as in
  OpenAI's own document;
- ``x-oaiMeta`` of each event (its name and OpenAI's example) is carried over from the previous
  file by event type, so the examples stay OpenAI's and stay independent of the SDK.

``x-source`` records the SDK and pydantic versions. Where the SDK lags what servers send, the fix
belongs in ``schema.SPEC_PATCHES`` (applied on load, each with its reason), not here.

Run ``python -m realtime_widget.testing.spec_from_sdk`` after upgrading ``openai``;
``tests/protocol/test_spec_from_sdk.py`` fails, naming what changed, while the committed file
differs from what the installed SDK gives.
"""

from __future__ import annotations

import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

__all__ = ["SPEC_PATH", "event_component_name", "generate", "main", "render"]

SPEC_PATH = Path(__file__).parent / "spec" / "openai-realtime-ga.json"
"""The file this module writes (the GA schema the validator reads)."""


def event_component_name(side: str, etype: str) -> str:
    """The component name of an event type (``response.done``: ``RealtimeServerEventResponseDone``).

    Args:
        side: ``"client"`` or ``"server"``.
        etype: the event's ``type``.

    Returns:
        The component name (event names never collide across sides).
    """
    words = re.split(r"[._]", etype)
    return f"Realtime{side.capitalize()}Event" + "".join(w[:1].upper() + w[1:] for w in words)


def _union_models(union: Any) -> list[Any]:
    if typing.get_origin(union) is typing.Annotated:
        union = typing.get_args(union)[0]
    return list(typing.get_args(union))


def _event_types(model: Any) -> list[str]:
    return list(typing.get_args(model.model_fields["type"].annotation))


def _short(name: str) -> str:
    # pydantic qualifies colliding names: openai__types__realtime__<module>__<Class>.
    if "__" not in name:
        return name
    parts = name.split("__")
    module, cls = parts[-2], parts[-1]
    return "".join(w[:1].upper() + w[1:] for w in module.split("_")) + cls


def _clean(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_clean(v, renames) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "additionalProperties" and value is True:
            continue
        if key == "default" and value is None:
            continue
        if key == "$ref":
            name = value.rsplit("/", 1)[1]
            out[key] = f"#/components/schemas/{renames.get(name, _short(name))}"
        elif key == "const":
            out["enum"] = [value]
        elif key in ("properties", "$defs"):
            out[key] = {k: _clean(v, renames) for k, v in value.items()}
        else:
            out[key] = _clean(value, renames)
    return out


def _previous_meta(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``x-oaiMeta`` by event type from the file being replaced, and its examples' provenance."""
    if not path.exists():
        return {}, {}
    old = json.loads(path.read_text(encoding="utf-8"))
    metas = {}
    for schema in old.get("components", {}).get("schemas", {}).values():
        meta = schema.get("x-oaiMeta")
        tschema = schema.get("properties", {}).get("type", {})
        for etype in tschema.get("enum") or []:
            if isinstance(meta, dict):
                metas[etype] = meta
    source = old.get("x-source", {})
    examples = source.get("examples") or {
        k: source[k] for k in ("repository", "commit", "path", "license") if k in source
    }
    return metas, examples


def generate(previous: Path | None = SPEC_PATH) -> dict[str, Any]:
    """Build the GA schema document from the installed SDK.

    Args:
        previous: the file whose ``x-oaiMeta`` (names, OpenAI's examples) is carried over, or
            ``None`` for none.

    Returns:
        The document: ``x-source``, ``openapi`` and ``components.schemas``.

    Raises:
        ImportError: the ``openai`` package is not installed.
    """
    import openai
    import pydantic
    from openai.types.realtime import RealtimeClientEvent, RealtimeServerEvent
    from pydantic import TypeAdapter

    sides = {"client": RealtimeClientEvent, "server": RealtimeServerEvent}
    renames: dict[str, str] = {}
    event_types: dict[str, str] = {}
    for side, union in sides.items():
        for model in _union_models(union):
            (etype,) = _event_types(model)
            renames[model.__name__] = event_component_name(side, etype)
            event_types[renames[model.__name__]] = etype
    both = typing.Union[RealtimeClientEvent, RealtimeServerEvent]  # noqa: UP007 - runtime Union
    raw = TypeAdapter(both).json_schema(ref_template="#/components/schemas/{model}")
    metas, examples = _previous_meta(previous) if previous is not None else ({}, {})
    schemas: dict[str, Any] = {}
    for name, schema in sorted(raw["$defs"].items()):
        new = renames.get(name, _short(name))
        if new in schemas:
            raise ValueError(f"two SDK components would both be named {new!r}")
        schemas[new] = _clean(schema, renames)
        if new in event_types:
            etype = event_types[new]
            meta = {**metas.get(etype, {}), "name": etype}
            schemas[new]["x-oaiMeta"] = meta
    schemas = dict(sorted(schemas.items()))
    return {
        "x-source": {
            "repository": "openai/openai-python",
            "package": f"openai=={openai.__version__}",
            "modules": ["openai.types.realtime"],
            "generator": "python -m realtime_widget.testing.spec_from_sdk",
            "pydantic": pydantic.VERSION,
            "dialect": "GA (current) Realtime API event names",
            "license": "Apache License 2.0, Copyright (c) OpenAI (the openai package)",
            "examples": examples,
        },
        "openapi": "3.1.0",
        "components": {"schemas": schemas},
    }


def render(document: dict[str, Any]) -> str:
    """The file's text: stable key order as built, one-space indent, a final newline."""
    return json.dumps(document, indent=1, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write the regenerated schema (``--check``: only report whether it is current).

    Args:
        argv: command-line arguments (``sys.argv[1:]`` by default).

    Returns:
        The exit status: 0, or 1 when ``--check`` finds the file out of date.
    """
    args = sys.argv[1:] if argv is None else argv
    text = render(generate())
    if "--check" in args:
        current = SPEC_PATH.read_text(encoding="utf-8") if SPEC_PATH.exists() else ""
        if current != text:
            print(
                f"{SPEC_PATH} is out of date: run python -m realtime_widget.testing.spec_from_sdk"
            )
            return 1
        return 0
    SPEC_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {SPEC_PATH}")
    return 0


if __name__ == "__main__":  # pragma: no cover - command line
    raise SystemExit(main())
