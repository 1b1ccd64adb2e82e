"""``RealtimeConversation``: the pure reducer from server events to conversation items.

One server event in, what it touched out (``{"item": ..., "delta": ..., "response": ...}``), the
same contract as the seed's ``RealtimeConversation.processEvent``. It works in GA event names and
content types; a beta event fed directly (seed code calling ``process_event`` with
``response.audio.delta``, assistant content ``audio``) is normalised on the way in by
``protocol.normalize_server_event``, the one alias table, exactly as ``RealtimeAPI`` does for a
beta server (issue 12), so no beta name is spelled here and the result is the same either way.

Rules (each is tested; "seed" is npm ``openai-realtime-api`` 1.0.8, the differential oracle):

1. Items keep their wire fields (a deep copy of the announced item) plus ``formatted``: ``text``,
   ``transcript``, ``audio`` (int16) and ``tool`` / ``output`` where they apply; a message with
   ``input_image`` parts also has ``images`` (``[{"image_url", "detail"}]``; not in the seed).
2. ``conversation.item.added`` and ``conversation.item.created`` announce an item; a second
   announcement of a known id changes nothing. ``conversation.item.done`` / ``.retrieved`` update
   the wire fields of a known item (and announce an unknown one).
3. Status on announcement, as the seed: a user message and a function call output are
   ``completed``; an assistant message and a function call are ``in_progress`` until
   ``response.output_item.done`` / ``conversation.item.done`` -- except that a final status the
   server already reports (a history item created by the client) is kept; the seed forces those
   to ``in_progress`` forever.
4. Unknown event types and events naming an unknown item or response never raise: they return
   ``{}`` (a debug log line). The seed throws on an unknown event type and drops deltas for
   unknown items; we drop them too (a delta before its item is lost, as in the seed).
5. Input audio of a VAD turn: ``speech_started``/``speech_stopped`` give session times; on
   ``speech_stopped`` the slice is cut from ``input_audio`` when given (an int16 array indexed
   from session start, the seed's contract) or else from the bounded ``InputAudioRing`` fed by
   ``append_input_audio``. It becomes the user item's audio when that item is announced.
   ``queue_input_audio`` (push-to-talk) wins over it for the next user message, as in the seed.
6. Input transcription ``.delta`` accumulates into ``formatted.transcript``; ``.completed``
   replaces it (``" "`` when empty, as the seed); either arriving before the item is queued and
   applied when the item is announced. ``.failed`` drops the partial transcript; ``.segment``
   changes nothing (``.completed`` carries the whole text).
7. ``conversation.item.truncated`` cuts the audio at ``audio_end_ms`` and clears the transcript
   (seed); ``conversation.item.deleted`` removes the item.
8. Audio deltas are decoded once and appended in O(1) (``FormattedItem``); the seed re-copies the
   whole array per delta. Pending speech/transcript entries for items that never appear are
   bounded (oldest dropped), so nothing grows for the whole session.
9. ``response.created`` / ``response.done`` keep response objects (``done`` updates status and
   usage); ``response.output_item.added`` appends to the response's ``output``.
10. ``response.output_audio_transcript.done`` / ``response.output_text.done`` carry the part's
    whole text: when deltas were lost (a corrupt frame the API dropped) they repair the part and
    ``formatted``; otherwise they change nothing. The seed ignores them.
11. Input audio for VAD slicing is kept for ``input_audio_seconds`` (default 300 s, 14.4 MB at
    24 kHz) by ``append_input_audio``; older audio is forgotten (the seed client keeps the whole
    session and re-copies it on every append).
12. MCP items (``mcp_list_tools``, ``mcp_call``, ``mcp_approval_request`` / ``_response``) and
    their events: ``_mcp.py`` has the rules (a ``formatted["mcp"]`` summary, a display status,
    streamed arguments, a request marked with its decision).

The conversation owns the items and responses; three collaborators, each handed the items by id,
own the rest: ``InputEvents`` (``_input.py``: what waits for a user item, rules 5 and 6),
``DeltaEvents`` (``_deltas.py``: the hot path, rules 8 and 10) and ``McpEvents`` (``_mcp.py``).
``_HANDLERS`` below is the one dispatch table; each conversation binds it to its collaborators.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_widget.conversation._audio import FormattedItem
from realtime_widget.conversation._deltas import DeltaEvents
from realtime_widget.conversation._input import InputAudioRing, InputEvents
from realtime_widget.conversation._mcp import McpEvents
from realtime_widget.protocol import (
    MCP_ITEM_TYPES,
    NORMALIZED_SERVER_EVENTS,
    normalize_server_event,
)

__all__ = ["FormattedItem", "InputAudioRing", "RealtimeConversation"]

logger = logging.getLogger(__name__)

DEFAULT_INPUT_AUDIO_SECONDS = 300.0
"""Input audio kept for VAD turns: five minutes (14.4 MB at 24 kHz), far above any one turn."""

_TEXT_TYPES = frozenset({"input_text", "output_text", "text"})
_FINAL_STATUSES = frozenset({"completed", "incomplete"})

Result = dict[str, Any]
Handler = Callable[[dict[str, Any], Any], Result]
"""A bound handler: ``(event, input_audio) -> result``."""


def _clone(value: Any) -> Any:
    """Deep copy of JSON-shaped data (dicts, lists, scalars); much cheaper than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone(v) for v in value]
    return value


