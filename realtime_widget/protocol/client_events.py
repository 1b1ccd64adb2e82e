"""Client events between dialects: ``normalize_client_event`` (beta -> GA) and its inverse.

Client event *names* are the same in both dialects; payloads differ: the flat beta ``session`` of
``session.update`` and ``response`` of ``response.create`` versus GA nesting, and assistant content
types in items (``text`` vs ``output_text``). Lenient and total: the embedded server feeds peers'
events here, so nothing raises and unknown or malformed events come back as the same object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime_widget.protocol import _shape
from realtime_widget.protocol.aliases import BETA_TO_GA_CONTENT_TYPES, GA_TO_BETA_CONTENT_TYPES
from realtime_widget.protocol.items import convert_item, convert_items

Event = dict[str, Any]


def _session_update(event: Event, to_ga: bool) -> Event:
    session = event.get("session")
    if not isinstance(session, dict):
        return event
    if session.get("type") not in (None, "realtime"):
        return event  # a transcription session keeps its own shape
    shape = _shape.SESSION
    if to_ga:
        if not _shape.needs_reshape(session, shape, True) and "type" in session:
            return event
        new = _shape.flat_to_nested(session, shape)
        new.setdefault("type", "realtime")
        return {**event, "session": new}
    tools = session.get("tools")
    mcp = isinstance(tools, list) and any(
        isinstance(t, dict) and t.get("type", "function") != "function" for t in tools
    )
    if not _shape.needs_reshape(session, shape, False) and not mcp:
        return event
    new = _shape.nested_to_flat(session, shape)
    if mcp:
        # Beta knows function tools only (GA adds MCP servers).
        new["tools"] = [t for t in tools if not isinstance(t, dict) or t.get("type") == "function"]
    return {**event, "session": new}


def _item_create(event: Event, to_ga: bool) -> Event:
    table = BETA_TO_GA_CONTENT_TYPES if to_ga else GA_TO_BETA_CONTENT_TYPES
    item = convert_item(event.get("item"), table)
    return event if item is event.get("item") else {**event, "item": item}


def _response_create(event: Event, to_ga: bool) -> Event:
    response = event.get("response")
    if not isinstance(response, dict):
        return event
    table = BETA_TO_GA_CONTENT_TYPES if to_ga else GA_TO_BETA_CONTENT_TYPES
    shape = _shape.RESPONSE_PARAMS
    new = response
    if _shape.needs_reshape(response, shape, to_ga):
        new = (_shape.flat_to_nested if to_ga else _shape.nested_to_flat)(response, shape)
    items = convert_items(new.get("input"), table)
    if items is not new.get("input"):
        new = {**new, "input": items}
    return event if new is response else {**event, "response": new}


# Client event type -> payload conversion (dispatch table); other types need none.
_CONVERT: dict[str, Callable[[Event, bool], Event]] = {
    "session.update": _session_update,
    "conversation.item.create": _item_create,
    "response.create": _response_create,
}


def _convert(event: Any, to_ga: bool) -> Any:
    if not isinstance(event, dict):
        return event
    etype = event.get("type")
    convert = _CONVERT.get(etype) if isinstance(etype, str) else None
    return convert(event, to_ga) if convert else event


def normalize_client_event(event: Any) -> Any:
    """Return a client event in GA shape (the embedded server's view of a beta peer).

    A flat beta ``session.update`` session becomes GA nested (``temperature`` is left out: GA
    has none), a flat ``response.create`` response likewise, and assistant content types
    ``text``/``audio`` in items become ``output_text``/``output_audio``. GA events, unknown events
    and malformed input come back as the same object.

    Args:
        event: a decoded client event (any value is accepted).

    Returns:
        The GA event (a new dict when something changed, else ``event``). Never raises.
    """
    return _convert(event, True)


def to_beta_client_event(event: Any) -> Any:
    """Return a GA client event in beta shape (``RealtimeAPI(dialect="beta")`` sends this).

    The inverse of ``normalize_client_event``: GA nested session/response settings are flattened
    (GA-only ones such as ``tracing`` are left out), non-function tools are dropped and assistant
    content types ``output_text``/``output_audio`` become ``text``/``audio``.

    Args:
        event: a GA client event (any value is accepted).

    Returns:
        The beta event (a new dict when something changed, else ``event``). Never raises.
    """
    return _convert(event, False)
