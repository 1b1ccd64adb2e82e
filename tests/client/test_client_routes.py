"""The client's router composes the collaborators' own handlers (issue 16, point 3): one table
says who reacts to each server event, each collaborator owns its ``_on_<event>`` handlers, and
the router holds no handler of its own."""

from __future__ import annotations

import inspect

import pytest

from realtime_widget.client import RealtimeClient
from realtime_widget.client._events import _HANDLERS, OWNERS, ServerEvents
from realtime_widget.conversation import RealtimeConversation

_URL = "ws://127.0.0.1:9/v1/realtime"  # never connected: the wiring is all these tests read


@pytest.fixture
def client():
    made = RealtimeClient(url=_URL, api_key="sk-test")
    yield made
    made.close()


def test_router_runs_the_handlers_of_each_route_in_the_order_listed(client):
    for kind, route in _HANDLERS.items():
        handlers = client._events._routes[kind]
        assert len(handlers) == len(route.owners), kind
        for handler in handlers:  # each owner's method of the route's name (aliases included)
            assert handler == getattr(handler.__self__, route.__name__), kind
        owners = [type(h.__self__).__name__ for h in handlers]
        assert len(set(owners)) == len(owners), (kind, owners)
    done = [type(h.__self__).__name__ for h in client._events._routes["response.done"]]
    assert done == ["UsageMeter", "Connection", "ResponseRequests", "ToolCalls"]


def test_router_in_relay_mode_routes_nothing_to_the_tools():
    relay = RealtimeClient(url=_URL, api_key="sk-test", relay=True)
    try:
        for kind in ("response.done", "response.output_item.done"):
            owners = [type(h.__self__).__name__ for h in relay._events._routes[kind]]
            assert "ToolCalls" not in owners, kind
    finally:
        relay.close()


def test_every_collaborator_handler_is_on_a_route_that_names_its_owner(client):
    routed = {
        (type(handler.__self__), route.__name__)
        for kind, route in _HANDLERS.items()
        for handler in client._events._routes[kind]
    }
    for owner in {owner for owner, _ in routed}:
        for name, _ in inspect.getmembers(owner, inspect.isfunction):
            if name.startswith("_on_"):  # a handler no route calls would silently do nothing
                assert (owner, name) in routed, f"{owner.__name__}.{name} is never called"


def test_router_refuses_collaborators_it_has_no_route_for_or_lacks_one_it_needs():
    conversation = RealtimeConversation()
    hooks = {
        "replayed": set(),
        "claim": lambda kind, event: False,
        "observe": lambda kind, event, result: None,
        "on_client_event": lambda event: None,
    }
    with pytest.raises(ValueError, match="needs the collaborators"):
        ServerEvents(conversation, print, print, owners={"connection": None}, **hooks)
    with pytest.raises(AttributeError, match="_on_session_created"):
        ServerEvents(
            conversation,
            print,
            print,
            owners={n: None for n in OWNERS} | {"carryover": 1},
            **hooks,
        )
    router = ServerEvents(conversation, print, print, owners=dict.fromkeys(OWNERS), **hooks)
    assert all(handlers == () for handlers in router._routes.values())
