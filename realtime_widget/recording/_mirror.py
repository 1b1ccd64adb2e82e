"""What the live client did beside its reducer, redone from a recording's client events.

A live ``RealtimeClient`` does three things a replay must repeat to rebuild the same items:

1. it feeds the audio it sends into ``conversation.append_input_audio`` (server-VAD turns are
   sliced from that ring by session time) and, on a manual commit, queues the committed slice
   for the next user item;
2. when a connection ends (a recorded ``close`` / ``reconnecting``) it marks items still in
   progress ``incomplete``, and session time restarts at the next connection;
3. after a reconnect it re-sends the history (``conversation.item.create`` with known ids) and
   ignores the server's echoes of those items.

Pure: no sockets, threads or clocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from realtime_widget.audio import decode_base64
from realtime_widget.protocol import normalize_server_event
from realtime_widget.recording._format import SESSION_BOUNDARIES, Entry

__all__ = ["ClientMirror", "apply_entries", "apply_entry"]

# Server events that (re)announce an item: skipped for items the client re-sent as history.
_ITEM_EVENTS = frozenset(
    {"conversation.item.added", "conversation.item.created", "conversation.item.done"}
)


class ClientMirror:
    """Redoes, from recorded client events, the live client's own bookkeeping (see module doc).

    Args:
        conversation: the ``RealtimeConversation`` being rebuilt.

    Attributes:
        replayed: ids of items re-sent as history after a reconnect; the server's echoes of
            them must not touch the conversation.
    """

    def __init__(self, conversation: Any) -> None:
        self.conversation = conversation
        self.committed = 0
        self.replayed: set[str] = set()

    def new_session(self) -> None:
        """A connection (re)opened: session sample 0 starts again."""
        self.conversation.input_audio.clear()
        self.committed = 0

    def connection_lost(self) -> list[dict[str, Any]]:
        """The connection ended: unfinished items become ``incomplete`` (returned), as live."""
        cut = [i for i in self.conversation.get_items() if i.get("status") == "in_progress"]
        for item in cut:
            item["status"] = "incomplete"
        self.new_session()
        return cut

    def on_client_event(self, event: dict[str, Any]) -> None:
        """Apply one recorded client event (other types are ignored)."""
        handler = _CLIENT_HANDLERS.get(event.get("type", ""))
        if handler is not None:
            handler(self, event)

    def skips(self, event: dict[str, Any]) -> bool:
        """Whether the live client ignored this server event (an echo of re-sent history)."""
        return (
            event.get("type") in _ITEM_EVENTS
            and (event.get("item") or {}).get("id") in self.replayed
        )

    def _on_input_audio_buffer_append(self, event: dict[str, Any]) -> None:
        audio = event.get("audio")
        if isinstance(audio, str) and audio:
            self.conversation.append_input_audio(decode_base64(audio))

    def _on_input_audio_buffer_commit(self, event: dict[str, Any]) -> None:
        ring = self.conversation.input_audio
        self.conversation.queue_input_audio(ring.slice(self.committed, ring.end))
        self.committed = ring.end

    def _on_input_audio_buffer_clear(self, event: dict[str, Any]) -> None:
        self.committed = self.conversation.input_audio.end

    def _on_conversation_item_create(self, event: dict[str, Any]) -> None:
        item_id = (event.get("item") or {}).get("id")
        if item_id and self.conversation.get_item(item_id) is not None:
            self.replayed.add(item_id)


_CLIENT_HANDLERS: dict[str, Callable[[ClientMirror, dict[str, Any]], None]] = {
    "input_audio_buffer.append": ClientMirror._on_input_audio_buffer_append,
    "input_audio_buffer.commit": ClientMirror._on_input_audio_buffer_commit,
    "input_audio_buffer.clear": ClientMirror._on_input_audio_buffer_clear,
    "conversation.item.create": ClientMirror._on_conversation_item_create,
}


def apply_entries(conversation: Any, entries: Iterable[Entry]) -> None:
    """Feed entries into a ``RealtimeConversation`` at once (no pacing)."""
    mirror = ClientMirror(conversation)
    for entry in entries:
        apply_entry(conversation, mirror, entry)


def apply_entry(conversation: Any, mirror: ClientMirror, entry: Entry) -> dict[str, Any]:
    """Feed one entry; returns what the reducer touched (``{}`` otherwise)."""
    if entry.direction == "server":
        event = normalize_server_event(entry.event)
        return {} if mirror.skips(event) else conversation.process_event(event)
    if entry.direction == "client":
        mirror.on_client_event(entry.event)
    elif entry.event.get("type") in SESSION_BOUNDARIES:
        mirror.connection_lost()
    return {}
