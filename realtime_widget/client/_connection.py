"""The connection's life around :class:`~realtime_widget.client._lifecycle.ConnectionLifecycle`.

The lifecycle (a pure transition table) decides *what* happens when: a drop backs off and
retries, a session that never proves healthy is given up. :class:`Connection` makes it happen:
it opens and closes the transport, runs the backoff task and the health timer, and dispatches
``reconnecting``, ``reconnected`` and ``close``. It owns the session as the server last
described it, whether ``session.created`` has arrived, and why the last ``connect()`` failed.

What a new, lost or ended session means for the rest of the client is not its business: it is
handed three callables for that (``opened``, ``lost``, ``ended``), plus the transport, the
lifecycle, ``dispatch``, the client's local-error report, and getters for the client's public
``healthy_after`` and ``reconnect_delay`` attributes. Runs on the runtime loop only (DESIGN §3).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from realtime_widget.api import RealtimeAPI, RealtimeConnectionError
from realtime_widget.client._lifecycle import ConnectionLifecycle, Event, State
from realtime_widget.client._reconnect import backoff_delay

__all__ = ["Connection"]

logger = logging.getLogger("realtime_widget.client")


class Connection:
    """Connects, reconnects after a drop, gives up, and closes one client's transport.

    Args:
        api: the transport (``_connect``, ``_disconnect``, ``is_connected``).
        lifecycle: the state machine deciding what a drop leads to.
        dispatch: emits the client's events (``reconnecting``, ``reconnected``, ``close``).
        report: the client's local error (``code``, ``message``), dispatched as ``error``.
        opened: a session was opened (``True``: by a reconnect); starts it and replays the
            history, returns the number of items replayed.
        lost: the session was lost (``True``: a reconnect follows); what it owed is settled.
        ended: the session ended for good (closed by the user, or given up); returns how many
            sends held for a reconnect were dropped.
        healthy_after: seconds a session must stay up to count as healthy (``None``: never).
        reconnect_delay: the first backoff delay in seconds.
    """

    def __init__(
        self,
        api: RealtimeAPI,
        lifecycle: ConnectionLifecycle,
        *,
        dispatch: Callable[[str, Any], None],
        report: Callable[[str, str], None],
        opened: Callable[[bool], int],
        lost: Callable[[bool], None],
        ended: Callable[[], int],
        healthy_after: Callable[[], float | None],
        reconnect_delay: Callable[[], float],
    ) -> None:
        self._api = api
        self.lifecycle = lifecycle
        self._dispatch = dispatch
        self._report = report
        self._opened = opened
        self._lost = lost
        self._ended = ended
        self._healthy_after = healthy_after
        self._reconnect_delay = reconnect_delay
        self.session: dict[str, Any] | None = None
        """The session of the latest ``session.created``/``session.updated``."""
        self.session_created = False
        """Whether this connection's ``session.created`` has arrived."""
        self.failure: str | None = None
        """Why the last ``connect()`` failed, until one works (for "not connected" errors)."""
        self._user_closed = False
        self._task: asyncio.Task[None] | None = None
        self._health_timer: asyncio.TimerHandle | None = None

    @property
    def is_reconnecting(self) -> bool:
        """Whether a dropped session is being reopened."""
        return self.lifecycle.is_reconnecting

    # ------------------------------------------------------------------ the user's requests
    async def connect(self) -> None:
        """Open the transport and start a session (the history, if any, is replayed).

        Raises:
            RealtimeConnectionError: the handshake was refused; also kept in :attr:`failure`.
        """
        if self._api.is_connected:
            return
        self._cancel_reconnect()
        self._user_closed = False
        self.lifecycle.handle(Event.CONNECT)
        try:
            await self._api.connect_async()
        except BaseException as exc:  # refused, unreachable, or the caller's timeout cancelled it
            self.lifecycle.handle(Event.FAILED)
            if isinstance(exc, Exception):  # kept for the next "not connected" error
                self.failure = str(exc)
            raise
        self.failure = None
        self.lifecycle.handle(Event.OPENED)
        self.session_created = False
        self._opened(False)

    async def disconnect(self) -> None:
        """Close the transport; stops any reconnection (``close`` follows)."""
        self.failure = None
        self._user_closed = True
        self.session_created = False
        self._ended()
        self._stop_health_timer()
        self.lifecycle.handle(Event.CLOSED)
        reconnecting = self._cancel_reconnect()
        if self._api.is_connected:
            await self._api.disconnect_async()
        elif reconnecting:
            self._dispatch("close", {"type": "close", "code": None, "reason": "", "error": False})

    # ------------------------------------------------------------------ server events
    def on_session_created(self, event: dict) -> None:
        """``session.created``: the session works (not proven healthy yet)."""
        self.session = event.get("session")
        self.session_created = True
        self.lifecycle.handle(Event.SESSION_CREATED)
        healthy_after = self._healthy_after()
        if self._health_timer is None and healthy_after is not None:
            # Staying up this long also proves the session (as a completed response does).
            self._health_timer = asyncio.get_running_loop().call_later(
                healthy_after, self.lifecycle.handle, Event.HEALTHY
            )

    def on_session_updated(self, event: dict) -> None:
        """``session.updated``: the server's view of the settings."""
        self.session = event.get("session")

    def healthy(self) -> None:
        """A response completed: this session works, reconnect attempts start afresh."""
        self.lifecycle.handle(Event.HEALTHY)

    # The client's router (``_events``) calls these, named after the wire events.
    def _on_session_created(self, event: dict, result: dict) -> None:
        self.on_session_created(event)

    def _on_session_updated(self, event: dict, result: dict) -> None:
        self.on_session_updated(event)

    def _on_response_done(self, event: dict, result: dict) -> None:
        if (event.get("response") or {}).get("status") == "completed":
            self.healthy()  # this session works: attempts start afresh

    def on_close(self, event: dict) -> None:
        """The transport closed (``close`` of ``RealtimeAPI``): reconnect, give up, or end."""
        self.session_created = False
        self._stop_health_timer()
        dropped = bool(event.get("error")) and not self._user_closed
        state = self.lifecycle.handle(Event.DROPPED if dropped else Event.CLOSED)
        self._lost(state is State.BACKING_OFF)
        if state is State.BACKING_OFF:
            loop = asyncio.get_running_loop()
            self._task = loop.create_task(self._reconnect(event))
        elif state is State.GAVE_UP:  # a session that never proved healthy, once too often
            self._give_up(event, _closed_with(event))
        else:
            self._dispatch("close", event)

    # ------------------------------------------------------------------ reconnecting
    async def _reconnect(self, closed: dict) -> None:
        last_error = _closed_with(closed)
        # The lifecycle counts attempts until a session proves healthy: a server that accepts
        # the handshake, says hello and closes gets max_reconnect_attempts tries, not forever.
        while self.lifecycle.state is State.BACKING_OFF:
            attempt = self.lifecycle.attempts
            delay = backoff_delay(attempt, self._reconnect_delay())
            self._dispatch(
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
            self.lifecycle.handle(Event.RETRY)
            try:
                await self._api.connect_async()
            except RealtimeConnectionError as exc:
                last_error = str(exc)
                logger.warning("= reconnect attempt %d failed: %s", attempt, exc)
                self.lifecycle.handle(Event.FAILED)
                continue
            self.lifecycle.handle(Event.OPENED)
            self.session_created = False
            replayed = self._opened(True)
            self._task = None
            self._dispatch(
                "reconnected",
                {"type": "reconnected", "attempt": attempt, "replayed_items": replayed},
            )
            return
        self._task = None
        if self.lifecycle.state is State.GAVE_UP:
            self._give_up(closed, last_error)
        else:  # auto_reconnect was switched off meanwhile: the session ends here
            self._ended()
            self._dispatch("close", closed)

    def _give_up(self, closed: dict, last_error: str) -> None:
        dropped = self._ended()
        if dropped:
            last_error += f"; {dropped} message/audio sends made meanwhile were dropped"
        self._report(
            "reconnect_failed",
            f"could not reconnect after {self.lifecycle.attempts} attempts ({last_error}); "
            "call connect() to try again (the conversation is kept)",
        )
        self._dispatch("close", closed)

    def _cancel_reconnect(self) -> bool:
        task, self._task = self._task, None
        if task is None or task.done():
            return False
        task.cancel()
        return True

    def _stop_health_timer(self) -> None:
        timer, self._health_timer = self._health_timer, None
        if timer is not None:
            timer.cancel()


def _closed_with(closed: dict) -> str:
    return f"closed with {closed.get('code')} {closed.get('reason') or ''}".strip()
