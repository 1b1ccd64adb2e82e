"""The connection lifecycle of ``RealtimeClient``: one state machine, one table (issue 13).

A session cannot be resumed (DESIGN §6): a drop means a new session, opened after a backoff and
seeded with the history. This module owns *when* that happens and when it stops::

    CLOSED -connect-> CONNECTING -opened-> OPEN -session_created-> READY -healthy-> HEALTHY
                          | failed          |                        |                |
                          v                 +-- dropped -------------+----------------+
                        CLOSED              v
              (an attempt left)  BACKING_OFF -retry-> RECONNECTING -opened-> OPEN (history replayed)
                                      ^                   |
                                      +----- failed ------+
              (none left)        GAVE_UP         (auto_reconnect off: CLOSED)

Rules, in the style of h11's ``_state.py``:

- Attempts count from the first drop and reset only when a session has proved *healthy* (a
  response completed, or it stayed up for a while: the caller decides and sends ``HEALTHY``), or
  when the user connects. ``session.created`` alone proves nothing: a server that accepts, says
  hello and closes (1008, 1011) would otherwise be retried forever.
- After ``max_attempts`` attempts the machine gives up (``GAVE_UP``): the caller reports an
  ``error`` and a ``close``; the user's ``connect()`` starts afresh.
- Every (state, event) pair has an entry: a transition, an explicit "stay", or ``None`` for
  pairs the client never produces (a bug: :class:`LifecycleError`). Server-driven events
  (``SESSION_CREATED``, ``HEALTHY``, ``DROPPED``, ``CLOSED``) are accepted in every state, since
  a late event may arrive after the user has already closed.

Pure: no clock, socket or loop; the caller runs the backoff timer and the health timer.
"""

from __future__ import annotations

import enum

__all__ = ["ConnectionLifecycle", "Event", "LifecycleError", "State"]


class State(enum.Enum):
    """Where the connection is."""

    CLOSED = "closed"  # never connected, closed by the user, or cleanly by the server
    CONNECTING = "connecting"  # the user's connect(): handshake in progress
    OPEN = "open"  # socket open, no session.created yet (a reconnect's replay is sent)
    READY = "ready"  # session.created: the session works, not proven yet
    HEALTHY = "healthy"  # a response completed (or it stayed up): attempts reset
    BACKING_OFF = "backing_off"  # dropped; waiting before the next attempt
    RECONNECTING = "reconnecting"  # an attempt's handshake in progress
    GAVE_UP = "gave_up"  # out of attempts; connect() starts afresh


class Event(enum.Enum):
    """What happened."""

    CONNECT = "connect"  # the user called connect()
    OPENED = "opened"  # a handshake succeeded
    FAILED = "failed"  # a handshake failed (refused, unreachable, timeout)
    SESSION_CREATED = "session_created"
    HEALTHY = "healthy"  # a response completed, or the session stayed up long enough
    DROPPED = "dropped"  # the connection ended with an error (not by the user)
    CLOSED = "closed"  # the user closed it, or the server closed it cleanly
    RETRY = "retry"  # the backoff delay elapsed: try again


class LifecycleError(RuntimeError):
    """The client fed an event its own state cannot produce (a bug in the client, not the peer)."""


_RETRY = "retry-or-give-up"  # BACKING_OFF if an attempt is left, else GAVE_UP (or CLOSED)

_S, _E = State, Event

