"""Client events -> widget state: `ClientEvents`, the listener `WidgetSync` puts on its client.

A collaborator of `WidgetSync`: it owns the client subscriptions and the pending interruption
(the timer waiting for a view's played counts), and changes the view state only through the
`WidgetSync` methods it is handed (`refresh_item`, `forward_audio`, `log_event`, ...). Runs on
the runtime loop like the rest of the widget's kernel side. Handlers keep the client's event
names (`conversation.updated` -> `_on_conversation_updated`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from realtime_widget.widget._items import audio_content_index

if TYPE_CHECKING:
    from realtime_widget.widget._sync import WidgetSync

__all__ = [
    "DEFAULT_INTERRUPT_GUARD_MS",
    "INTERRUPT_REPLY_TIMEOUT",
    "ClientEvents",
    "in_interrupt_guard",
]

INTERRUPT_REPLY_TIMEOUT = 3.0
"""Seconds to wait for a view's final played counts after a `clear` frame. Generous: ipykernel
handles browser messages only between cells (ipykernel issue 646), and truncating at a stale
count would cut what the user heard. With no view attached the wait is skipped."""


DEFAULT_INTERRUPT_GUARD_MS = 300.0
"""Milliseconds after the assistant's audio starts during which server `speech_started` does not
stop playback (DESIGN §4, barge-in tolerance). The first syllables played after a silence are
the echo canceller's hardest moment (its filter re-adapts to a new far-end signal over the first
few hundred ms) and the loudest onset for server VAD; a user really cutting in within 0.3 s of
the answer starting is rare, and the user's own trailing speech there would cut a reply they have
not heard yet. Longer windows make real barge-in feel sluggish; 0 turns the guard off."""


def in_interrupt_guard(now: float, playback_started: float | None, guard_ms: float) -> bool:
    """Whether speech heard at ``now`` (loop seconds) falls in the guard window.

    Args:
        now: the time the interruption arrived.
        playback_started: when the current answer's first audio went to the browser, or None.
        guard_ms: the window's length in milliseconds (0 or less: no guard).
    """
    if playback_started is None or guard_ms <= 0:
        return False
    return 0.0 <= (now - playback_started) * 1000.0 < guard_ms


class ClientEvents:
    """One handler per client event, and the few wire events that change what the widget shows.

    Subscribes on construction; `close` unsubscribes.

    Args:
        sync: the view state to update, through its methods (and its interruption settings:
            `interrupt_guard_ms`, `playback_started`, `views_attached`, `on_interrupt_timeout`).
        client: the bound `RealtimeClient` (listened to; its session config and conversation read).
        loop: the runtime loop (the interruption timer's clock).
    """

    def __init__(self, sync: WidgetSync, client: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.sync = sync
        self.client = client
        self.loop = loop
        self._interrupt_timer: asyncio.TimerHandle | None = None
        self._subscriptions: list[tuple[str, Callable]] = []
        for name, handler in self._client_handlers().items():
            client.on(name, handler)
            self._subscriptions.append((name, handler))
        self._unsubscribe_records = client.tools.on_record(self._on_tool_record)

    def close(self) -> None:
        """Stop listening to the client."""
        for name, handler in self._subscriptions:
            self.client.off(name, handler)
        self._subscriptions.clear()
        self._unsubscribe_records()

    def _client_handlers(self) -> dict[str, Callable[[dict[str, Any]], None]]:
        # Dispatch table: client event -> handler.
        return {
            "conversation.updated": self._on_conversation_updated,
            "conversation.item.appended": self._on_conversation_item_appended,
            "conversation.item.completed": self._on_conversation_item_completed,
            "conversation.interrupted": self._on_conversation_interrupted,
            "realtime.event": self._on_realtime_event,
            "usage.updated": self._on_usage_updated,
            "error": self._on_error,
            "close": self._on_close,
            "reconnecting": self._on_reconnecting,
            "reconnected": self._on_reconnected,
        }

    def _on_conversation_updated(self, event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        delta = event.get("delta") or {}
        audio = delta.get("audio") if isinstance(delta, dict) else None
        if audio is not None and item.get("role") == "assistant" and len(audio):
            self.sync.forward_audio(item, audio)
        self.sync.refresh_item(item)

    def _on_conversation_item_appended(self, event: dict[str, Any]) -> None:
        self.sync.refresh_item(event.get("item") or {})

    def _on_conversation_item_completed(self, event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        item_id = item.get("id")
        if item_id and item.get("type") == "message":
            audio = (item.get("formatted") or {}).get("audio")
            if audio is not None and len(audio):
                # Once per item: the exact count (user turns' audio arrives in one piece).
                self.sync.count_audio(item_id, len(audio))
            if item.get("role") == "assistant":
                self.sync.end_audio(item_id, audio_content_index(item))
        self.sync.refresh_item(item)

    def _on_conversation_interrupted(self, event: dict[str, Any]) -> None:
        # Server VAD heard the user: stop the player now; the browser answers `interrupted`
        # with what it really played and the truncate is sent from that (inbound side).
        if event.get("source") != "client" and self._interrupts_on_speech():
            sync = self.sync
            if in_interrupt_guard(self.loop.time(), sync.playback_started, sync.interrupt_guard_ms):
                # Likely echo of the answer's first syllables: keep playing. The browser plays
                # out what it received, so no truncate is needed; the log says what happened.
                ignored = {"type": "widget.interrupt_ignored", "guard_ms": sync.interrupt_guard_ms}
                sync.log_event("=", ignored, saved=False)
                sync.schedule()
                return
            sync.clear_playback()
            if self._interrupt_timer is not None:
                self._interrupt_timer.cancel()
            # A view answers with what it really played; without one (or if it never answers),
            # truncate at the last reports.
            wait = INTERRUPT_REPLY_TIMEOUT if sync.views_attached else 0.0
            self._interrupt_timer = self.loop.call_later(wait, self._no_reply)

    def _interrupts_on_speech(self) -> bool:
        # `interrupt_response: false` (DESIGN §4, barge-in tolerance): the model keeps talking
        # over the user, so the player must too.
        audio = self.client.session_config.get("audio") or {}
        detection = (audio.get("input") or {}).get("turn_detection") or {}
        return detection.get("interrupt_response", True) is not False

    def interrupt_answered(self) -> None:
        """A view answered the clear frame with its final played counts."""
        if self._interrupt_timer is not None:
            self._interrupt_timer.cancel()
            self._interrupt_timer = None

    def _no_reply(self) -> None:
        self._interrupt_timer = None
        if self.sync.on_interrupt_timeout is not None:
            self.sync.on_interrupt_timeout()

    def _on_realtime_event(self, event: dict[str, Any]) -> None:
        wire = event.get("event") or {}
        direction = "<" if event.get("source") == "server" else ">"
        self.sync.log_event(direction, wire)
        handler = _WIRE_HANDLERS.get((direction, wire.get("type")))
        if handler is not None:
            handler(self, wire)
        self.sync.schedule()

    def _on_truncate_sent(self, wire: dict[str, Any]) -> None:
        self.sync.note_truncate(
            wire.get("item_id") or "", wire.get("content_index", 0), wire.get("audio_end_ms", 0)
        )

    def _on_output_audio_done(self, wire: dict[str, Any]) -> None:
        item_id = wire.get("item_id") or ""
        if self.client.conversation.get_item(item_id) is None:
            return  # an out-of-band response's item: never in the conversation, never played
        self.sync.end_audio(item_id, wire.get("content_index", 0))

    def _on_response_boundary(self, wire: dict[str, Any]) -> None:
        self.sync.mark("response_active")

    def _on_item_deleted(self, wire: dict[str, Any]) -> None:
        self.sync.remove_item(wire.get("item_id") or "")

    def _on_usage_updated(self, event: dict[str, Any]) -> None:
        self.sync.mark("usage")

    def _on_error(self, event: dict[str, Any]) -> None:
        error = event.get("error") or {}
        source = {"local": "kernel", "mcp": "mcp"}.get(event.get("source") or "", "server")
        if error.get("code") in _CONNECTION_ERRORS:
            source = "connection"
        self.sync.add_error(
            source, error.get("code") or error.get("type") or "", str(error.get("message") or "")
        )

    def _on_close(self, event: dict[str, Any]) -> None:
        if event.get("error"):
            reason = event.get("reason") or "the connection dropped"
            self.sync.add_error(
                "connection", str(event.get("code") or "closed"), f"Connection closed: {reason}"
            )
        self.sync.set_status("error" if event.get("error") else "disconnected")
        self.sync.clear_playback()
        self.sync.refresh_snapshot()  # the saved copy is refreshed on disconnect

    # A quick reconnect is over before the rate-limited `status` trait shows it: an `errors`
    # entry keeps it visible after the fact (start and end; a failure is the client's own
    # `reconnect_failed` error, shown with source "connection" too).
    def _on_reconnecting(self, event: dict[str, Any]) -> None:
        self.sync.set_status("reconnecting")
        if event.get("attempt", 1) == 1:
            why = " ".join(str(x) for x in (event.get("code"), event.get("reason")) if x)
            self.sync.add_error(
                "connection",
                "reconnecting",
                f"The connection dropped{f' ({why})' if why else ''}; reconnecting. Messages "
                "sent meanwhile are held and sent once the session is back.",
            )

    def _on_reconnected(self, event: dict[str, Any]) -> None:
        self.sync.set_status("connected")
        attempts = event.get("attempt", 1)
        self.sync.add_error(
            "connection",
            "reconnected",
            f"The connection dropped and was re-established after {attempts} attempt"
            f"{'s' if attempts != 1 else ''}: a new session, with the conversation history "
            f"({event.get('replayed_items', 0)} items) replayed into it; audio that was "
            "playing or being spoken at the drop is lost.",
        )

    def _on_tool_record(self, record: Any) -> None:
        # Registry listeners may fire on a worker thread: hop to the loop.
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self.sync.apply_tool_record(record)
        else:
            self.loop.call_soon_threadsafe(self.sync.apply_tool_record, record)


_CONNECTION_ERRORS = frozenset({"reconnect_failed"})
"""Client error codes about the connection itself (shown with source "connection")."""

# (direction, wire type) -> handler, for the few events that change what the widget shows.
_WIRE_HANDLERS: dict[tuple[str, str], Callable[[Any, dict[str, Any]], None]] = {
    (">", "conversation.item.truncate"): ClientEvents._on_truncate_sent,
    ("<", "response.output_audio.done"): ClientEvents._on_output_audio_done,
    ("<", "response.created"): ClientEvents._on_response_boundary,
    ("<", "response.done"): ClientEvents._on_response_boundary,
    ("<", "conversation.item.deleted"): ClientEvents._on_item_deleted,
}
