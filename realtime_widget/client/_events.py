"""Server events -> conversation, custom events, responses, tools, usage; and reconnecting.

Every server event (already GA-named by ``RealtimeAPI``) goes through the conversation reducer,
then through the handler named after it in ``_HANDLERS`` (``response.output_audio.delta`` ->
``_on_response_output_audio_delta``). Runs on the runtime loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import logging
from collections.abc import Callable
from typing import Any

from realtime_widget.api import RealtimeConnectionError
from realtime_widget.client._audio_cap import CapSchedule, cap_audio
from realtime_widget.client._handles import ResponseHandle
from realtime_widget.client._lifecycle import Event, State
from realtime_widget.client._reconnect import backoff_delay, history_items
from realtime_widget.client._usage import add_usage

__all__ = ["ServerEventsMixin"]

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
# Output of a response, collected by its handle (``_handles``).
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


class ServerEventsMixin:
    """The event side of ``RealtimeClient`` (see its docstring for the events)."""

    # Provided by RealtimeClient; declared for readers and type checkers.
    realtime: Any
    conversation: Any
    _handles: Any
    _send_handle_cancel: Callable[[Any], None]
    max_audio_seconds: float | None
    dispatch: Callable[[str, Any], None]
    _guarded: Callable[..., None]

    def _init_event_state(self) -> None:
        self._appended: set[str] = set()
        self._completed: set[str] = set()
        self._replayed: set[str] = set()  # ids replayed into a new session: already in history
        self._cap_schedule = CapSchedule()  # max_audio_seconds while audio streams in
        self._user_closed = False
        self._reconnect_task: asyncio.Task[None] | None = None
        self._health_timer: asyncio.TimerHandle | None = None
        self._response_timer: asyncio.TimerHandle | None = None
        self._response_seen = 0.0  # loop time of the last response.* event or response.create
        self._held: list[tuple[Callable[..., None], tuple]] = []  # made while reconnecting
        self._unacked: list[dict] = []  # user messages sent, not yet announced back
        self._owed: list[dict | None] = []  # response requests a dropped session left unanswered

    def _install_api_handlers(self) -> None:
        self.realtime.on("client.*", self._on_client_event)
        self.realtime.on("server.*", self._on_server_event)
        self.realtime.on("error", self._on_api_error)
        self.realtime.on("close", self._on_api_close)

    # ------------------------------------------------------------------ routing
    def _on_client_event(self, event: dict) -> None:
        self._settings.on_client_event(event)
        self.dispatch(
            "realtime.event",
            {"type": "realtime.event", "time": _now(), "source": "client", "event": event},
        )

    def _on_server_event(self, event: dict) -> None:
        self.dispatch(
            "realtime.event",
            {"type": "realtime.event", "time": _now(), "source": "server", "event": event},
        )
        kind = event["type"]
        try:
            self._route_server_event(kind, event)
        except Exception as exc:  # their fault (a malformed event): report it, keep the session
            logger.warning("< %s: malformed server event ignored (%r)", kind, exc)
            self._local_error(
                "malformed_event", f"server sent a malformed {kind!r} event, ignored: {exc!r}"
            )

    def _route_server_event(self, kind: str, event: dict) -> None:
        result: dict = {}
        item = event.get("item")
        if not (
            kind in _ITEM_EVENTS and isinstance(item, dict) and item.get("id") in self._replayed
        ):
            result = self.conversation.process_event(event)
            if result.get("item") is not None and kind not in _QUIET:
                self.dispatch("conversation.updated", {"type": "conversation.updated", **result})
        if kind.startswith("response."):
            if self._handles.is_out_of_band(event.get("response_id")):
                # Not the default conversation's: no playback, no tools, no sequencing; the
                # reducer skipped its items (never announced) and the handle collects it.
                self._handles.on_output_event(event)
                return
            self._response_activity()
        if kind in _OUTPUT_DELTAS:
            self._handles.on_output_event(event)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event, result)
        self._mcp_approvals.on_event(kind, event, result)

    def _local_error(self, code: str, message: str) -> None:
        error = {"type": "client_error", "code": code, "message": message}
        self.dispatch("error", {"type": "error", "source": "local", "error": error})

    def _on_api_error(self, event: dict) -> None:
        if event.get("source") == "local":  # server errors arrive through server.*
            self.dispatch("error", event)

    # ------------------------------------------------------------------ handlers
    def _on_session_created(self, event: dict, result: dict) -> None:
        self.session = event.get("session")
        self._session_created = True
        self._lifecycle.handle(Event.SESSION_CREATED)
        if self._health_timer is None and self.healthy_after is not None:
            # Staying up this long also proves the session (as a completed response does).
            self._health_timer = asyncio.get_running_loop().call_later(
                self.healthy_after, self._lifecycle.handle, Event.HEALTHY
            )
        if self._held:  # said while reconnecting: now that the session really works
            self._send_held()

    def _on_session_updated(self, event: dict, result: dict) -> None:
        self.session = event.get("session")
        self._settings.on_session_updated()

    def _on_conversation_item_added(self, event: dict, result: dict) -> None:
        announced = event.get("item")
        if isinstance(announced, dict):
            self._outputs.on_item_announced(announced)  # a tool output is safe now
        item = result.get("item")
        if item is None:
            return
        if item["id"] not in self._appended:
            for index, sent in enumerate(self._unacked):
                if _same_words(item, sent):
                    # The server has it (and, taking events in order, refused any sent before
                    # it): a reconnect need not say them again.
                    del self._unacked[: index + 1]
                    break
            self._appended.add(item["id"])
            self.dispatch(
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
            self.dispatch(
                "conversation.item.completed", {"type": "conversation.item.completed", **result}
            )
            if self.max_audio_seconds is not None:  # after listeners saw the item's audio
                cap_audio(self.conversation.get_items(), int(self.max_audio_seconds * 24000))

    def _on_conversation_item_truncated(self, event: dict, result: dict) -> None:
        self._interruption.on_item_truncated(event)

    def _on_conversation_item_deleted(self, event: dict, result: dict) -> None:
        self._interruption.on_item_deleted(event)

    def _on_input_audio_buffer_speech_started(self, event: dict, result: dict) -> None:
        turn_detection = self._settings.config.turn_detection or {}
        truncate = self.auto_truncate and turn_detection.get("interrupt_response", True)
        self._interruption.on_speech_started(event, bool(truncate))

    def _on_response_created(self, event: dict, result: dict) -> None:
        handle = self._handles.on_response_created(event, self._responses.in_flight)
        if not handle.out_of_band:  # an out-of-band one runs beside the in-band queue
            self._responses.on_response_created(event)
        if handle.cancel_wanted:  # cancelled before the server had named it
            self._send_handle_cancel(handle)

    def _on_response_output(self, event: dict, result: dict) -> None:
        self._responses.on_output()  # the user got something of this response

    def _on_response_output_audio_delta(self, event: dict, result: dict) -> None:
        self._responses.on_output()
        self._interruption.on_audio_delta(event)
        if self.max_audio_seconds is not None:  # also for an item that never completes
            audio = (result.get("delta") or {}).get("audio")
            cap = int(self.max_audio_seconds * 24000)
            if audio is not None and self._cap_schedule.due(len(audio), cap):
                cap_audio(self.conversation.get_items(), cap)

    def _on_response_done(self, event: dict, result: dict) -> None:
        response = event.get("response") or {}
        usage = response.get("usage")
        if usage:
            add_usage(self._usage, usage)
            self._usage["responses"] = self._usage.get("responses", 0) + 1
            self.dispatch(
                "usage.updated", {"type": "usage.updated", "usage": self.usage, "response": usage}
            )
        if response.get("status") == "completed":
            self._lifecycle.handle(Event.HEALTHY)  # this session works: attempts start afresh
        handle = self._handles.on_response_done(event)
        if handle is not None and handle.out_of_band:
            return
        self._responses.on_response_done(event)
        if not self._relay:
            self._tool_calls.on_response_done(event)

    def _on_rate_limits_updated(self, event: dict, result: dict) -> None:
        limits = event.get("rate_limits")
        if isinstance(limits, list):
            self._rate_limits = copy.deepcopy(limits)
        self.dispatch("rate_limits.updated", event)

    def _on_error(self, event: dict, result: dict) -> None:
        error = event.get("error") or {}
        if not isinstance(error, dict):  # a malformed error still reaches listeners, as a dict
            error = {"type": "server_error", "code": None, "message": str(error)}
            event = {**event, "error": error}
        if isinstance(error.get("event_id"), str):
            self._outputs.on_refused(error["event_id"])  # refused: sending it again won't help
        event = self._settings.on_error(event)
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
        self.dispatch("error", event)

    # ------------------------------------------------------------------ losing the session
    def _on_api_close(self, event: dict) -> None:
        self._session_created = False
        self._stop_health_timer()
        self._stop_response_timer()
        dropped = bool(event.get("error")) and not self._user_closed
        state = self._lifecycle.handle(Event.DROPPED if dropped else Event.CLOSED)
        if state is State.BACKING_OFF:  # what the lost session still had to answer: asked again
            self._owed += self._responses.owed()
        self._handles.on_session_lost(keep_queued=state is State.BACKING_OFF)
        self._responses.reset()
        self._outputs.on_session_lost()
        self._tool_calls.on_session_lost()
        self._mark_unfinished_items()
        if state is State.BACKING_OFF:
            loop = asyncio.get_running_loop()
            self._reconnect_task = loop.create_task(self._reconnect(event))
        elif state is State.GAVE_UP:  # a session that never proved healthy, once too often
            self._give_up(event, _closed_with(event))
        else:
            self.dispatch("close", event)

    def _response_activity(self) -> None:
        """A sign of life of the running response: the watchdog's clock starts again."""
        if self.response_timeout is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the runtime loop (a test driving the parts): no watchdog
            return
        self._response_seen = loop.time()
        if self._response_timer is None:  # one timer, re-armed from its own callback
            self._response_timer = loop.call_later(self.response_timeout, self._check_response)

    def _check_response(self) -> None:
        self._response_timer = None
        if not self._responses.is_active or self.response_timeout is None:
            return
        loop = asyncio.get_running_loop()
        left = self._response_seen + self.response_timeout - loop.time()
        if left > 0:
            self._response_timer = loop.call_later(left, self._check_response)
            return
        # Their fault (a broken server that failed a response without response.done): without
        # this, every later create_response() would wait behind it forever.
        logger.warning("= no response.* event for %s s: response given up", self.response_timeout)
        message = (
            f"the server sent nothing about the running response for {self.response_timeout} s "
            "and never ended it (no response.done); the client stopped waiting for it"
        )
        self._local_error("response_timeout", message)
        self._handles.expire(self._responses.in_flight, self._responses.active_id, message)
        self._responses.expire()  # the next queued request goes now

    def _stop_response_timer(self) -> None:
        timer, self._response_timer = self._response_timer, None
        if timer is not None:
            timer.cancel()

    def _stop_health_timer(self) -> None:
        timer, self._health_timer = self._health_timer, None
        if timer is not None:
            timer.cancel()

    def _mark_unfinished_items(self) -> None:
        # A response cut by the drop will never finish: show it as the server would a cancel.
        for item in self.conversation.get_items():
            if item.get("status") == "in_progress":
                item["status"] = "incomplete"
                self.dispatch(
                    "conversation.updated",
                    {"type": "conversation.updated", "item": item, "delta": None},
                )

    def _cancel_reconnect(self) -> bool:
        task, self._reconnect_task = self._reconnect_task, None
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _reconnect(self, closed: dict) -> None:
        last_error = _closed_with(closed)
        # The lifecycle counts attempts until a session proves healthy: a server that accepts
        # the handshake, says hello and closes gets max_reconnect_attempts tries, not forever.
        while self._lifecycle.state is State.BACKING_OFF:
            attempt = self._lifecycle.attempts
            delay = backoff_delay(attempt, self.reconnect_delay)
            self.dispatch(
                "reconnecting",
                {
                    "type": "reconnecting",
                    "attempt": attempt,
                    "delay": delay,
                    "code": closed.get("code"),
                    "reason": closed.get("reason"),
                },
            )
            await asyncio.sleep(delay)
            self._lifecycle.handle(Event.RETRY)
            try:
                await self.realtime._connect()
            except RealtimeConnectionError as exc:
                last_error = str(exc)
                logger.warning("= reconnect attempt %d failed: %s", attempt, exc)
                self._lifecycle.handle(Event.FAILED)
                continue
            self._lifecycle.handle(Event.OPENED)
            self._start_session()
            replayed = self._replay_history()
            self._reconnect_task = None
            self.dispatch(
                "reconnected",
                {"type": "reconnected", "attempt": attempt, "replayed_items": replayed},
            )
            return
        self._reconnect_task = None
        if self._lifecycle.state is State.GAVE_UP:
            self._give_up(closed, last_error)
        else:  # auto_reconnect was switched off meanwhile: the session ends here
            self._handles.on_session_lost(keep_queued=False)
            self._drop_held()
            self._owed.clear()
            self.dispatch("close", closed)

    def _give_up(self, closed: dict, last_error: str) -> None:
        self._owed.clear()
        self._handles.on_session_lost(keep_queued=False)
        if self._held:
            last_error += f"; {len(self._held)} message/audio sends made meanwhile were dropped"
            self._drop_held()
        self._local_error(
            "reconnect_failed",
            f"could not reconnect after {self._lifecycle.attempts} attempts ({last_error}); "
            "call connect() to try again (the conversation is kept)",
        )
        self.dispatch("close", closed)

    def _drop_held(self) -> None:
        """Forget what was said while reconnecting; response handles among it end as lost."""
        held, self._held = self._held, []
        for _fn, args in held:
            for arg in args:
                if isinstance(arg, ResponseHandle):
                    self._handles.abandon(arg, "the session ended before this request was sent")

    def _send_held(self) -> None:
        held, self._held = self._held, []
        for fn, args in held:  # what the user said while reconnecting, after the history
            self._guarded(fn, args, True)

    def _replay_history(self) -> int:
        if self._relay:
            return 0
        outputs = self._outputs.pending()
        items = history_items(
            self.conversation.get_items(),
            self._tool_calls.running,
            outputs,
            pending_approvals={r["id"] for r in self._mcp.pending()},
        )
        for item in items:
            if "id" in item:
                self._replayed.add(item["id"])
            with contextlib.suppress(RuntimeError):
                sent = self.realtime.send("conversation.item.create", {"item": item})
                if item["type"] == "function_call_output" and "id" not in item:
                    self._outputs.sent(item["call_id"], sent["event_id"])
        # User messages the old session never acknowledged (the drop ate the answer, or them):
        # said again after the history, and answered, so no words vanish without a trace.
        unacked = list(self._unacked)
        for item in unacked:
            with contextlib.suppress(RuntimeError):
                self.realtime.send("conversation.item.create", {"item": item})
        # One response for what is still unanswered: those messages, tool outputs the old
        # session never acknowledged, a turn it dropped before saying anything (issue 13).
        owed, self._owed = self._owed, []
        replayed_outputs = any(i["type"] == "function_call_output" and "id" not in i for i in items)
        if unacked or replayed_outputs:
            owed.append(None)
        asked_plain = False
        for params in owed:
            if params is None and asked_plain:
                continue  # several reasons, one answer
            asked_plain = asked_plain or params is None
            self._responses.request(params)
        return len(items)


