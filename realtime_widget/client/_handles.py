"""Handles on responses: what ``create_response`` returns, and who fills them (issue 12, point 6).

A :class:`ResponseHandle` is future-like: ``await handle`` (any event loop) or
``handle.result(timeout)`` (any thread but the runtime's) gives a :class:`ResponseResult` with the
response's text, audio transcript, audio, output items, usage, status and metadata.

:class:`ResponseTracker` is pure bookkeeping (no I/O, no clock): the client feeds it the server
events of responses and it routes each to the handle of its ``response_id``, creating handles for
responses the client did not ask for (server VAD). Matching a ``response.created`` to a request:

- *in-band* requests (the default conversation) leave one at a time from the
  :class:`~realtime_widget.client._responses.ResponseSequencer`; the client tells the tracker
  which ``event_id`` carried which handles (:meth:`ResponseTracker.sent_in_band`) and, when a
  ``response.created`` arrives for that request, which event it answered.
- *out-of-band* requests (``conversation: "none"``) are sent at once, so several may wait for
  their ``response.created`` together; the server answers them in order, and its
  ``response.created`` carries ``conversation_id: null`` (the GA ``RealtimeResponse`` docs) and
  the request's ``metadata``. The first waiting request with equal metadata gets it.

Outcomes: ``completed`` and ``incomplete`` (``max_output_tokens``) are results; ``failed``,
``cancelled``, a refused request (an ``error`` naming its ``event_id``) and a lost session are
:class:`ResponseError` carrying what arrived before. Handles are bounded
(:data:`MAX_OUTSTANDING`), and so is the audio one handle keeps (:data:`MAX_AUDIO_SECONDS`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
from collections import OrderedDict, deque
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from realtime_widget.audio import decode_base64

__all__ = [
    "MAX_AUDIO_SECONDS",
    "MAX_OUTSTANDING",
    "ResponseError",
    "ResponseHandle",
    "ResponseResult",
    "ResponseTracker",
]

MAX_OUTSTANDING = 64
"""Handles of requested responses not finished yet; ``create_response`` refuses more."""

MAX_AUDIO_SECONDS = 600
"""Audio one handle keeps (24 kHz); the rest is dropped and ``audio_truncated`` is set."""

_RATE = 24000


@dataclass(frozen=True)
class ResponseResult:
    """What one response produced.

    Attributes:
        id: the server's response id (``None`` when it was refused before it existed).
        status: ``completed``, ``incomplete``, ``failed``, ``cancelled``, or ``refused`` /
            ``lost`` (the server refused the request / the session ended first).
        out_of_band: whether it ran outside the default conversation (``conversation: "none"``).
        text: the ``output_text`` deltas, joined.
        transcript: the audio transcript deltas, joined.
        audio: the output audio, int16 at 24 kHz (empty for text responses).
        items: the output items as ``response.done`` lists them (function calls included:
            the client runs tools only for in-band responses).
        usage: the token usage of ``response.done`` (``None`` if none came).
        metadata: the response's ``metadata``.
        status_details: the server's ``status_details`` (reason, error).
        error: the ``error`` object of a refusal or failure, else ``None``.
        audio_truncated: more than :data:`MAX_AUDIO_SECONDS` of audio came; the rest was dropped.
    """

    id: str | None
    status: str
    out_of_band: bool
    text: str = ""
    transcript: str = ""
    audio: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16), repr=False)
    items: list[dict] = field(default_factory=list)
    usage: dict | None = None
    metadata: dict | None = None
    status_details: dict | None = None
    error: dict | None = None
    audio_truncated: bool = False

    @property
    def output(self) -> str:
        """The text of the response: ``text`` for text output, else the audio ``transcript``."""
        return self.text or self.transcript


class ResponseError(RuntimeError):
    """A response that did not complete: failed, cancelled, refused, or lost with its session.

    Attributes:
        result: what arrived before it ended (:class:`ResponseResult`, ``status`` says which).
    """

    def __init__(self, message: str, result: ResponseResult) -> None:
        super().__init__(message)
        self.result = result


class ResponseHandle:
    """A response asked for with ``create_response`` (or started by the server): future-like.

    ``await handle`` or ``handle.result(timeout)`` gives a :class:`ResponseResult`; both raise
    :class:`ResponseError` for a response that failed, was cancelled or refused, or was lost
    with its session. Thread-safe; filled on the client's runtime loop.

    Attributes:
        params: the ``response`` parameters asked for (``None``: the session's).
        out_of_band: whether it runs outside the default conversation.
    """

    def __init__(
        self,
        params: dict | None,
        *,
        in_runtime_thread: Callable[[], bool] = lambda: False,
        cancel: Callable[[ResponseHandle], None] | None = None,
    ) -> None:
        self.params = params
        self.out_of_band = isinstance(params, dict) and params.get("conversation") == "none"
        self._future: concurrent.futures.Future[ResponseResult] = concurrent.futures.Future()
        self._in_runtime_thread = in_runtime_thread
        self._cancel = cancel
        self.cancel_wanted = False
        """Whether :meth:`cancel` was called (before ``response.created``: sent on it)."""
        self.id: str | None = None
        """The server's response id, once ``response.created`` arrived."""
        self._text: list[str] = []
        self._transcript: list[str] = []
        self._audio: list[np.ndarray] = []
        self._samples = 0
        self._audio_truncated = False
        self._metadata = (params or {}).get("metadata") if isinstance(params, dict) else None
        self._twins: list[ResponseHandle] = []  # coalesced requests answered by this response

    def __repr__(self) -> str:
        state = self.status
        kind = "out-of-band" if self.out_of_band else "in-band"
        return f"<ResponseHandle {self.id or '(not created)'} {kind} {state}>"

    # -- the future side -----------------------------------------------------------------
    @property
    def status(self) -> str:
        """``"pending"`` until the response ends, then its result's ``status`` ("completed",
        "incomplete", "cancelled", "failed", "refused" or "lost"); never raises or waits."""
        return self._future.result().status if self._future.done() else "pending"

    def done(self) -> bool:
        """Whether the response has ended (in whatever way)."""
        return self._future.done()

    def result(self, timeout: float | None = None) -> ResponseResult:
        """Wait for the response to end and return its result.

        Args:
            timeout: seconds to wait (``None``: no limit).

        Raises:
            ResponseError: it failed, was cancelled, refused or lost (``.result`` has the rest).
            TimeoutError: it did not end within ``timeout``.
            RuntimeError: called on the runtime thread (an event callback): ``await`` it there.
        """
        if not self.done() and self._in_runtime_thread():
            raise RuntimeError(
                "ResponseHandle.result() blocks, and this is the realtime runtime thread (an "
                "event callback?): use `await handle` instead"
            )
        try:
            result = self._future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"response {self.id or '(not created)'} not done yet") from None
        return _checked(result)

    def __await__(self) -> Generator[Any, None, ResponseResult]:
        result = yield from asyncio.wrap_future(self._future).__await__()
        return _checked(result)

    def cancel(self) -> None:
        """Ask the server to cancel this response (``response.cancel`` with its id).

        Before its ``response.created`` the cancel is sent as soon as it arrives. The handle
        then ends as cancelled (:class:`ResponseError`, with what arrived before); cancelling
        a response that has ended does nothing.
        """
        if self.done() or self.cancel_wanted:
            return
        self.cancel_wanted = True
        if self._cancel is not None:
            self._cancel(self)

    def add_done_callback(self, callback: Callable[[ResponseHandle], Any]) -> None:
        """Call ``callback(handle)`` once it ends (at once if it has), on the thread ending it."""
        self._future.add_done_callback(lambda _future: callback(self))

    # -- filled by the tracker (runtime loop) --------------------------------------------
    def _add_audio(self, delta: str) -> None:
        if self._audio_truncated:
            return
        samples = decode_base64(delta)
        room = MAX_AUDIO_SECONDS * _RATE - self._samples
        if len(samples) > room:
            samples, self._audio_truncated = samples[:room], True
        self._audio.append(samples)
        self._samples += len(samples)

    def _finish(self, status: str, response: dict | None, error: dict | None = None) -> None:
        if self.done():
            return
        response = response or {}
        audio = np.concatenate(self._audio) if self._audio else np.zeros(0, np.int16)
        items = copy.deepcopy(response.get("output") or [])
        text = "".join(self._text) or _item_texts(items, "text")
        transcript = "".join(self._transcript) or _item_texts(items, "transcript")
        details = response.get("status_details")
        if error is None and isinstance(details, dict) and isinstance(details.get("error"), dict):
            error = details["error"]
        result = ResponseResult(
            id=self.id,
            status=status,
            out_of_band=self.out_of_band,
            text=text,
            transcript=transcript,
            audio=audio,
            items=items,
            usage=copy.deepcopy(response.get("usage")),
            metadata=copy.deepcopy(response.get("metadata", self._metadata)),
            status_details=copy.deepcopy(details),
            error=copy.deepcopy(error),
            audio_truncated=self._audio_truncated,
        )
        self._audio = []
        self._future.set_result(result)
        for twin in self._twins:
            twin.id = self.id
            if not twin.done():
                twin._future.set_result(result)


