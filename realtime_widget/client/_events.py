"""Server events -> conversation, client events, responses, tools, usage: the client's router.

Every server event (already GA-named by ``RealtimeAPI``) goes through the conversation reducer,
then through the handler named after it in ``_HANDLERS`` (``response.output_audio.delta`` ->
``_on_response_output_audio_delta``); events without an entry only reach the reducer and the
``realtime.event`` listeners. Runs on the runtime loop only.

:class:`ServerEvents` owns what only the routing needs: which items were announced as appended
and as completed (each once), and when the audio cap is next due. Everything else belongs to
the collaborator that a handler hands the event to; they are all given to the constructor, so
this module's reach is its argument list: the conversation, the response handles and
sequencer, the tools and their outputs, interruption, the session settings, MCP approvals,
the connection, the carry-over between sessions, the response watchdog and the usage meter.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

from realtime_widget.client._audio_cap import CapSchedule, cap_audio
from realtime_widget.client._carryover import Carryover
from realtime_widget.client._connection import Connection
from realtime_widget.client._handles import ResponseHandle, ResponseTracker
from realtime_widget.client._interruption import Interruption
from realtime_widget.client._mcp_approvals import McpApprovals
from realtime_widget.client._outputs import ToolOutputs
from realtime_widget.client._responses import ResponseSequencer
from realtime_widget.client._session import SessionSettings
from realtime_widget.client._tool_calls import ToolCalls
from realtime_widget.client._usage import UsageMeter
from realtime_widget.client._watchdog import ResponseWatchdog
from realtime_widget.conversation import RealtimeConversation

__all__ = ["ServerEvents"]

logger = logging.getLogger("realtime_widget.client")

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
_ANNOUNCE = frozenset({"conversation.item.added", "conversation.item.created"})
_ITEM_EVENTS = _ANNOUNCE | {"conversation.item.done"}
# Output of a response, collected by its handle (``ResponseTracker``).
_OUTPUT_DELTAS = frozenset(
    {
        "response.output_text.delta",
        "response.output_audio_transcript.delta",
        "response.output_audio.delta",
    }
)
# Refusals the client already handles: visible in ``realtime.event``, not raised as ``error``.
_HANDLED_CODES = frozenset({"response_cancel_not_active"})


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


class ServerEvents:
    """Routes the transport's events to the conversation and the client's collaborators.

    Args:
        conversation: the reducer every server event goes through.
        dispatch: emits the client's events.
        report: the client's local error (``code``, ``message``), dispatched as ``error``.
        handles: what ``create_response`` returned, filled from response events.
        responses: the in-band sequencer.
        tool_calls: runs completed function calls (not in relay mode).
        outputs: tool outputs until the server acknowledges them.
        interruption: playback bookkeeping and barge-in.
        settings: session settings and their updates.
        mcp: MCP approvals and failure reports.
        connection: the session's state and lifecycle.
        carryover: held sends, unacknowledged messages, replayed ids.
        watchdog: the response watchdog (fed every sign of life).
        meter: token usage and rate limits.
        cancel_handle: sends the ``response.cancel`` a handle asked for before it had an id.
        relay: relay mode: tools are not run.
        auto_truncate: the client's ``auto_truncate`` (settable, so read when needed).
        max_audio_seconds: the client's ``max_audio_seconds`` (likewise).
    """

    def __init__(
        self,
        conversation: RealtimeConversation,
        dispatch: Callable[[str, Any], None],
        report: Callable[[str, str], None],
        *,
        handles: ResponseTracker,
        responses: ResponseSequencer,
        tool_calls: ToolCalls,
        outputs: ToolOutputs,
        interruption: Interruption,
        settings: SessionSettings,
        mcp: McpApprovals,
        connection: Connection,
        carryover: Carryover,
        watchdog: ResponseWatchdog,
        meter: UsageMeter,
        cancel_handle: Callable[[ResponseHandle], None],
        relay: bool,
        auto_truncate: Callable[[], bool],
        max_audio_seconds: Callable[[], float | None],
    ) -> None:
        self._conversation = conversation
        self._dispatch = dispatch
        self._report = report
        self._handles = handles
        self._responses = responses
        self._tool_calls = tool_calls
        self._outputs = outputs
        self._interruption = interruption
        self._settings = settings
        self._mcp = mcp
        self._connection = connection
        self._carryover = carryover
        self._watchdog = watchdog
        self._meter = meter
        self._cancel_handle = cancel_handle
        self._relay = relay
        self._auto_truncate = auto_truncate
        self._max_audio_seconds = max_audio_seconds
        self._appended: set[str] = set()
        self._completed: set[str] = set()
        self._cap_schedule = CapSchedule()  # max_audio_seconds while audio streams in

    def reset(self) -> None:
        """Forget the items announced (a cleared conversation)."""
        self._appended.clear()
        self._completed.clear()
        self._cap_schedule = CapSchedule()

    # ------------------------------------------------------------------ routing
    def on_client_event(self, event: dict) -> None:
        """A client event went out (``client.*`` of the transport)."""
        self._settings.on_client_event(event)
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
            kind in _ITEM_EVENTS
            and isinstance(item, dict)
            and item.get("id") in self._carryover.replayed
        ):
            result = self._conversation.process_event(event)
            if result.get("item") is not None and kind not in _QUIET:
                self._dispatch("conversation.updated", {"type": "conversation.updated", **result})
        if kind.startswith("response."):
            if self._handles.is_out_of_band(event.get("response_id")):
                # Not the default conversation's: no playback, no tools, no sequencing; the
                # reducer skipped its items (never announced) and the handle collects it.
                self._handles.on_output_event(event)
                return
            self._watchdog.activity()
        if kind in _OUTPUT_DELTAS:
            self._handles.on_output_event(event)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event, result)
        self._mcp.on_event(kind, event, result)

    def mark_unfinished_items(self) -> None:
        """The session was lost: a response it cut will never finish; show it as the server
        would a cancel."""
        for item in self._conversation.get_items():
            if item.get("status") == "in_progress":
                item["status"] = "incomplete"
                self._dispatch(
                    "conversation.updated",
                    {"type": "conversation.updated", "item": item, "delta": None},
                )

    # ------------------------------------------------------------------ handlers
    def _on_session_created(self, event: dict, result: dict) -> None:
        self._connection.on_session_created(event)
        self._carryover.send_held()  # said while reconnecting: now that the session works

    def _on_session_updated(self, event: dict, result: dict) -> None:
        self._connection.on_session_updated(event)
        self._settings.on_session_updated()

    def _on_conversation_item_added(self, event: dict, result: dict) -> None:
        announced = event.get("item")
        if isinstance(announced, dict):
            self._outputs.on_item_announced(announced)  # a tool output is safe now
        item = result.get("item")
        if item is None:
            return
        if item["id"] not in self._appended:
            self._carryover.on_item_announced(item)  # a reconnect need not say it again
            self._appended.add(item["id"])
            self._dispatch(
                "conversation.item.appended", {"type": "conversation.item.appended", **result}
            )
        if item.get("status") == "completed":
            self._item_completed(result)

    _on_conversation_item_created = _on_conversation_item_added

    def _on_conversation_item_done(self, event: dict, result: dict) -> None:
        item = result.get("item")
        if item is not None and item.get("status") == "completed":
            self._item_completed(result)

    def _on_response_output_item_done(self, event: dict, result: dict) -> None:
        self._on_conversation_item_done(event, result)
        item = event.get("item") or {}
        if item.get("type") == "function_call" and item.get("status") == "completed":
            self._responses.on_output()  # the tools answer it, then ask for the next response
        if not self._relay:
            self._tool_calls.on_output_item_done(event)

    def _item_completed(self, result: dict) -> None:
        item_id = result["item"]["id"]
        if item_id not in self._completed:
            self._completed.add(item_id)
            self._dispatch(
                "conversation.item.completed", {"type": "conversation.item.completed", **result}
            )
            max_audio_seconds = self._max_audio_seconds()
            if max_audio_seconds is not None:  # after listeners saw the item's audio
                cap_audio(self._conversation.get_items(), int(max_audio_seconds * 24000))

    def _on_conversation_item_truncated(self, event: dict, result: dict) -> None:
        self._interruption.on_item_truncated(event)

    def _on_conversation_item_deleted(self, event: dict, result: dict) -> None:
        self._interruption.on_item_deleted(event)

    def _on_input_audio_buffer_speech_started(self, event: dict, result: dict) -> None:
        turn_detection = self._settings.config.turn_detection or {}
        truncate = self._auto_truncate() and turn_detection.get("interrupt_response", True)
        self._interruption.on_speech_started(event, bool(truncate))

    def _on_response_created(self, event: dict, result: dict) -> None:
        handle = self._handles.on_response_created(event, self._responses.in_flight)
        if not handle.out_of_band:  # an out-of-band one runs beside the in-band queue
            self._responses.on_response_created(event)
        if handle.cancel_wanted:  # cancelled before the server had named it
            self._cancel_handle(handle)

    def _on_response_output(self, event: dict, result: dict) -> None:
        self._responses.on_output()  # the user got something of this response

    def _on_response_output_audio_delta(self, event: dict, result: dict) -> None:
        self._responses.on_output()
        self._interruption.on_audio_delta(event)
        max_audio_seconds = self._max_audio_seconds()
        if max_audio_seconds is not None:  # also for an item that never completes
            audio = (result.get("delta") or {}).get("audio")
            cap = int(max_audio_seconds * 24000)
            if audio is not None and self._cap_schedule.due(len(audio), cap):
                cap_audio(self._conversation.get_items(), cap)

    def _on_response_done(self, event: dict, result: dict) -> None:
        response = event.get("response") or {}
        usage = response.get("usage")
        if self._meter.add(usage):
            self._dispatch(
                "usage.updated",
                {"type": "usage.updated", "usage": self._meter.usage, "response": usage},
            )
        if response.get("status") == "completed":
            self._connection.healthy()  # this session works: attempts start afresh
        handle = self._handles.on_response_done(event)
        if handle is not None and handle.out_of_band:
            return
        self._responses.on_response_done(event)
        if not self._relay:
            self._tool_calls.on_response_done(event)

    def _on_rate_limits_updated(self, event: dict, result: dict) -> None:
        self._meter.set_rate_limits(event.get("rate_limits"))
        self._dispatch("rate_limits.updated", event)

    def _on_error(self, event: dict, result: dict) -> None:
        error = event.get("error") or {}
        if not isinstance(error, dict):  # a malformed error still reaches listeners, as a dict
            error = {"type": "server_error", "code": None, "message": str(error)}
            event = {**event, "error": error}
        if isinstance(error.get("event_id"), str):
            self._outputs.on_refused(error["event_id"])  # refused: sending it again won't help
        event = self._settings.on_error(event)  # a refused session.update is rolled back
        self._handles.on_error(event)  # before the sequencer: a retry takes its handles along
        if (
            self._responses.on_error(event)
            and error.get("code") == "conversation_already_has_active_response"
        ):
            logger.info("= response.create deferred until the active response ends")
            return
        if error.get("code") in _HANDLED_CODES:
            logger.info("< %s: %s", error.get("code"), error.get("message"))
            return
        logger.warning(
            "< server error %s: %s", error.get("code") or error.get("type"), error.get("message")
        )
        self._dispatch("error", event)


_S = ServerEvents
_HANDLERS: dict[str, Callable[[ServerEvents, dict, dict], None]] = {
    "session.created": _S._on_session_created,
    "session.updated": _S._on_session_updated,
    "conversation.item.added": _S._on_conversation_item_added,
    "conversation.item.created": _S._on_conversation_item_created,
    "conversation.item.done": _S._on_conversation_item_done,
    "conversation.item.truncated": _S._on_conversation_item_truncated,
    "conversation.item.deleted": _S._on_conversation_item_deleted,
    "input_audio_buffer.speech_started": _S._on_input_audio_buffer_speech_started,
    "response.created": _S._on_response_created,
    "response.output_audio.delta": _S._on_response_output_audio_delta,
    "response.output_audio_transcript.delta": _S._on_response_output,
    "response.output_text.delta": _S._on_response_output,
    "response.output_item.done": _S._on_response_output_item_done,
    "response.done": _S._on_response_done,
    "rate_limits.updated": _S._on_rate_limits_updated,
    "error": _S._on_error,
}
"""Server event type -> handler; the rest only reach the reducer and ``realtime.event``."""