def _closed_with(closed: dict) -> str:
    return f"closed with {closed.get('code')} {closed.get('reason') or ''}".strip()


def _same_words(announced: dict, sent: dict) -> bool:
    """Whether an announced item is the user message we sent (the server gave it its id)."""
    if announced.get("role") != "user" or announced.get("type") != "message":
        return False
    content = announced.get("content")
    if not isinstance(content, list):
        return False
    parts = [(p.get("type"), p.get("text")) for p in content if isinstance(p, dict)]
    return parts == [(p.get("type"), p.get("text")) for p in sent["content"]]


_M = ServerEventsMixin
_HANDLERS: dict[str, Callable[[Any, dict, dict], None]] = {
    "session.created": _M._on_session_created,
    "session.updated": _M._on_session_updated,
    "conversation.item.added": _M._on_conversation_item_added,
    "conversation.item.created": _M._on_conversation_item_created,
    "conversation.item.done": _M._on_conversation_item_done,
    "conversation.item.truncated": _M._on_conversation_item_truncated,
    "conversation.item.deleted": _M._on_conversation_item_deleted,
    "input_audio_buffer.speech_started": _M._on_input_audio_buffer_speech_started,
    "response.created": _M._on_response_created,
    "response.output_audio.delta": _M._on_response_output_audio_delta,
    "response.output_audio_transcript.delta": _M._on_response_output,
    "response.output_text.delta": _M._on_response_output,
    "response.output_item.done": _M._on_response_output_item_done,
    "response.done": _M._on_response_done,
    "rate_limits.updated": _M._on_rate_limits_updated,
    "error": _M._on_error,
}
