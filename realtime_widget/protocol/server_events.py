"""Server events between dialects: ``normalize_server_event`` (beta -> GA) and its inverse.

Rules (DESIGN §6):

- Event names go through the one alias table (``aliases.py``); ``conversation.item.created`` keeps
  its name in GA (GA servers may still send it), and its beta twin of GA ``conversation.item.added``
  is ``conversation.item.created``.
- Assistant content types are renamed wherever items or parts travel: the ``item`` of
  ``conversation.item.*`` and ``response.output_item.*``, ``response.output`` of
  ``response.created/done``, the ``part`` of ``response.content_part.*``.
- Content parts are normalised to ``output_text``/``output_audio`` whichever dialect sent them, so
  the reducer sees one vocabulary. (OpenAI's GA schema and SDK still list ``text``/``audio`` for
  *parts* although GA items say ``output_*``, and live GA servers have been seen sending
  ``output_*`` parts; a GA server of ours may send either, both pass
  ``realtime_widget.testing.schema``.)
- Flat beta ``session`` / ``response`` settings are reshaped to GA nesting, and back.
- Unknown events and malformed payloads come back untouched (the same object); nothing here
  raises, whatever the input: a peer's odd event must never kill a receive loop.
- ``to_beta_server_event`` returns ``None`` for a GA event that has no beta counterpart
  (``conversation.item.done`` and the GA-only events such as ``mcp_list_tools.*``): a server
  speaking beta simply does not send it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime_widget.protocol import _shape
from realtime_widget.protocol.aliases import (
    BETA_TO_GA_CONTENT_TYPES,
    BETA_TO_GA_SERVER_EVENTS,
    GA_TO_BETA_CONTENT_TYPES,
    GA_TO_BETA_SERVER_EVENTS,
)
from realtime_widget.protocol.catalogue import SERVER_EVENTS
from realtime_widget.protocol.items import convert_item, convert_items, convert_part

Event = dict[str, Any]
_Fix = Callable[[Event, dict[str, str]], Event]

# GA fields a beta peer's schema does not have, per GA event type (dropped going to beta).
_GA_ONLY_FIELDS: dict[str, tuple[str, ...]] = {
    "response.function_call_arguments.done": ("name",),
    "conversation.item.input_audio_transcription.completed": ("languages",),
}

# GA events with no beta counterpart: a server speaking beta skips them.
_NO_BETA_TWIN: frozenset[str] = frozenset(
    t for t in SERVER_EVENTS["ga"] - SERVER_EVENTS["beta"] if t not in GA_TO_BETA_SERVER_EVENTS
)


def _fix_item(event: Event, table: dict[str, str]) -> Event:
    item = convert_item(event.get("item"), table)
    return event if item is event.get("item") else {**event, "item": item}


def _fix_part(event: Event, table: dict[str, str]) -> Event:
    part = convert_part(event.get("part"), table)
    return event if part is event.get("part") else {**event, "part": part}


def _reshape_response(response: Any, table: dict[str, str]) -> Any:
    if not isinstance(response, dict):
        return response
    out = response
    output = convert_items(response.get("output"), table)
    if output is not response.get("output"):
        out = {**out, "output": output}
    to_ga = table is BETA_TO_GA_CONTENT_TYPES
    if _shape.needs_reshape(out, _shape.RESPONSE, to_ga):
        out = (_shape.flat_to_nested if to_ga else _shape.nested_to_flat)(out, _shape.RESPONSE)
    return out


def _fix_response(event: Event, table: dict[str, str]) -> Event:
    response = _reshape_response(event.get("response"), table)
    return event if response is event.get("response") else {**event, "response": response}


def _fix_session(event: Event, table: dict[str, str]) -> Event:
    session = event.get("session")
    if not isinstance(session, dict):
        return event
    if session.get("type") not in (None, "realtime"):
        return event  # a transcription session keeps its own shape
    to_ga = table is BETA_TO_GA_CONTENT_TYPES
    if not _shape.needs_reshape(session, _shape.SESSION, to_ga):
        return event
    if to_ga:
        new = _shape.flat_to_nested(session, _shape.SESSION)
        new.setdefault("type", "realtime")
    else:
        new = _shape.nested_to_flat(session, _shape.SESSION)
    return {**event, "session": new}


# Which payload of each event type carries convertible data (dispatch table, STYLE rule 4).
# Keyed by the GA name; beta names reach it through the alias table.
_FIXES: dict[str, _Fix] = {
    "conversation.item.created": _fix_item,
    "conversation.item.added": _fix_item,
    "conversation.item.done": _fix_item,
    "conversation.item.retrieved": _fix_item,
    "response.output_item.added": _fix_item,
    "response.output_item.done": _fix_item,
    "response.content_part.added": _fix_part,
    "response.content_part.done": _fix_part,
    "response.created": _fix_response,
    "response.done": _fix_response,
    "session.created": _fix_session,
    "session.updated": _fix_session,
}


NORMALIZED_SERVER_EVENTS: frozenset[str] = frozenset(BETA_TO_GA_SERVER_EVENTS) | frozenset(_FIXES)
"""Event types :func:`normalize_server_event` may change; any other type comes back as it is
(a reducer's hot path, the audio and text deltas, can skip the call)."""


def normalize_server_event(event: Any) -> Any:
    """Return a server event in GA shape.

    Beta names become GA names, assistant content types ``text``/``audio`` become
    ``output_text``/``output_audio`` (in items, response outputs and content parts) and flat beta
    ``session``/``response`` settings are nested the GA way. GA events, unknown events and anything
    malformed come back as the same object.

    Args:
        event: a decoded server event (any value is accepted).

    Returns:
        The GA event: a new dict when something changed, else ``event`` itself. Never raises.
    """
    if not isinstance(event, dict):
        return event
    etype = event.get("type")
    if not isinstance(etype, str):
        return event
    ga_type = BETA_TO_GA_SERVER_EVENTS.get(etype, etype)
    fix = _FIXES.get(ga_type)
    out = fix(event, BETA_TO_GA_CONTENT_TYPES) if fix else event
    if ga_type != etype:
        out = {**out, "type": ga_type}
    return out


def to_beta_server_event(event: Any) -> Any:
    """Return a GA server event in beta shape, or ``None`` if beta has no such event.

    The inverse of ``normalize_server_event``: GA names become beta names
    (``conversation.item.added`` -> ``conversation.item.created``), assistant content types
    ``output_text``/``output_audio`` become ``text``/``audio``, GA nested ``session`` and
    ``response`` settings are flattened (GA-only settings are left out) and GA-only fields beta's
    schema lacks (e.g. ``name`` of ``response.function_call_arguments.done``) are dropped.

    Args:
        event: a GA server event (any value is accepted).

    Returns:
        The beta event (a new dict when something changed, else ``event`` itself); ``None`` for
        ``conversation.item.done`` and the GA-only events of ``catalogue.GA_ONLY_SERVER_EVENTS``
        that have no beta twin, which a beta peer would not understand: do not send those.
        Unknown event types and malformed input come back untouched. Never raises.
    """
    if not isinstance(event, dict):
        return event
    etype = event.get("type")
    if not isinstance(etype, str):
        return event
    if etype in _NO_BETA_TWIN:
        return None
    fix = _FIXES.get(etype)
    out = fix(event, GA_TO_BETA_CONTENT_TYPES) if fix else event
    drop = [f for f in _GA_ONLY_FIELDS.get(etype, ()) if f in out]
    if drop:
        out = {k: v for k, v in out.items() if k not in drop}
    beta_type = GA_TO_BETA_SERVER_EVENTS.get(etype, etype)
    if beta_type != etype:
        out = {**out, "type": beta_type}
    return out
