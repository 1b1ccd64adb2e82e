"""Server events -> the conversation, then the collaborators that react: the client's router.

Every server event (already GA-named by ``RealtimeAPI``) reaches the ``realtime.event``
listeners and goes through the conversation reducer (``conversation.updated`` for the items it
changed); then the collaborators that react to it run, in the order :data:`_HANDLERS` lists them.
That table is the one place that says what happens on each wire event: ``response.done`` ->
``Route("_on_response_done", "usage", "connection", "requests", "tools")`` means
``usage._on_response_done(event, result)``, then the connection's, the requests', the tools'
(``result`` is what the reducer returned). Each collaborator owns its handlers, named after the
event (STYLE 6); a handler returning True ends the event's route there (an out-of-band
response's ``response.done`` concerns no tools). Events without an entry only reach the reducer
and the listeners. Runs on the runtime loop only.

The router owns no state of its own and does no work of the collaborators': it is handed the
conversation, ``dispatch``, the client's local-error report, the collaborators by the names the
routes use, and three hooks: which item ids were replayed into a new session (their echoes are
not new items), a ``claim`` that sees every ``response.*`` event first (an out-of-band response's
output is only its handle's), and an ``observe`` that sees every event after its route (MCP).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Container, Mapping
from typing import Any

from realtime_widget.conversation import RealtimeConversation

__all__ = ["Route", "ServerEvents"]

logger = logging.getLogger("realtime_widget.client")

Handler = Callable[[dict, dict], "bool | None"]
"""A collaborator's handler: ``(event, reducer result)``; True ends the event's route."""


class Route:
    """The collaborators that react to one wire event, in order, and their handlers' name.

    Args:
        name: the handlers' method name, after the event (``_on_response_done``).
        *owners: the collaborators, by the names :class:`ServerEvents` is handed them under.
    """

    def __init__(self, name: str, *owners: str) -> None:
        self.__name__ = name  # as a handler is named: what the route calls on each owner
        self.owners = owners

    def __repr__(self) -> str:
        return f"Route({self.__name__!r}, {', '.join(map(repr, self.owners))})"


# Shared by two wire names each: the beta alias of item.added, and the two text deltas.
_ITEM_ADDED = Route("_on_conversation_item_added", "outputs", "items")
_TEXT_OUTPUT = Route("_on_response_output", "requests")

_HANDLERS: dict[str, Route] = {
    # the session: the connection's state, held sends, pending settings updates
    "session.created": Route("_on_session_created", "connection", "carryover"),
    "session.updated": Route("_on_session_updated", "connection", "settings"),
    # items: acknowledged tool outputs, appended/completed once each, barge-in bookkeeping
    "conversation.item.added": _ITEM_ADDED,
    "conversation.item.created": _ITEM_ADDED,
    "conversation.item.done": Route("_on_conversation_item_done", "items"),
    "conversation.item.truncated": Route("_on_conversation_item_truncated", "interruption"),
    "conversation.item.deleted": Route("_on_conversation_item_deleted", "interruption"),
    "input_audio_buffer.speech_started": Route(
        "_on_input_audio_buffer_speech_started", "interruption"
    ),
    # responses: handles and sequencing, playback, the audio cap, tools, usage, health
    "response.created": Route("_on_response_created", "requests"),
    "response.output_audio.delta": Route(
        "_on_response_output_audio_delta", "requests", "interruption", "items"
    ),
    "response.output_audio_transcript.delta": _TEXT_OUTPUT,
    "response.output_text.delta": _TEXT_OUTPUT,
    "response.output_item.done": Route(
        "_on_response_output_item_done", "items", "requests", "tools"
    ),
    "response.done": Route("_on_response_done", "usage", "connection", "requests", "tools"),
    "rate_limits.updated": Route("_on_rate_limits_updated", "usage"),
    "error": Route("_on_error", "errors"),
}
"""Server event type -> who reacts, in order; the rest only reach the reducer and listeners."""

OWNERS = frozenset(owner for route in _HANDLERS.values() for owner in route.owners)
"""The collaborator names the routes use (:class:`ServerEvents` is handed each of them)."""

# The seed reduces these without announcing ``conversation.updated`` (their "item", if any, is a
# response's copy or a not-yet-announced speech turn, not a conversation item).
_QUIET = frozenset(
    {
        "response.created",
        "response.done",
        "response.output_item.added",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
    }
)
# Item announcements that a new session echoes for the history the client replayed into it.
_ITEM_EVENTS = frozenset(
    {"conversation.item.added", "conversation.item.created", "conversation.item.done"}
)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class ServerEvents:
    """Routes the transport's events to the conversation and the client's collaborators.

    Args:
        conversation: the reducer every server event goes through.
        dispatch: emits the client's events.
        report: the client's local error (``code``, ``message``), dispatched as ``error``.
        owners: the collaborators by route name (:data:`OWNERS`: all of them; ``None`` for one
            that does not take part, e.g. ``tools`` in relay mode).
        replayed: item ids the client replayed into the current session (a live view).
        claim: sees every ``response.*`` event before the routes; True: routing stops there.
        observe: ``(type, event, result)`` for every routed event, after its route.
        on_client_event: sees every client event as it goes out.

    Raises:
        ValueError: ``owners`` does not name exactly the collaborators the routes use.
        AttributeError: a collaborator lacks a handler its route names.
    """

    def __init__(
        self,
        conversation: RealtimeConversation,
        dispatch: Callable[[str, Any], None],
        report: Callable[[str, str], None],
        *,
        owners: Mapping[str, object | None],
        replayed: Container[str],
        claim: Callable[[str, dict], bool],
        observe: Callable[[str, dict, dict], None],
        on_client_event: Callable[[dict], None],
    ) -> None:
        if set(owners) != OWNERS:
            raise ValueError(
                f"ServerEvents needs the collaborators {sorted(OWNERS)}, got {sorted(owners)}"
            )
        self._conversation = conversation
        self._dispatch = dispatch
        self._report = report
        self._replayed = replayed
        self._claim = claim
        self._observe = observe
        self._on_client_event = on_client_event
        self._routes: dict[str, tuple[Handler, ...]] = {
            kind: tuple(
                getattr(owners[owner], route.__name__)
                for owner in route.owners
                if owners[owner] is not None
            )
            for kind, route in _HANDLERS.items()
        }

    # ------------------------------------------------------------------ routing
    def on_client_event(self, event: dict) -> None:
        """A client event went out (``client.*`` of the transport)."""
        self._on_client_event(event)
        self._dispatch(
            "realtime.event",
            {"type": "realtime.event", "time": _now(), "source": "client", "event": event},
        )

    def on_server_event(self, event: dict) -> None:
        """A server event arrived (``server.*`` of the transport); a malformed one is reported
        and skipped, the session goes on."""
        self._dispatch(
            "realtime.event",
            {"type": "realtime.event", "time": _now(), "source": "server", "event": event},
        )
        kind = event["type"]
        try:
            self._route(kind, event)
        except Exception as exc:  # their fault (a malformed event): report it, keep the session
            logger.warning("< %s: malformed server event ignored (%r)", kind, exc)
            self._report(
                "malformed_event", f"server sent a malformed {kind!r} event, ignored: {exc!r}"
            )

    def _route(self, kind: str, event: dict) -> None:
        result: dict = {}
        item = event.get("item")
        if not (
            kind in _ITEM_EVENTS and isinstance(item, dict) and item.get("id") in self._replayed
        ):
            result = self._conversation.process_event(event)
            if result.get("item") is not None and kind not in _QUIET:
                self._dispatch("conversation.updated", {"type": "conversation.updated", **result})
        if kind.startswith("response.") and self._claim(kind, event):
            return
        for handler in self._routes.get(kind, ()):
            if handler(event, result):
                break
        self._observe(kind, event, result)
