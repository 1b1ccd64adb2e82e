"""Field checks for client events, with the real service's error codes and wording (pure).

A check raises :class:`ClientError`; the state machine turns it into an ``error`` event
(``invalid_request_error``, ``code``, ``param``, the client's ``event_id``) and keeps the session
open. Specs are tables: a dict of key -> spec (a nested object, unknown keys rejected) or a
checker function ``(value, param) -> None``.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "ClientError",
    "EventSpecs",
    "check_client_event",
    "check_fields",
    "error_event",
    "is_base64",
    "one_of",
    "optional",
    "tagged",
    "typed",
]


class ClientError(Exception):
    """The client sent something the server refuses (its fault, not ours).

    Attributes:
        code: the error code (``invalid_value``, ``unknown_parameter``, ...).
        message: what is wrong and what to send instead.
        param: the offending field's dotted path, or ``None``.
    """

    def __init__(self, code: str, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.param = code, message, param


def error_event(exc: ClientError, event_id: str | None) -> dict:
    """The ``error`` event refusing a client event (``event_id``: the client's, or ``None``)."""
    error = {
        "type": "invalid_request_error",
        "code": exc.code,
        "message": exc.message,
        "param": exc.param,
        "event_id": event_id,
    }
    return {"type": "error", "error": error}


Checker = Callable[[Any, str], None]

_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    dict: "an object",
    list: "an array",
    type(None): "null",
}


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _is(value: Any, kind: type) -> bool:
    if kind is float:
        # NaN and Infinity are not JSON numbers (Python's json module accepts them anyway).
        return (
            isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        )
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def typed(
    kind: type,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    nullable: bool = False,
    enum: tuple | None = None,
    items: Checker | None = None,
) -> Checker:
    """A checker for one JSON type, with optional range, enum and array item checks."""

    def check(value: Any, param: str) -> None:
        if value is None and nullable:
            return
        if not _is(value, kind):
            raise ClientError(
                "invalid_type",
                f"Invalid type for '{param}': expected {_TYPE_NAMES[kind]}, "
                f"but got {_type_name(value)} instead.",
                param,
            )
        if enum is not None and value not in enum:
            allowed = ", ".join(repr(e) for e in enum)
            raise ClientError(
                "invalid_value",
                f"Invalid value: {value!r}. Supported values are: {allowed}.",
                param,
            )
        word = "integer" if kind is int else "decimal"
        if minimum is not None and value < minimum:
            raise ClientError(
                f"{word}_below_min_value",
                f"Invalid '{param}': {word} below minimum value. Expected a value >= {minimum}, "
                f"but got {value} instead.",
                param,
            )
        if maximum is not None and value > maximum:
            raise ClientError(
                f"{word}_above_max_value",
                f"Invalid '{param}': {word} above maximum value. Expected a value <= {maximum}, "
                f"but got {value} instead.",
                param,
            )
        if items is not None:
            for index, item in enumerate(value):
                items(item, f"{param}[{index}]")

    return check


def optional(spec: Any) -> Checker:
    """Allow ``null`` in front of a spec (a nested dict or a checker)."""

    def check(value: Any, param: str) -> None:
        if value is not None:
            _apply(spec, value, param)

    return check


def one_of(*checkers: Checker) -> Checker:
    """Accept a value any checker accepts; otherwise report the error of the branch meant.

    The branch meant is the first whose JSON type fits the value (an object sent where a string
    or an object is allowed is wrong *inside* the object); the first branch's error otherwise.
    """

    def check(value: Any, param: str) -> None:
        errors: list[ClientError] = []
        for checker in checkers:
            try:
                _apply(checker, value, param)
                return
            except ClientError as exc:
                errors.append(exc)
        fitting = [e for e in errors if not (e.code == "invalid_type" and e.param == param)]
        raise (fitting or errors)[0]

    return check