def _checked(result: ResponseResult) -> ResponseResult:
    if result.status in ("completed", "incomplete"):
        return result
    what = result.id or "the requested response"
    if result.status == "cancelled":
        reason = (result.status_details or {}).get("reason")
        message = f"response {what} was cancelled" + (f" ({reason})" if reason else "")
    elif result.status == "lost":
        message = (
            f"response {what} was lost: the session ended before it finished; ask again "
            "(after a reconnect the conversation continues, out-of-band requests are not re-sent)"
        )
    else:
        error = result.error or {}
        detail = error.get("message") or error.get("code") or "no reason given"
        verb = "was refused" if result.status == "refused" else "failed"
        message = f"response {what} {verb}: {detail}"
    return _raise(ResponseError(message, result))


def _raise(exc: Exception) -> Any:
    raise exc


def _item_texts(items: list[dict], key: str) -> str:
    kinds = {"text": ("output_text", "text"), "transcript": ("output_audio", "audio")}[key]
    return "".join(
        part.get(key) or ""
        for item in items
        if isinstance(item, dict)
        for part in item.get("content") or []
        if isinstance(part, dict) and part.get("type") in kinds
    )


class ResponseTracker:
    """Routes response events to handles (pure; the client feeds it on its runtime loop).

    Args:
        new_handle: makes a handle for a response the client did not ask for (server VAD).
        on_finished: called with each handle as it ends (the client's ``response.finished``).
    """

    def __init__(
        self,
        new_handle: Callable[[dict | None], ResponseHandle],
        on_finished: Callable[[ResponseHandle], None],
    ) -> None:
        self._new_handle = new_handle
        self._on_finished = on_finished
        self._running: dict[str, ResponseHandle] = {}  # response id -> handle
        self._in_band_queued: deque[ResponseHandle] = deque()  # asked, not sent yet
        self._in_band_sent: OrderedDict[str, list[ResponseHandle]] = OrderedDict()  # event id
        self._oob_sent: OrderedDict[str, ResponseHandle] = OrderedDict()  # event id -> handle

    def is_out_of_band(self, response_id: Any) -> bool:
        """Whether ``response_id`` is a running out-of-band response."""
        handle = self._running.get(response_id) if isinstance(response_id, str) else None
        return handle is not None and handle.out_of_band

    # -- requests ---------------------------------------------------------------------------
    def queued_in_band(self, handle: ResponseHandle) -> None:
        """An in-band request went to the sequencer (it is sent when its turn comes)."""
        self._in_band_queued.append(handle)

    def sent_in_band(self, event_id: str, params: dict | None) -> None:
        """The sequencer sent ``params``: the queued handles asking for them go with it.

        Parameterless requests are coalesced by the sequencer, so each queued handle with the
        same parameters at the head of the queue is answered by this one response.
        """
        handles = []
        while self._in_band_queued and self._in_band_queued[0].params is params:
            handles.append(self._in_band_queued.popleft())
        self._in_band_sent[event_id] = handles

    def sent_out_of_band(self, event_id: str, handle: ResponseHandle) -> None:
        """An out-of-band request left at once with this ``event_id``."""
        self._oob_sent[event_id] = handle

    # -- server events ----------------------------------------------------------------------
    def on_response_created(self, event: dict, in_flight: str | None) -> ResponseHandle:
        """``response.created``; ``in_flight``: the sequencer's request it may answer."""
        response = event.get("response") or {}
        response_id = response.get("id")
        handle = None
        if "conversation_id" in response and response["conversation_id"] is None:
            handle = self._match_out_of_band(response.get("metadata"))
        elif in_flight is not None and in_flight in self._in_band_sent:
            handles = self._in_band_sent.pop(in_flight)
            handle = handles[0] if handles else None
            if handle is not None:
                handle._twins = handles[1:]  # coalesced requests share the response
        if handle is None:
            handle = self._new_handle(None)
        if isinstance(response_id, str):
            handle.id = response_id
            self._running[response_id] = handle
            for twin in handle._twins:
                twin.id = response_id
        return handle

    def _match_out_of_band(self, metadata: Any) -> ResponseHandle | None:
        for event_id, handle in self._oob_sent.items():
            if handle._metadata == metadata:
                del self._oob_sent[event_id]
                return handle
        if self._oob_sent:  # the server changed the metadata: take the oldest
            return self._oob_sent.popitem(last=False)[1]
        return None

    def on_output_event(self, event: dict) -> None:
        """A delta of some response (text, transcript or audio)."""
        handle = self._running.get(event.get("response_id"))  # type: ignore[arg-type]
        if handle is None:
            return
        delta = event.get("delta")
        if not isinstance(delta, str):
            return
        kind = event.get("type")
        if kind == "response.output_text.delta":
            handle._text.append(delta)
        elif kind == "response.output_audio_transcript.delta":
            handle._transcript.append(delta)
        elif kind == "response.output_audio.delta":
            handle._add_audio(delta)

    def on_response_done(self, event: dict) -> ResponseHandle | None:
        """``response.done``: its handle ends with the response's status."""
        response = event.get("response") or {}
        handle = self._running.pop(response.get("id"), None)  # type: ignore[arg-type]
        if handle is None:
            return None
        status = response.get("status")
        self._end(handle, status if isinstance(status, str) else "failed", response)
        return handle

    def on_error(self, event: dict) -> bool:
        """``error``: a refusal of one of our requests ends its handles (True if it did).

        ``conversation_already_has_active_response`` is not a refusal of an in-band request:
        the sequencer asks again after the active response, so its handles wait for that.
        """
        error = event.get("error") or {}
        event_id = error.get("event_id")
        if not isinstance(event_id, str):
            return False
        if event_id in self._oob_sent:
            self._end(self._oob_sent.pop(event_id), "refused", None, error)
            return True
        if event_id in self._in_band_sent:
            handles = self._in_band_sent.pop(event_id)
            if error.get("code") == "conversation_already_has_active_response":
                self._in_band_queued.extendleft(reversed(handles))
                return False
            for handle in handles:
                self._end(handle, "refused", None, error)
            return True
        return False

    def abandon(self, handle: ResponseHandle, message: str) -> None:
        """A request that could not be sent (the session was gone): its handle ends as lost."""
        self._end(handle, "lost", None, {"type": "client_error", "message": message})

    def expire(self, event_id: str | None, response_id: str | None, message: str) -> None:
        """The client gave up waiting for a response (the server never ended it)."""
        error = {"type": "client_error", "code": "response_timeout", "message": message}
        handles = self._in_band_sent.pop(event_id, []) if event_id else []
        running = self._running.pop(response_id, None) if response_id else None
        for handle in [*handles, *([running] if running is not None else [])]:
            self._end(handle, "failed", None, error)

    def on_session_lost(self, keep_queued: bool) -> None:
        """The session ended: everything sent or running is lost.

        Args:
            keep_queued: the client reconnects and re-sends the in-band requests it still owes
                (queued ones keep their handles for it); otherwise those end as lost too.
        """
        sent = [h for handles in self._in_band_sent.values() for h in handles]
        lost = list(self._oob_sent.values()) + list(self._running.values())
        if keep_queued:  # never answered: the sequencer owes them and asks the next session
            self._in_band_queued.extendleft(reversed(sent))
        else:
            lost += sent
            lost += list(self._in_band_queued)
            self._in_band_queued.clear()
        self._in_band_sent.clear()
        self._oob_sent.clear()
        self._running.clear()
        for handle in lost:
            self._end(handle, "lost", None)

    def _end(
        self, handle: ResponseHandle, status: str, response: dict | None, error: dict | None = None
    ) -> None:
        if handle.done():
            return
        handle._finish(status, response, error)
        self._on_finished(handle)
