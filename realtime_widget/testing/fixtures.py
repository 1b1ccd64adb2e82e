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

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from realtime_widget.client import RealtimeClient
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.testing.brains import ScriptedBrain, SwappableBrain
from realtime_widget.testing.helpers import converse

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
