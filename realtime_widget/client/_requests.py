"""Response requests: ``create_response`` from the caller's thread to the handle it returned.

The glue between the three pure pieces that a response request goes through:

- the :class:`~realtime_widget.client._responses.ResponseSequencer` (one in-band
  ``response.create`` in flight; the rest queue and are coalesced);
- the :class:`~realtime_widget.client._handles.ResponseTracker` (which handle a
  ``response.created`` answers, what each response produced, how it ended);
- the :class:`~realtime_widget.client._watchdog.ResponseWatchdog` (a response the server never
  ends is given up).

:class:`ResponseRequests` owns those three and what only requests need: the handles asked for
and not finished (bounded, counted in the caller's thread), and the session sample where the
input audio not yet committed starts (with manual turns an in-band request commits it first, or
clears it when the server would refuse it as too short). It builds and sends ``response.create``
(in-band through the sequencer, out-of-band at once), cancels a handle's response by its id, and
reacts to the ``response.*`` events and refusals that concern requests (its ``_on_<event>``
handlers, composed by the router in ``_events``). It is handed the transport, the conversation
(its input audio), whether turns are manual, the client's hand-over to the runtime loop (plain,
and held while reconnecting), ``dispatch`` (``response.finished``), the client's local-error
report and a getter for ``response_timeout``. The public methods stay on ``RealtimeClient``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from realtime_widget.api import RealtimeAPI
from realtime_widget.client._handles import ResponseHandle, ResponseTracker
from realtime_widget.client._responses import ResponseSequencer
from realtime_widget.client._watchdog import ResponseWatchdog
from realtime_widget.conversation import RealtimeConversation

__all__ = ["ResponseRequests"]

logger = logging.getLogger("realtime_widget.client")

_MIN_COMMIT_MS = 100  # the server refuses shorter commits (input_audio_buffer_commit_empty)
_RATE = 24000  # the conversation's input audio rate


class ResponseRequests:
    """Asks for responses and follows them to their handles, for one client.

    Args:
        api: the transport (``send``, ``is_connected``).
        conversation: the client's conversation (its input audio is committed before an
            in-band request when turns are manual).
        manual_turns: whether the session has no turn detection (read when a request is sent).
        in_runtime_thread: whether the caller is on the runtime loop (a handle refuses to block
            there).
        hand_over: runs ``fn(*args)`` on the runtime loop (the client's ``_soon``).
        hold_or_hand_over: the same, held while reconnecting (the client's ``_soon_or_hold``).
        dispatch: emits the client's events (``response.finished``).
        report: the client's local error (``code``, ``message``), dispatched as ``error``.
        timeout: the client's ``response_timeout`` (settable, so read when needed).
    """

    def __init__(
        self,
        api: RealtimeAPI,
        conversation: RealtimeConversation,
        *,
        manual_turns: Callable[[], bool],
        in_runtime_thread: Callable[[], bool],
        hand_over: Callable[..., None],
        hold_or_hand_over: Callable[..., None],
        dispatch: Callable[[str, Any], None],
        report: Callable[[str, str], None],
        timeout: Callable[[], float | None],
    ) -> None:
        self._api = api
        self._conversation = conversation
        self._manual_turns = manual_turns
        self._in_runtime_thread = in_runtime_thread
        self._hand_over = hand_over
        self._hold_or_hand_over = hold_or_hand_over
        self._dispatch = dispatch
        self.sequencer = ResponseSequencer(self._send_in_band)
        """One in-band ``response.create`` in flight (also read by interruption, tools, ...)."""
        self.handles = ResponseTracker(self.new_handle, self._finished)
        """The handles of requests and of the server's own responses (server VAD)."""
        self.watchdog = ResponseWatchdog(self.sequencer, self.handles, report, timeout)
        """Gives up on a response the server never ends."""
        self._asked: set[ResponseHandle] = set()  # handles create() gave, not finished
        self._asked_lock = threading.Lock()  # create() runs in the caller's thread
        self._committed = 0  # session sample where the uncommitted input audio starts

    def new_session(self) -> None:
        """A new server session: nothing is in flight, its audio time starts at 0."""
        self.sequencer.reset()
        self._committed = 0

    # ------------------------------------------------------------------ the user's requests
    def create(self, params: dict[str, Any] | None, limit: int) -> ResponseHandle:
        """Hand a request over to the loop and return its handle (any thread).

        Args:
            params: the ``response`` settings (a copy the caller no longer touches), or ``None``.
            limit: how many handles asked for may be unfinished at once.

        Raises:
            RuntimeError: ``limit`` handles are unfinished already.
        """
        handle = self.new_handle(params)
        with self._asked_lock:  # counted here, in the caller's thread, so the bound is exact
            if len(self._asked) >= limit:
                raise RuntimeError(
                    f"{len(self._asked)} responses asked for have not finished yet (the limit "
                    f"is {limit}): await some of their handles first"
                )
            self._asked.add(handle)
        handle.add_done_callback(self._forget)
        if handle.out_of_band:
            self._hold_or_hand_over(self._create_out_of_band, handle)
        else:
            self._hold_or_hand_over(self.create_in_band, params, handle)
        return handle

    def create_in_band(
        self, params: dict[str, Any] | None, handle: ResponseHandle | None = None
    ) -> None:
        """Ask for an in-band response (on the loop): queued behind the running one; with
        manual turns, the input audio appended since the last commit is committed first (or
        cleared when under 100 ms, which the server would refuse)."""
        if handle is not None:
            self.handles.queued_in_band(handle)
        ring = self._conversation.input_audio
        pending = ring.end - self._committed
        if self._manual_turns() and pending > 0:
            if pending * 1000 >= _MIN_COMMIT_MS * _RATE:
                self._api.send("input_audio_buffer.commit")
                self._conversation.queue_input_audio(ring.slice(self._committed, ring.end))
            else:
                logger.warning(
                    "= %d ms of input audio is too short to commit; cleared",
                    pending * 1000 // _RATE,
                )
                self._api.send("input_audio_buffer.clear")
            self._committed = ring.end
        self.sequencer.request(params)

    def new_handle(self, params: dict | None) -> ResponseHandle:
        """A handle for ``params`` (also for a response the server made by itself)."""
        return ResponseHandle(
            params, in_runtime_thread=self._in_runtime_thread, cancel=self._cancel_soon
        )

    def _forget(self, handle: ResponseHandle) -> None:
        with self._asked_lock:
            self._asked.discard(handle)

    def _cancel_soon(self, handle: ResponseHandle) -> None:
        self._hand_over(self.cancel, handle)

    def cancel(self, handle: ResponseHandle) -> None:
        """Cancel a response by its id (once it has one: see :meth:`_on_response_created`)."""
        if handle.id is None or handle.done() or not self._api.is_connected:
            return
        if not handle.out_of_band:
            self.sequencer.on_cancel()  # not to be asked again after a reconnect
        self._api.send("response.cancel", {"response_id": handle.id})

    # ------------------------------------------------------------------ sending (on the loop)
    def _create_out_of_band(self, handle: ResponseHandle) -> None:
        try:
            event = self._api.send("response.create", {"response": handle.params})
        except RuntimeError as exc:  # held for a reconnect that gave up meanwhile
            self.handles.abandon(handle, str(exc))
            return
        self.handles.sent_out_of_band(event["event_id"], handle)

    def _send_in_band(self, params: dict | None) -> dict:
        """The sequencer's ``send``: its turn has come."""
        event = self._api.send("response.create", {"response": params} if params else None)
        self.handles.sent_in_band(event["event_id"], params)
        self.watchdog.activity()
        return event

    def _finished(self, handle: ResponseHandle) -> None:
        self._dispatch(
            "response.finished",
            {
                "type": "response.finished",
                "handle": handle,
                "response_id": handle.id,
                "out_of_band": handle.out_of_band,
                "status": handle.status,
            },
        )

    # ------------------------------------------------------------------ server events
    def claim(self, kind: str, event: dict) -> bool:
        """Any ``response.*`` event, before the handlers: an out-of-band response's output is
        only its handle's (True: routing stops there); any other is a sign of life."""
        if self.handles.is_out_of_band(event.get("response_id")):
            # Not the default conversation's: no playback, no tools, no sequencing; the
            # reducer skipped its items (never announced) and the handle collects it.
            self.handles.on_output_event(event)
            return True
        self.watchdog.activity()
        return False

    def _on_response_created(self, event: dict, result: dict) -> None:
        handle = self.handles.on_response_created(event, self.sequencer.in_flight)
        if not handle.out_of_band:  # an out-of-band one runs beside the in-band queue
            self.sequencer.on_response_created(event)
        if handle.cancel_wanted:  # cancelled before the server had named it
            self.cancel(handle)

    def _on_response_output(self, event: dict, result: dict) -> None:
        """``response.output_text.delta`` and ``response.output_audio_transcript.delta``."""
        self.handles.on_output_event(event)
        self.sequencer.on_output()  # the user got something of this response

    _on_response_output_audio_delta = _on_response_output

    def _on_response_output_item_done(self, event: dict, result: dict) -> None:
        item = event.get("item") or {}
        if item.get("type") == "function_call" and item.get("status") == "completed":
            self.sequencer.on_output()  # the tools answer it, then ask for the next response

    def _on_response_done(self, event: dict, result: dict) -> bool:
        handle = self.handles.on_response_done(event)
        if handle is not None and handle.out_of_band:
            return True  # not the conversation's: no sequencing, no tools
        self.sequencer.on_response_done(event)
        return False

    def on_error(self, event: dict) -> bool:
        """A server ``error``: a refusal of a request ends its handles (or, for
        ``conversation_already_has_active_response``, requeues it).

        Returns:
            True when it answered a ``response.create`` of the sequencer.
        """
        self.handles.on_error(event)  # before the sequencer: a retry takes its handles along
        return self.sequencer.on_error(event)