def _format_images(item: dict[str, Any], formatted: dict[str, Any]) -> None:
    """``formatted["images"]``: the item's ``input_image`` parts (data URL and detail), if any.

    The strings are shared with the item's content, not copied.
    """
    images = [
        {"image_url": part.get("image_url"), "detail": part.get("detail")}
        for part in item.get("content") or ()
        if isinstance(part, dict) and part.get("type") == "input_image"
    ]
    if images:
        formatted["images"] = images


class RealtimeConversation:
    """Conversation state built from server events (pure: no I/O, no clock, no threads).

    Args:
        frequency: sample rate of the audio, used to turn ``*_ms`` into sample indices.
        input_audio_seconds: how much input audio ``append_input_audio`` keeps for VAD turns.

    Example:
        >>> conversation = RealtimeConversation()
        >>> conversation.process_event({"type": "conversation.item.added", "item": {
        ...     "id": "item_1", "type": "message", "role": "user",
        ...     "content": [{"type": "input_text", "text": "hi"}]}})["item"]["formatted"]["text"]
        'hi'
    """

    def __init__(
        self, frequency: int = 24000, *, input_audio_seconds: float = DEFAULT_INPUT_AUDIO_SECONDS
    ) -> None:
        if not frequency or frequency <= 0:
            raise ValueError(f"frequency must be a positive sample rate in Hz, got {frequency!r}")
        self.frequency = int(frequency)
        self.input_audio = InputAudioRing(max(1, int(input_audio_seconds * self.frequency)))
        self._items: list[dict[str, Any]] = []
        # Shared with the collaborators, so cleared in place, never replaced.
        self._item_lookup: dict[str, dict[str, Any]] = {}
        self._responses: list[dict[str, Any]] = []
        self._response_lookup: dict[str, dict[str, Any]] = {}
        self._input = InputEvents(self._item_lookup, self.input_audio, self.frequency)
        self._deltas = DeltaEvents(self._item_lookup)
        self._mcp = McpEvents(self._item_lookup)
        owners = {None: self, "input": self._input, "deltas": self._deltas, "mcp": self._mcp}
        self._handlers: dict[str, Handler] = {
            kind: handler.__get__(owners[owner]) for kind, (owner, handler) in _HANDLERS.items()
        }

    def clear(self) -> None:
        """Forget every item, response and queued audio/transcript (session time restarts)."""
        self._items = []
        self._item_lookup.clear()
        self._responses = []
        self._response_lookup.clear()
        self._input.clear()
        self.input_audio.clear()

    # -- public API --------------------------------------------------------------------------

    def queue_input_audio(self, samples: Any) -> None:
        """Audio for the next user message item (push-to-talk / manual commit), as the seed.

        Args:
            samples: int16 array (or PCM16 bytes) of the turn just committed.
        """
        if isinstance(samples, (bytes, bytearray, memoryview)):
            samples = np.frombuffer(samples, dtype="<i2")
        self._input.queue_audio(np.asarray(samples, dtype=np.int16))

    def append_input_audio(self, samples: Any) -> None:
        """Record input audio sent to the server, for slicing VAD turns (rule 5).

        Args:
            samples: int16 array (or PCM16 bytes), in the order sent.
        """
        self.input_audio.append(samples)

    def get_item(self, item_id: str) -> dict[str, Any] | None:
        """The item with this id, or ``None``."""
        return self._item_lookup.get(item_id)

    def get_items(self) -> list[dict[str, Any]]:
        """All items in conversation order (a new list; the items themselves are live)."""
        return list(self._items)

    def get_responses(self) -> list[dict[str, Any]]:
        """All responses seen (``response.created``/``response.done``), oldest first."""
        return list(self._responses)

    def process_event(self, event: dict[str, Any], input_audio: Any = None) -> Result:
        """Apply one server event and return what it touched.

        Args:
            event: the server event as a dict, GA or beta (beta names and assistant content
                types are normalised to GA first; items keep the GA content types).
            input_audio: on ``input_audio_buffer.speech_stopped``, the client's int16 input buffer
                indexed from session start (seed contract); overrides ``append_input_audio``'s
                ring. Ignored for other events.

        Returns:
            A dict with ``item``, ``delta`` and/or ``response`` as relevant; ``{}`` for events
            that change nothing or that name an unknown item (never raises).
        """
        try:
            if event["type"] in NORMALIZED_SERVER_EVENTS:  # deltas skip the call (hot path)
                event = normalize_server_event(event)  # the same object for a GA event
            return self._handlers[event["type"]](event, input_audio)
        except KeyError:
            if not isinstance(event, dict) or event.get("type") not in self._handlers:
                logger.debug("< not a conversation event, ignored: %.120r", event)
                return {}
            logger.warning("< %s: malformed event ignored", event["type"], exc_info=True)
        except Exception:  # a malformed event from the server must not kill the receive loop
            logger.warning("< malformed event ignored: %.120r", event, exc_info=True)
        return {}

    def _item_or_none(self, event: dict[str, Any]) -> dict[str, Any] | None:
        item = self._item_lookup.get(event.get("item_id"))  # type: ignore[arg-type]
        if item is None:
            logger.debug("< %s: unknown item %r ignored", event["type"], event.get("item_id"))
        return item

    # -- items -------------------------------------------------------------------------------

    def _on_conversation_item_added(self, event: dict[str, Any], _input: Any = None) -> Result:
        wire = event["item"]
        if not isinstance(wire.get("id"), str):
            logger.warning("< %s: item without an id ignored (server bug)", event["type"])
            return {}
        existing = self._item_lookup.get(wire["id"])
        if existing is not None:
            return {"item": existing}
        item = _clone(wire)
        item_id = item.get("id")
        formatted = FormattedItem()
        item["formatted"] = formatted
        self._item_lookup[item_id] = item
        self._items.append(item)

        kind, wire_status = item.get("type"), item.get("status")
        user_message = kind == "message" and item.get("role") == "user"
        audio, transcript = self._input.claim(item_id, user_message)
        if audio is not None:
            formatted["audio"] = audio
        for part in item.get("content") or ():
            if isinstance(part, dict) and part.get("type") in _TEXT_TYPES:
                formatted["text"] += part.get("text") or ""
        _format_images(item, formatted)
        if transcript is not None:
            formatted["transcript"] = transcript

        if kind == "message":
            if user_message:
                item["status"] = "completed"
            elif wire_status not in _FINAL_STATUSES:
                item["status"] = "in_progress"
        elif kind == "function_call":
            formatted["tool"] = {
                "type": "function",
                "name": item.get("name"),
                "call_id": item.get("call_id"),
                "arguments": item.get("arguments") or "",
            }
            if wire_status not in _FINAL_STATUSES:
                item["status"] = "in_progress"
        elif kind == "function_call_output":
            item["status"] = "completed"
            formatted["output"] = item.get("output")
        elif kind in MCP_ITEM_TYPES:
            self._mcp.format(item, announced=True)
        return {"item": item}

    _on_conversation_item_created = _on_conversation_item_added

    def _on_conversation_item_done(self, event: dict[str, Any], _input: Any = None) -> Result:
        wire = event["item"]
        item = self._item_lookup.get(wire.get("id"))
        if item is None:
            # Announced only now (its .added was lost, or never sent): take it as announced.
            return self._on_conversation_item_added(event)
        for key, value in wire.items():
            if key != "formatted":
                item[key] = _clone(value)
        formatted = item["formatted"]
        if item.get("type") == "function_call":
            tool = formatted.setdefault("tool", {"type": "function", "arguments": ""})
            tool["name"] = item.get("name", tool.get("name"))
            tool["call_id"] = item.get("call_id", tool.get("call_id"))
            if item.get("arguments"):
                tool["arguments"] = item["arguments"]
        elif item.get("type") == "function_call_output":
            formatted["output"] = item.get("output")
        elif item.get("type") in MCP_ITEM_TYPES:
            self._mcp.format(item, announced=False)
        else:
            _format_images(item, formatted)
            if not formatted["text"]:
                # Text normally arrives as deltas; a done item is authoritative if they were missed.
                for part in item.get("content") or ():
                    if isinstance(part, dict) and part.get("type") in _TEXT_TYPES:
                        formatted["text"] += part.get("text") or ""
        return {"item": item}

    _on_conversation_item_retrieved = _on_conversation_item_done

    def _on_conversation_item_truncated(self, event: dict[str, Any], _input: Any = None) -> Result:
        item = self._item_or_none(event)
        if item is None:
            return {}
        end = int(event["audio_end_ms"] * self.frequency // 1000)
        formatted = item["formatted"]
        formatted["transcript"] = ""
        formatted.truncate_audio(end)
        return {"item": item}

    def _on_conversation_item_deleted(self, event: dict[str, Any], _input: Any = None) -> Result:
        item = self._item_lookup.pop(event.get("item_id"), None)  # type: ignore[arg-type]
        if item is None:
            return {}
        for index, candidate in enumerate(self._items):
            if candidate is item:  # identity: dict == would compare numpy arrays
                del self._items[index]
                break
        return {"item": item}

    def _on_item_only(self, event: dict[str, Any], _input: Any = None) -> Result:
        """Events that change nothing here but name an item (``.segment``, ``*.done``, ...)."""
        item = self._item_lookup.get(event.get("item_id"))  # type: ignore[arg-type]
        return {"item": item} if item is not None else {}

    # -- responses ---------------------------------------------------------------------------

    def _on_response_created(self, event: dict[str, Any], _input: Any = None) -> Result:
        wire = event["response"]
        response = self._response_lookup.get(wire.get("id"))
        if response is None:
            response = _clone(wire)
            response.setdefault("output", [])
            self._response_lookup[response.get("id")] = response
            self._responses.append(response)
        return {"response": response}

    def _on_response_done(self, event: dict[str, Any], _input: Any = None) -> Result:
        wire = event["response"]
        response = self._response_lookup.get(wire.get("id"))
        if response is None:
            response = self._on_response_created(event)["response"]
        response.update(_clone(wire))
        return {"response": response}

    def _on_response_output_item_added(self, event: dict[str, Any], _input: Any = None) -> Result:
        response = self._response_lookup.get(event.get("response_id"))  # type: ignore[arg-type]
        if response is None:
            logger.debug("< response.output_item.added: unknown response ignored")
            return {}
        item = _clone(event["item"])
        response["output"].append(item)
        return {"item": item, "response": response}

    def _on_response_output_item_done(self, event: dict[str, Any], _input: Any = None) -> Result:
        wire = event.get("item") or {}
        item = self._item_lookup.get(wire.get("id"))
        if item is None:
            return {}
        if item.get("type") in MCP_ITEM_TYPES:
            # MCP items have no wire status; the done item carries the call's output or error.
            return self._on_conversation_item_done({"type": event["type"], "item": wire})
        item["status"] = wire.get("status")
        return {"item": item}

    def _on_response_content_part_added(self, event: dict[str, Any], _input: Any = None):
        item = self._item_or_none(event)
        if item is None:
            return {}
        item.setdefault("content", []).append(_clone(event["part"]))
        return {"item": item}


def _ignored(self: RealtimeConversation, event: dict[str, Any], _input: Any = None) -> Result:
    return {}


_C, _I, _D, _M = RealtimeConversation, InputEvents, DeltaEvents, McpEvents
# Each entry names the object that handles the event: None = the conversation itself, else one of
# its collaborators ("input", "deltas", "mcp"); ``__init__`` binds the table to them, so dispatch
# stays one dict lookup and one call per event (the deltas are the hot path).
_HANDLERS: dict[str, tuple[str | None, Callable[..., Result]]] = {
    # items
    "conversation.item.added": (None, _C._on_conversation_item_added),
    "conversation.item.created": (None, _C._on_conversation_item_created),
    "conversation.item.done": (None, _C._on_conversation_item_done),
    "conversation.item.retrieved": (None, _C._on_conversation_item_retrieved),
    "conversation.item.truncated": (None, _C._on_conversation_item_truncated),
    "conversation.item.deleted": (None, _C._on_conversation_item_deleted),
    # input audio and transcription
    "input_audio_buffer.speech_started": ("input", _I.on_input_audio_buffer_speech_started),
    "input_audio_buffer.speech_stopped": ("input", _I.on_input_audio_buffer_speech_stopped),
    "conversation.item.input_audio_transcription.delta": (
        "input",
        _I.on_conversation_item_input_audio_transcription_delta,
    ),
    "conversation.item.input_audio_transcription.completed": (
        "input",
        _I.on_conversation_item_input_audio_transcription_completed,
    ),
    "conversation.item.input_audio_transcription.failed": (
        "input",
        _I.on_conversation_item_input_audio_transcription_failed,
    ),
    "conversation.item.input_audio_transcription.segment": (None, _C._on_item_only),
    # responses
    "response.created": (None, _C._on_response_created),
    "response.done": (None, _C._on_response_done),
    "response.output_item.added": (None, _C._on_response_output_item_added),
    "response.output_item.done": (None, _C._on_response_output_item_done),
    "response.content_part.added": (None, _C._on_response_content_part_added),
    "response.content_part.done": (None, _C._on_item_only),
    # deltas, and their .done events (whose totals the deltas already built)
    "response.output_audio.delta": ("deltas", _D.on_response_output_audio_delta),
    "response.output_audio.done": (None, _C._on_item_only),
    "response.output_audio_transcript.delta": (
        "deltas",
        _D.on_response_output_audio_transcript_delta,
    ),
    "response.output_audio_transcript.done": (
        "deltas",
        _D.on_response_output_audio_transcript_done,
    ),
    "response.output_text.delta": ("deltas", _D.on_response_output_text_delta),
    "response.output_text.done": ("deltas", _D.on_response_output_text_done),
    "response.function_call_arguments.delta": (
        "deltas",
        _D.on_response_function_call_arguments_delta,
    ),
    "response.function_call_arguments.done": (None, _C._on_item_only),
    # MCP tools, which the server runs (issue 12)
    "mcp_list_tools.in_progress": ("mcp", _M.on_mcp_list_tools_in_progress),
    "mcp_list_tools.completed": ("mcp", _M.on_mcp_list_tools_completed),
    "mcp_list_tools.failed": ("mcp", _M.on_mcp_list_tools_failed),
    "response.mcp_call_arguments.delta": ("mcp", _M.on_response_mcp_call_arguments_delta),
    "response.mcp_call_arguments.done": ("mcp", _M.on_response_mcp_call_arguments_done),
    "response.mcp_call.in_progress": ("mcp", _M.on_response_mcp_call_in_progress),
    "response.mcp_call.completed": ("mcp", _M.on_response_mcp_call_completed),
    "response.mcp_call.failed": ("mcp", _M.on_response_mcp_call_failed),
}
"""Wire event type (GA) -> (owner, handler). Every other event is explicitly ignored below."""

IGNORED_EVENTS: frozenset[str] = frozenset(
    {
        "error",
        "session.created",
        "session.updated",
        "transcription_session.updated",
        "conversation.created",
        "input_audio_buffer.committed",
        "input_audio_buffer.cleared",
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.dtmf_event_received",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
        "rate_limits.updated",
    }
)
"""Server events that carry nothing for the conversation's items (sessions, buffers, limits)."""

_HANDLERS.update(dict.fromkeys(IGNORED_EVENTS, (None, _ignored)))
del _C, _I, _D, _M
