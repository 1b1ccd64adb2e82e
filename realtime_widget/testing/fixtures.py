"""pytest fixtures for testing your own tools against the embedded server, with no network.

Enable the plugin in your ``conftest.py`` (or a test module)::

    pytest_plugins = ["realtime_widget.testing.fixtures"]

Then::

    from realtime_widget.testing import Call, converse

    def add(a: int, b: int) -> int:
        "Add two integers."
        return a + b

    def test_model_gets_the_sum(realtime_client, scripted_brain):
        scripted_brain([Call("add", {"a": 2, "b": 3}), "The sum is 5."])
        realtime_client.add_tool(add)
        reply = converse(realtime_client, "what is 2 + 3?")
        [call] = realtime_client.tools.history
        assert call.parsed_arguments == {"a": 2, "b": 3} and call.output == "5"
        assert reply["formatted"]["transcript"] == "The sum is 5."

Fixtures (function scope; sync, so they work in plain and async tests alike):

- ``realtime_server``: a :class:`~realtime_widget.server.LocalRealtimeServer` on loopback,
  sending audio as fast as possible; its brain is a :class:`SwappableBrain` (echo by default).
  Override ``realtime_server_options`` (a dict of ``LocalRealtimeServer`` arguments) to change
  it, e.g. ``speed=1.0`` for real-time audio.
- ``realtime_client``: a connected :class:`~realtime_widget.client.RealtimeClient` against it
  (session created), closed after the test. Override ``realtime_client_options`` for settings.
- ``scripted_brain``: ``scripted_brain(script)`` makes the server answer with a
  :class:`ScriptedBrain` from the next response on, and returns it (``.contexts`` lists what the
  model was shown).

Everything runs on the shared runtime thread (DESIGN §3); no network, no key.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from realtime_widget.client import RealtimeClient
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.testing.brains import ScriptedBrain, SwappableBrain

__all__ = [
    "converse",
    "realtime_client",
    "realtime_client_options",
    "realtime_server",
    "realtime_server_options",
    "scripted_brain",
]

LOCAL_KEY = "sk-local-test"
"""The key the fixtures' server requires and their client sends (a local stand-in, not a secret)."""


def converse(client: RealtimeClient, text: str, timeout: float = 10.0) -> dict[str, Any]:
    """Send a user message and block until the model has finished answering it.

    Waits through tool calls: it returns after the first ``response.done`` whose output has no
    function call (the model's final answer), and gives that response's last item.

    Args:
        client: a connected ``RealtimeClient`` (e.g. the ``realtime_client`` fixture).
        text: the user message.
        timeout: seconds to wait.

    Returns:
        The final response's last conversation item (``["formatted"]["transcript"]`` /
        ``["text"]`` hold the answer).

    Raises:
        TimeoutError: no final answer within ``timeout`` (the message counts the responses).
    """
    finished = threading.Event()
    state: dict[str, Any] = {"responses": 0, "item_id": None}

    def on_event(event: dict[str, Any]) -> None:
        wire = event.get("event") or {}
        if event.get("source") != "server" or wire.get("type") != "response.done":
            return
        state["responses"] += 1
        output = (wire.get("response") or {}).get("output") or []
        if not any(o.get("type") == "function_call" for o in output):
            state["item_id"] = output[-1].get("id") if output else None
            finished.set()

    client.on("realtime.event", on_event)
    try:
        client.send_user_message_content(text)
        if not finished.wait(timeout):
            raise TimeoutError(
                f"no final answer to {text!r} within {timeout} s "
                f"({state['responses']} responses finished); is a tool hanging?"
            )
    finally:
        client.off("realtime.event", on_event)
    item = client.conversation.get_item(state["item_id"]) if state["item_id"] else None
    return item if item is not None else {}


@pytest.fixture
def realtime_server_options() -> dict[str, Any]:
    """``LocalRealtimeServer`` arguments for ``realtime_server``; override to change them."""
    return {}


@pytest.fixture
def realtime_client_options() -> dict[str, Any]:
    """``RealtimeClient`` arguments for ``realtime_client`` (e.g. ``session_config``)."""
    return {}


@pytest.fixture
def realtime_server(realtime_server_options: dict[str, Any]) -> Iterator[LocalRealtimeServer]:
    """The embedded Realtime server for one test (fast audio, swappable brain, loopback)."""
    options = {"speed": 0, "api_key": LOCAL_KEY, **realtime_server_options}
    options["brain"] = SwappableBrain(options.get("brain"))
    with LocalRealtimeServer(**options) as server:
        yield server


@pytest.fixture
def realtime_client(
    realtime_server: LocalRealtimeServer, realtime_client_options: dict[str, Any]
) -> Iterator[RealtimeClient]:
    """A ``RealtimeClient`` connected to ``realtime_server`` (session created); closed after."""
    options = {"url": realtime_server.url, "api_key": realtime_server.api_key or LOCAL_KEY}
    client = RealtimeClient(**{**options, **realtime_client_options})
    client.connect(timeout=10.0)
    if client.wait_for_session_created(timeout=10.0) is None:
        client.close()
        pytest.fail("the embedded server did not send session.created within 10 s")
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def scripted_brain(
    realtime_server: LocalRealtimeServer,
) -> Callable[..., ScriptedBrain]:
    """Factory: ``scripted_brain(script, fallback=None)`` sets the server's answers.

    Each script entry is one response: a ``str`` (a message), ``Say``/``Call``, a dict
    ``{"name", "arguments"}`` (a call), a list of those (parallel calls) or a
    ``callable(context) -> entry``. Once the script is used up, ``fallback`` answers (echo).
    """
    swappable = realtime_server.brain

    def make(script: Iterable[Any], fallback: Any = None) -> ScriptedBrain:
        brain = ScriptedBrain(script, fallback)
        if isinstance(swappable, SwappableBrain):
            swappable.use(brain)
        else:  # a server built without the fixture's swappable brain: new sessions only
            realtime_server.brain = brain
        return brain

    return make
