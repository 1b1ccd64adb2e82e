"""The response watchdog: give up on a response the server never ends (issue 13).

A broken server may fail a response without ``response.done``; since at most one in-band
``response.create`` is in flight (``ResponseSequencer``), every later request would wait behind
it forever. Each ``response.*`` event (and each ``response.create`` sent) is a sign of life;
after ``response_timeout`` seconds without one while a response is active, the client reports a
``response_timeout`` error, ends the handles waiting for it, and lets the next request go.

:class:`ResponseWatchdog` owns the timer and the time of the last sign of life; it is handed the
sequencer and the handle tracker it expires, the client's local-error report, and a getter for
``response_timeout`` (a public, settable attribute of the client). One timer at a time, re-armed
from its own callback, so a stream of deltas costs no timer churn. Runs on the runtime loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from realtime_widget.client._handles import ResponseTracker
from realtime_widget.client._responses import ResponseSequencer

__all__ = ["ResponseWatchdog"]

logger = logging.getLogger("realtime_widget.client")


class ResponseWatchdog:
    """Gives up on the running response after ``timeout()`` seconds without a sign of life.

    Args:
        responses: the in-band sequencer (is a response active; ``expire`` sends the next).
        handles: the handle tracker (the expired response's handles end with the error).
        report: the client's local error (``code``, ``message``), dispatched as ``error``.
        timeout: the current ``response_timeout`` in seconds (``None``: no watchdog).
    """

    def __init__(
        self,
        responses: ResponseSequencer,
        handles: ResponseTracker,
        report: Callable[[str, str], None],
        timeout: Callable[[], float | None],
    ) -> None:
        self._responses = responses
        self._handles = handles
        self._report = report
        self._timeout = timeout
        self._timer: asyncio.TimerHandle | None = None
        self._seen = 0.0  # loop time of the last response.* event or response.create

    def activity(self) -> None:
        """A sign of life of the running response: the clock starts again."""
        if self._timeout() is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on the runtime loop (a test driving the parts): no watchdog
            return
        self._seen = loop.time()
        if self._timer is None:  # one timer, re-armed from its own callback
            self._timer = loop.call_later(self._timeout(), self._check)

    def stop(self) -> None:
        """The session ended (or the client was reset): no response to watch."""
        timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()

    def _check(self) -> None:
        self._timer = None
        timeout = self._timeout()
        if not self._responses.is_active or timeout is None:
            return
        loop = asyncio.get_running_loop()
        left = self._seen + timeout - loop.time()
        if left > 0:
            self._timer = loop.call_later(left, self._check)
            return
        # Their fault (a broken server that failed a response without response.done): without
        # this, every later create_response() would wait behind it forever.
        logger.warning("= no response.* event for %s s: response given up", timeout)
        message = (
            f"the server sent nothing about the running response for {timeout} s "
            "and never ended it (no response.done); the client stopped waiting for it"
        )
        self._report("response_timeout", message)
        self._handles.expire(self._responses.in_flight, self._responses.active_id, message)
        self._responses.expire()  # the next queued request goes now
