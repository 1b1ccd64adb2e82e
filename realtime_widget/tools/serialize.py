"""Tool results -> the JSON text sent back to the model as ``function_call_output``.

Notebook tools return whatever is at hand: dicts, dataclasses, pydantic models, numpy arrays,
DataFrames. The model needs text of bounded size, so large objects are summarised (shape, dtype,
columns, first rows) rather than dumped, and the final text is cut at ``max_chars`` with a marker.
numpy and pandas are recognised without importing them (they are only touched when the value is
one of theirs).
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import decimal
import enum
import json
import math
import sys
import uuid
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

__all__ = [
    "DEFAULT_MAX_OUTPUT_CHARS",
    "SerializeLimits",
    "serialize_result",
    "to_jsonable",
    "truncate",
]

DEFAULT_MAX_OUTPUT_CHARS = 16_000
"""Default cap on one output: long enough for a table head, short enough for the context."""


@dataclasses.dataclass(frozen=True)
class SerializeLimits:
    """Size limits applied while converting a result.

    Attributes:
        max_chars: Cap on the final text; longer text is cut with a marker saying so.
        max_array_items: numpy arrays with more elements are summarised (shape, dtype, head).
        head_items: How many leading elements/rows a summary shows.
        max_depth: Nesting deeper than this is replaced by a placeholder.
    """

    max_chars: int = DEFAULT_MAX_OUTPUT_CHARS
    max_array_items: int = 1000
    head_items: int = 10
    max_depth: int = 20


class _Converter:
    """One conversion pass (tracks the objects on the current path to cut cycles)."""

    def __init__(self, limits: SerializeLimits) -> None:
        self.limits = limits
        self._path: set[int] = set()

    def convert(self, value: Any, depth: int = 0) -> Any:
        if value is None or isinstance(value, (bool, int, str)):
            return value
        if isinstance(value, float):
            # NaN/inf are not JSON; the model still deserves to know what came back.
            return value if math.isfinite(value) else str(value)
        if depth > self.limits.max_depth:
            return f"<nested deeper than {self.limits.max_depth} levels>"
        if id(value) in self._path:
            return "<cycle>"
        self._path.add(id(value))
        try:
            return self._convert_container(value, depth + 1)
        finally:
            self._path.discard(id(value))

    def _convert_container(self, value: Any, depth: int) -> Any:
        return _handler_for(value)(self, value, depth)


Handler = Callable[[_Converter, Any, int], Any]


def _key(key: Any) -> str:
    return key if isinstance(key, str) else str(key)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _bytes_summary(data: bytes, limits: SerializeLimits) -> dict[str, Any]:
    head = data[: limits.head_items * 4]
    return {
        "type": "bytes",
        "length": len(data),
        "head_base64": base64.b64encode(head).decode("ascii"),
        "note": "binary data is summarised, not sent",
    }


def _mapping(conv: _Converter, value: Any, depth: int) -> Any:
    return {_key(k): conv.convert(v, depth) for k, v in value.items()}


def _sequence(conv: _Converter, value: Any, depth: int) -> Any:
    return [conv.convert(v, depth) for v in value]


def _dataclass(conv: _Converter, value: Any, depth: int) -> Any:
    return {f.name: conv.convert(getattr(value, f.name), depth) for f in dataclasses.fields(value)}


def _enum(conv: _Converter, value: Any, depth: int) -> Any:
    return conv.convert(value.value, depth)


def _bytes(conv: _Converter, value: Any, depth: int) -> Any:
    return _bytes_summary(bytes(value), conv.limits)


def _iso(conv: _Converter, value: Any, depth: int) -> Any:
    return value.isoformat()


def _seconds(conv: _Converter, value: Any, depth: int) -> Any:
    return value.total_seconds()


def _text(conv: _Converter, value: Any, depth: int) -> Any:
    return str(value)


def _repr(conv: _Converter, value: Any, depth: int) -> Any:
    return {
        "type": type(value).__name__,
        "repr": _short(repr(value), conv.limits.max_chars // 2),
        "note": "not JSON-serialisable; this is its repr()",
    }


def _pydantic(conv: _Converter, value: Any, depth: int) -> Any:
    return conv.convert(value.model_dump(mode="python"), depth)


def _numpy_scalar(conv: _Converter, value: Any, depth: int) -> Any:
    return conv.convert(value.item(), depth)


def _ndarray(conv: _Converter, array: Any, depth: int) -> Any:
    if array.size <= conv.limits.max_array_items:
        return conv.convert(array.tolist(), depth)
    head = array.reshape(-1)[: conv.limits.head_items]
    return {
        "type": "ndarray",
        "shape": list(array.shape),
        "dtype": str(array.dtype),
        "head": conv.convert(head.tolist(), depth),
        "note": f"large array summarised: first {len(head)} of {array.size} elements (flattened)",
    }


def _dataframe(conv: _Converter, frame: Any, depth: int) -> Any:
    rows = len(frame)
    head = frame.head(conv.limits.head_items)
    summary: dict[str, Any] = {
        "type": "DataFrame",
        "shape": list(frame.shape),
        "columns": [_key(c) for c in frame.columns],
        "dtypes": {_key(c): str(t) for c, t in frame.dtypes.items()},
        "head": conv.convert(head.to_dict(orient="records"), depth),
    }
    if rows > len(head):
        summary["note"] = f"first {len(head)} of {rows} rows"
    return summary


def _series(conv: _Converter, series: Any, depth: int) -> Any:
    head = series.head(conv.limits.head_items)
    summary: dict[str, Any] = {
        "type": "Series",
        "name": _key(series.name) if series.name is not None else None,
        "length": len(series),
        "dtype": str(series.dtype),
        "head": conv.convert({_key(k): v for k, v in head.items()}, depth),
    }
    if len(series) > len(head):
        summary["note"] = f"first {len(head)} of {len(series)} values"
    return summary


# Standard types by class, looked up along the value's MRO (so subclasses are covered).
_BY_TYPE: dict[type, Handler] = {
    dict: _mapping,
    list: _sequence,
    tuple: _sequence,
    set: _sequence,
    frozenset: _sequence,
    bytes: _bytes,
    bytearray: _bytes,
    memoryview: _bytes,
    enum.Enum: _enum,
    _dt.datetime: _iso,
    _dt.date: _iso,
    _dt.time: _iso,
    _dt.timedelta: _seconds,
    decimal.Decimal: _text,
    uuid.UUID: _text,
    PurePath: _text,
}

# Third-party types as (module, class, handler), checked only when that module is already
# imported: serialising a plain dict never imports numpy, pandas or pydantic.
_FOREIGN: tuple[tuple[str, str, Handler], ...] = (
    ("pydantic", "BaseModel", _pydantic),
    ("numpy", "generic", _numpy_scalar),
    ("numpy", "ndarray", _ndarray),
    ("pandas", "DataFrame", _dataframe),
    ("pandas", "Series", _series),
)


def _handler_for(value: Any) -> Handler:
    for cls in type(value).__mro__:
        handler = _BY_TYPE.get(cls)
        if handler is not None:
            return handler
    for module_name, class_name, handler in _FOREIGN:
        module = sys.modules.get(module_name)
        if module is not None and isinstance(value, getattr(module, class_name)):
            return handler
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass
    return _repr


def to_jsonable(value: Any, limits: SerializeLimits | None = None) -> Any:
    """Convert a tool result into plain JSON data (dicts, lists, strings, numbers, None).

    Args:
        value: Any Python object.
        limits: Size limits (defaults to :class:`SerializeLimits`).

    Returns:
        A JSON-compatible structure; objects JSON cannot express are summarised or given as
        ``{"type", "repr", "note"}``.
    """
    return _Converter(limits or SerializeLimits()).convert(value)


def truncate(text: str, max_chars: int) -> str:
    """Cut ``text`` to ``max_chars`` characters, ending with a marker that says how much was cut."""
    if len(text) <= max_chars:
        return text
    marker = f"…[truncated: {len(text)} characters in full, first {{n}} shown]"
    keep = max(0, max_chars - len(marker.format(n=max_chars)))
    return text[:keep] + marker.format(n=keep)


def serialize_result(value: Any, limits: SerializeLimits | None = None) -> str:
    """The text to send the model for a tool's return value.

    A ``str`` result is sent as it is (the model reads text better than a quoted JSON string);
    everything else is converted by :func:`to_jsonable` and dumped as compact JSON.

    Args:
        value: The tool's return value.
        limits: Size limits; the text never exceeds ``limits.max_chars``.

    Returns:
        The output string.

    Raises:
        Exception: Whatever the object's own ``repr``/``model_dump``/``tolist`` raised; the
            caller turns it into an ``unserializable_result`` error output.
    """
    limits = limits or SerializeLimits()
    if isinstance(value, str):
        return truncate(value, limits.max_chars)
    data = to_jsonable(value, limits)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return truncate(text, limits.max_chars)