def tagged(tables: dict[str, tuple[dict, tuple[str, ...]]]) -> Checker:
    """A checker for a tagged union: the object's ``type`` picks its field table.

    Args:
        tables: ``type`` value -> (field spec, required fields); each spec lists ``type`` too.

    Returns:
        A checker that names ``<param>.type`` when the tag is missing or unknown, then checks
        the object against the table of its tag.
    """
    tags = tuple(tables)

    def check(value: Any, param: str) -> None:
        if not isinstance(value, dict):
            check_fields(value, {}, param)  # raises: not an object
        dot = f"{param}." if param else ""
        if "type" not in value:
            raise ClientError(
                "missing_required_parameter",
                f"Missing required parameter: '{dot}type'.",
                f"{dot}type",
            )
        typed(str, enum=tags)(value["type"], f"{dot}type")
        spec, required = tables[value["type"]]
        check_fields(value, spec, param, required)

    return check


def _apply(spec: Any, value: Any, param: str) -> None:
    if isinstance(spec, dict):
        check_fields(value, spec, param)
    else:
        spec(value, param)


def check_fields(obj: Any, spec: dict, param: str, required: tuple[str, ...] = ()) -> None:
    """Check an object against a spec table; unknown keys are ``unknown_parameter`` errors.

    Args:
        obj: the object.
        spec: key -> nested spec dict or checker.
        param: the object's dotted path, prefixed to every field's path (``""`` at the top).
        required: keys that must be present.

    Raises:
        ClientError: the first problem found.
    """
    if not isinstance(obj, dict):
        raise ClientError(
            "invalid_type",
            f"Invalid type for '{param}': expected an object, but got {_type_name(obj)} instead.",
            param or None,
        )
    dot = f"{param}." if param else ""
    for key in required:
        if key not in obj:
            raise ClientError(
                "missing_required_parameter",
                f"Missing required parameter: '{dot}{key}'.",
                f"{dot}{key}",
            )
    for key, value in obj.items():
        if key not in spec:
            raise ClientError(
                "unknown_parameter", f"Unknown parameter: '{dot}{key}'.", f"{dot}{key}"
            )
        _apply(spec[key], value, f"{dot}{key}")


EventSpecs = Mapping[str, tuple[dict, tuple[str, ...]]]
"""Client event type -> (field spec, required fields): the events one session kind accepts."""

_SHOWN_TYPE_CHARS = 100  # an unknown type is echoed in the error, cut: the frame may be MiBs


def check_client_event(event: Any, specs: EventSpecs) -> str:
    """Check a client event's envelope and fields against a session kind's table; return its type.

    Realtime, transcription and translation sessions all answer a frame that is not an object,
    has no ``type`` or an unknown one with the same codes and wording; only the list of the
    supported types differs.

    Args:
        event: the decoded frame.
        specs: the session kind's client events.

    Raises:
        ClientError: not an object (``invalid_type``), no ``type``
            (``missing_required_parameter``), an unknown ``type`` (``invalid_value``, with the
            supported ones), or a missing/unknown/mistyped field.
    """
    if not isinstance(event, dict):
        raise ClientError(
            "invalid_type", "Each client event must be a JSON object with a 'type' field.", None
        )
    if "type" not in event:
        raise ClientError(
            "missing_required_parameter", "Missing required parameter: 'type'.", "type"
        )
    kind = event["type"]
    if not isinstance(kind, str) or kind not in specs:
        shown = repr(kind)
        if len(shown) > _SHOWN_TYPE_CHARS:
            shown = shown[:_SHOWN_TYPE_CHARS] + "..."
        supported = ", ".join(f"'{k}'" for k in specs)
        raise ClientError(
            "invalid_value", f"Invalid value: {shown}. Supported values are: {supported}.", "type"
        )
    spec, required = specs[kind]
    check_fields(event, spec, "", required)
    return kind


def is_base64(value: str) -> bool:
    """True when ``value`` is valid standard base64."""
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True
