"""Helpers for schema generation: JSON-schema clean-up and the typing.TypedDict shim.

pydantic's JSON schemas carry a ``title`` on every node and put nested models, enums and
TypedDicts under ``$defs``. The Realtime API accepts ``$defs`` inside ``parameters``, but titles are
noise to the model and references make a small schema harder to read, so non-recursive
definitions are inlined and only recursive ones stay under ``parameters["$defs"]``.
"""

from __future__ import annotations

import copy
import sys
import types
import typing
from typing import Any

import typing_extensions

__all__ = ["clean_schema", "pydantic_compatible"]

# Keywords whose value is one sub-schema, a list of them, or a mapping of name -> sub-schema.
_SUBSCHEMA = (
    "items",
    "additionalProperties",
    "not",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
)
_SUBSCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SUBSCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_REF_PREFIX = "#/$defs/"


class _Cleaner:
    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.kept: dict[str, Any] = {}

    def walk(self, node: Any, stack: tuple[str, ...]) -> Any:
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX):
            return self._resolve(ref[len(_REF_PREFIX) :], node, stack)
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "title" and isinstance(value, str):
                continue
            if key in _SUBSCHEMA:
                out[key] = self.walk(value, stack)
            elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
                out[key] = [self.walk(v, stack) for v in value]
            elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
                out[key] = {k: self.walk(v, stack) for k, v in value.items()}
            else:
                out[key] = value
        all_of = out.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            # Older pydantic wraps a described reference as allOf: [ref]; flatten it.
            del out["allOf"]
            out = {**all_of[0], **out}
        return out

    def _resolve(self, name: str, node: dict[str, Any], stack: tuple[str, ...]) -> dict[str, Any]:
        siblings = {k: v for k, v in node.items() if k != "$ref" and k != "title"}
        target = self.defs.get(name)
        if target is None or name in stack:
            # Recursive (or dangling) reference: keep it and keep its definition at top level.
            if target is not None and name not in self.kept:
                self.kept[name] = {}  # placeholder first: the definition may refer to itself
                self.kept[name] = self.walk(target, (name,))
            return {"$ref": _REF_PREFIX + name, **siblings}
        inlined = self.walk(copy.deepcopy(target), (*stack, name))
        return {**inlined, **siblings}


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop ``title`` noise and inline non-recursive ``$defs`` of a pydantic JSON schema.

    Args:
        schema: A JSON schema as produced by ``model_json_schema()``.

    Returns:
        A new schema; recursive definitions remain under a top-level ``$defs``.
    """
    schema = dict(schema)
    defs = schema.pop("$defs", {}) or {}
    cleaner = _Cleaner(defs)
    out = cleaner.walk(schema, ())
    if cleaner.kept:
        out["$defs"] = cleaner.kept
    return out


# --------------------------------------------------------------------------- TypedDict shim
_NEEDS_SHIM = sys.version_info < (3, 12)
_shims: dict[Any, Any] = {}


def _is_typing_typeddict(tp: Any) -> bool:
    return (
        _NEEDS_SHIM
        and isinstance(tp, type)
        and typing.is_typeddict(tp)
        and type(tp).__module__ == "typing"
    )


def _shim_typeddict(tp: Any) -> Any:
    # pydantic refuses typing.TypedDict before Python 3.12 (it needs typing_extensions' version
    # for Required/NotRequired introspection); notebook users write typing.TypedDict, so rebuild
    # the class with typing_extensions rather than make them change their import.
    if tp in _shims:
        return _shims[tp]
    hints = typing.get_type_hints(tp, include_extras=True)
    required = getattr(tp, "__required_keys__", frozenset(hints))
    fields = {
        key: (
            typing_extensions.Required[pydantic_compatible(value)]
            if key in required
            else typing_extensions.NotRequired[pydantic_compatible(value)]
        )
        for key, value in hints.items()
    }
    shim = typing_extensions.TypedDict(tp.__name__, fields)  # type: ignore[operator]
    shim.__doc__ = tp.__doc__
    shim.__module__ = tp.__module__
    shim.__qualname__ = tp.__qualname__
    _shims[tp] = shim
    return shim


def pydantic_compatible(tp: Any) -> Any:
    """Return ``tp`` with every ``typing.TypedDict`` inside it usable by pydantic.

    Args:
        tp: A type annotation (may be generic, a union, ``Annotated``...).

    Returns:
        The same annotation, or an equivalent one with ``typing_extensions.TypedDict`` classes.
    """
    if _is_typing_typeddict(tp):
        return _shim_typeddict(tp)
    if not _NEEDS_SHIM:
        return tp
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is None or not args or origin is typing.Literal:
        return tp
    if origin is typing_extensions.Annotated or origin is typing.Annotated:
        inner = pydantic_compatible(args[0])
        return tp if inner is args[0] else typing_extensions.Annotated[(inner, *args[1:])]
    new_args = tuple(pydantic_compatible(a) for a in args)
    if all(a is b for a, b in zip(new_args, args, strict=True)):
        return tp
    if origin is typing.Union or origin is types.UnionType:
        return typing.Union[new_args]  # noqa: UP007 - built from a tuple at runtime
    try:
        return origin[new_args]
    except TypeError:
        return tp
