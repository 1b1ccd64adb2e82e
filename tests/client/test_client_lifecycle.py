"""The connection lifecycle table (issue 13), state by state and event by event, as h11 tests
its own: every (state, event) pair is either a transition, a stay, or refused as the client's bug.
"""

from __future__ import annotations

import itertools

import pytest

from realtime_widget.client._lifecycle import (
    TRANSITIONS,
    ConnectionLifecycle,
    Event,
    LifecycleError,
    State,
)

# What each pair must do. ``RETRY``: an attempt if one is left, else giving up. ``BUG``: the
# client never produces it. Anything else: the next state.
RETRY, BUG = "retry", "bug"
_S, _E = State, Event
EXPECTED: dict[tuple[State, Event], State | str] = {
    # the user connects from rest, and on failure comes back to rest
    (_S.CLOSED, _E.CONNECT): _S.CONNECTING,
    (_S.GAVE_UP, _E.CONNECT): _S.CONNECTING,
    (_S.CONNECTING, _E.CONNECT): _S.CONNECTING,
    (_S.BACKING_OFF, _E.CONNECT): _S.CONNECTING,
    (_S.RECONNECTING, _E.CONNECT): _S.CONNECTING,
    (_S.CONNECTING, _E.OPENED): _S.OPEN,
    (_S.CONNECTING, _E.FAILED): _S.CLOSED,
    # a session starts, then proves itself
    (_S.OPEN, _E.SESSION_CREATED): _S.READY,
    (_S.READY, _E.HEALTHY): _S.HEALTHY,
    (_S.OPEN, _E.HEALTHY): _S.OPEN,  # no session yet: proves nothing
    # drops, backoff, attempts
    (_S.OPEN, _E.DROPPED): RETRY,
    (_S.READY, _E.DROPPED): RETRY,
    (_S.HEALTHY, _E.DROPPED): RETRY,
    (_S.BACKING_OFF, _E.RETRY): _S.RECONNECTING,
    (_S.RECONNECTING, _E.OPENED): _S.OPEN,
    (_S.RECONNECTING, _E.FAILED): RETRY,
    # two connect() calls racing
    (_S.OPEN, _E.OPENED): _S.OPEN,
    (_S.READY, _E.OPENED): _S.READY,
    (_S.HEALTHY, _E.OPENED): _S.HEALTHY,
    (_S.OPEN, _E.FAILED): _S.OPEN,
    (_S.READY, _E.FAILED): _S.READY,
    (_S.HEALTHY, _E.FAILED): _S.HEALTHY,
    # giving up stays given up until the user connects
    (_S.GAVE_UP, _E.CLOSED): _S.GAVE_UP,
}
for state in State:  # the user's close, and late server events, are fine anywhere
    EXPECTED.setdefault((state, _E.CLOSED), _S.CLOSED)
    for late in (_E.SESSION_CREATED, _E.HEALTHY, _E.DROPPED):
        EXPECTED.setdefault((state, late), state)
for pair in itertools.product(State, Event):
    EXPECTED.setdefault(pair, BUG)


def test_lifecycle_table_has_an_entry_for_every_state_and_event():
    assert set(TRANSITIONS) == set(State)
    for state, row in TRANSITIONS.items():
        assert set(row) == set(Event), state


@pytest.mark.parametrize(("state", "event"), list(itertools.product(State, Event)))
def test_lifecycle_every_state_and_event(state, event):
    expected = EXPECTED[(state, event)]
    machine = ConnectionLifecycle(max_attempts=2)
    machine.state, machine.attempts = state, 1
    if expected == BUG:
        with pytest.raises(LifecycleError, match=event.value):
            machine.handle(event)
        assert machine.state is state  # refused: nothing changed
        return
    if expected == RETRY:
        assert machine.handle(event) is _S.BACKING_OFF
        assert machine.attempts == 2
        machine.state = state  # the last attempt is used up: the next one gives up
        assert machine.handle(event) is _S.GAVE_UP
        assert machine.attempts == 2
        return
    assert machine.handle(event) is expected
    fresh = event is _E.CONNECT or expected is _S.HEALTHY
    assert machine.attempts == (0 if fresh else 1)


@pytest.mark.parametrize("state", [_S.OPEN, _S.READY, _S.HEALTHY])
def test_lifecycle_drop_without_auto_reconnect_closes(state):
    machine = ConnectionLifecycle(auto_reconnect=False)
    machine.state = state
    assert machine.handle(_E.DROPPED) is _S.CLOSED
    assert machine.attempts == 0


def test_lifecycle_session_created_alone_does_not_reset_attempts():
    machine = ConnectionLifecycle(max_attempts=3)
    machine.handle(_E.CONNECT)
    machine.handle(_E.OPENED)
    seen = []
    while machine.handle(_E.DROPPED) is _S.BACKING_OFF:  # accept, hello, close; again and again
        seen.append(machine.attempts)
        machine.handle(_E.RETRY)
        machine.handle(_E.OPENED)
        machine.handle(_E.SESSION_CREATED)
    assert seen == [1, 2, 3]
    assert machine.state is _S.GAVE_UP
    assert not machine.is_reconnecting
    assert machine.handle(_E.CONNECT) is _S.CONNECTING and machine.attempts == 0


def test_lifecycle_a_healthy_session_starts_the_count_afresh():
    machine = ConnectionLifecycle(max_attempts=1)
    for _ in range(3):
        machine.state = _S.READY
        assert machine.handle(_E.HEALTHY) is _S.HEALTHY
        assert machine.handle(_E.DROPPED) is _S.BACKING_OFF
        assert machine.is_reconnecting and machine.attempts == 1
        machine.handle(_E.RETRY)
        assert machine.handle(_E.OPENED) is _S.OPEN