TRANSITIONS: dict[State, dict[Event, State | str | None]] = {
    _S.CLOSED: {
        _E.CONNECT: _S.CONNECTING,
        _E.OPENED: None,
        _E.FAILED: None,
        _E.SESSION_CREATED: _S.CLOSED,  # late, after the user closed
        _E.HEALTHY: _S.CLOSED,
        _E.DROPPED: _S.CLOSED,
        _E.CLOSED: _S.CLOSED,
        _E.RETRY: None,
    },
    _S.CONNECTING: {
        _E.CONNECT: _S.CONNECTING,  # a second connect() while the first one runs
        _E.OPENED: _S.OPEN,
        _E.FAILED: _S.CLOSED,  # the user's connect() raises; no automatic retry
        _E.SESSION_CREATED: _S.CONNECTING,
        _E.HEALTHY: _S.CONNECTING,
        _E.DROPPED: _S.CONNECTING,  # the old socket's close, late
        _E.CLOSED: _S.CLOSED,
        _E.RETRY: None,
    },
    _S.OPEN: {
        _E.CONNECT: None,  # connect() returns at once while connected
        _E.OPENED: _S.OPEN,  # two connect() calls raced: the other one's handshake
        _E.FAILED: _S.OPEN,
        _E.SESSION_CREATED: _S.READY,
        _E.HEALTHY: _S.OPEN,  # a response before session.created: a broken server, no proof
        _E.DROPPED: _RETRY,
        _E.CLOSED: _S.CLOSED,
        _E.RETRY: None,
    },
    _S.READY: {
        _E.CONNECT: None,
        _E.OPENED: _S.READY,  # two connect() calls raced: the other one's handshake
        _E.FAILED: _S.READY,
        _E.SESSION_CREATED: _S.READY,
        _E.HEALTHY: _S.HEALTHY,
        _E.DROPPED: _RETRY,
        _E.CLOSED: _S.CLOSED,
        _E.RETRY: None,
    },
    _S.HEALTHY: {
        _E.CONNECT: None,
        _E.OPENED: _S.HEALTHY,  # two connect() calls raced: the other one's handshake
        _E.FAILED: _S.HEALTHY,
        _E.SESSION_CREATED: _S.HEALTHY,
        _E.HEALTHY: _S.HEALTHY,
        _E.DROPPED: _RETRY,
        _E.CLOSED: _S.CLOSED,
        _E.RETRY: None,
    },
    _S.BACKING_OFF: {
        _E.CONNECT: _S.CONNECTING,  # the user's connect() cancels the reconnect
        _E.OPENED: None,
        _E.FAILED: None,
        _E.SESSION_CREATED: _S.BACKING_OFF,
        _E.HEALTHY: _S.BACKING_OFF,
        _E.DROPPED: _S.BACKING_OFF,
        _E.CLOSED: _S.CLOSED,
        _E.RETRY: _S.RECONNECTING,
    },
    _S.RECONNECTING: {
        _E.CONNECT: _S.CONNECTING,
        _E.OPENED: _S.OPEN,
        _E.FAILED: _RETRY,
        _E.SESSION_CREATED: _S.RECONNECTING,
        _E.HEALTHY: _S.RECONNECTING,
        _E.DROPPED: _S.RECONNECTING,
        _E.CLOSED: _S.CLOSED,
        _E.RETRY: None,
    },
    _S.GAVE_UP: {
        _E.CONNECT: _S.CONNECTING,
        _E.OPENED: None,
        _E.FAILED: None,
        _E.SESSION_CREATED: _S.GAVE_UP,
        _E.HEALTHY: _S.GAVE_UP,
        _E.DROPPED: _S.GAVE_UP,
        _E.CLOSED: _S.GAVE_UP,
        _E.RETRY: None,
    },
}
"""state -> event -> next state (``_RETRY``: decided by the attempts left; ``None``: a bug)."""


class ConnectionLifecycle:
    """The lifecycle of one client's connection: state, reconnect attempts, giving up.

    Args:
        auto_reconnect: reopen a dropped session (else a drop ends in ``CLOSED``).
        max_attempts: reconnect attempts between two healthy sessions before giving up.
    """

    def __init__(self, auto_reconnect: bool = True, max_attempts: int = 5) -> None:
        self.auto_reconnect = auto_reconnect
        self.max_attempts = max_attempts
        self.state = State.CLOSED
        self.attempts = 0
        """Reconnect attempts since the last healthy session (or the user's connect)."""

    @property
    def is_reconnecting(self) -> bool:
        """Waiting for, or making, a reconnect attempt."""
        return self.state in (State.BACKING_OFF, State.RECONNECTING)

    def handle(self, event: Event) -> State:
        """Apply ``event``; returns the new state.

        Raises:
            LifecycleError: ``event`` cannot happen in this state (the caller's bug).
        """
        target = TRANSITIONS[self.state][event]
        if target is None:
            raise LifecycleError(f"{event.value!r} cannot happen while {self.state.value!r}")
        if target == _RETRY:
            if not self.auto_reconnect:
                target = State.CLOSED
            elif self.attempts < self.max_attempts:
                self.attempts += 1
                target = State.BACKING_OFF
            else:
                target = State.GAVE_UP
        if event is Event.CONNECT or target is State.HEALTHY:
            self.attempts = 0  # a fresh start, or a session that proved itself
        assert isinstance(target, State)
        self.state = target
        return target
