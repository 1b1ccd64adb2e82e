"""Issue 13: a server that misbehaves on purpose, or is broken, cannot wedge the client.

Each test drives the client (the test's thread plays the notebook) against the embedded server
behind the fault proxy; the proxy turns it into the hostile or broken server of the row.
"""

from __future__ import annotations

import time

import pytest

from realtime_widget.testing.faults import Fault
from tests.helpers import UNIT
from tests.reliability._harness import EscapeGuard, Rig, wait_until

STORY = "Once upon a time a very long story was told, slowly, word after word, to the end."


@pytest.mark.parametrize("code", [1008, 1011])
def test_client_gives_up_on_a_server_that_closes_after_every_session_created(code):
    with EscapeGuard() as guard, Rig(max_reconnect_attempts=3) as rig:
        rig.connect()
        assert rig.say("hello") == "You said: hello"
        rig.proxy.add(Fault("close", match="session.created", times=1000, code=code))
        before = rig.proxy.stats["connections"]
        rig.on_loop(rig.proxy.drop)
        wait_until(lambda: rig.of("close"), 10 * UNIT, "the client giving up")
        time.sleep(0.5 * UNIT)  # and it stays given up
        assert rig.proxy.stats["connections"] - before == 3
        assert [e["attempt"] for e in rig.of("reconnecting")] == [1, 2, 3]
        [error] = [e for e in rig.of("error") if e["error"]["code"] == "reconnect_failed"]
        assert "after 3 attempts" in error["error"]["message"]
        assert f"closed with {code}" in error["error"]["message"]
        assert len(rig.of("close")) == 1 and not rig.client.is_connected
        assert not rig.client.is_reconnecting
    assert guard.escaped == []


def test_client_attempts_reset_once_a_reconnected_session_completes_a_response():
    with EscapeGuard() as guard, Rig(max_reconnect_attempts=2) as rig:
        rig.connect()
        for turn in range(3):  # three drops, each after a healthy session: never gives up
            rig.on_loop(rig.proxy.drop)
            wait_until(lambda turn=turn: len(rig.of("reconnected")) > turn, 10 * UNIT)
            assert rig.say(f"turn {turn}") == f"You said: turn {turn}"
            # Its response.done (which proves the session healthy) follows the item's end.
            wait_until(lambda: not rig.client.response_active, 5 * UNIT, "response.done")
        assert [e["attempt"] for e in rig.of("reconnecting")] == [1, 1, 1]
        assert not rig.of("close") and not rig.of("error")
    assert guard.escaped == []


@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_client_survives_a_frame_nested_too_deeply_to_parse(depth):
    hostile = '{"type": "conversation.item.added", "item": ' + "[" * depth + "]" * depth + "}"
    with EscapeGuard() as guard, Rig() as rig:
        rig.connect()
        rig.on_loop(lambda: rig.proxy.inject(hostile))
        wait_until(lambda: rig.of("error"), 5 * UNIT, "the malformed_frame error")
        [error] = rig.of("error")
        assert error["error"]["code"] == "malformed_frame"
        assert "nested too deeply" in error["error"]["message"]
        assert rig.say("still there?") == "You said: still there?"  # the same connection
        assert not rig.of("reconnecting") and not rig.of("close")
    assert guard.escaped == []


def test_client_stops_waiting_for_a_response_the_server_never_ends():
    # A broken compatible server: the response fails without response.done.
    with EscapeGuard() as guard, Rig(response_timeout=1.0 * UNIT) as rig:
        rig.connect()
        rig.proxy.add(Fault("swallow", match="response.done"))
        assert rig.say("first") == "You said: first"
        assert rig.client.response_active  # no response.done: as far as the client knows
        assert rig.say("second") == "You said: second"  # its response.create went out anyway
        [error] = rig.of("error")
        assert error["error"]["code"] == "response_timeout"
        assert len(rig.sent("response.create")) == 2
        wait_until(lambda: not rig.client.response_active, 5 * UNIT, "the second one done")
        assert len(rig.of("error")) == 1 and not rig.of("reconnecting")
    assert guard.escaped == []


def test_client_max_audio_seconds_caps_an_item_that_never_completes():
    # Every event that would complete the reply is lost: its audio must stay capped anyway.
    endings = {"response.output_item.done", "conversation.item.done", "response.done"}
    cap = 0.5 * 24000
    with EscapeGuard() as guard, Rig([STORY], max_audio_seconds=0.5) as rig:
        rig.connect()
        rig.proxy.add(Fault("swallow", match=lambda e: e.get("type") in endings, times=100))
        rig.client.send_user_message_content("tell me a long story")
        wait_until(
            lambda: any(e["type"] == "response.output_audio.done" for _, e in rig.wire),
            10 * UNIT,
            "every audio delta of the reply",
        )
        reply = rig.client.conversation.get_items()[-1]
        assert reply["role"] == "assistant" and reply["status"] == "in_progress"
        assert len(STORY) * 24 * 40 > 4 * cap  # far more audio came than the cap allows
        held = sum(len(i["formatted"]["audio"]) for i in rig.client.conversation.get_items())
        assert held <= 2 * cap
    assert guard.escaped == []


def test_client_switching_auto_reconnect_off_while_reconnecting_ends_with_one_close():
    with EscapeGuard() as guard, Rig(reconnect_delay=0.3 * UNIT) as rig:
        rig.connect()
        rig.server.stop()
        rig.on_loop(rig.proxy.stop)  # closes the connection (1001); every attempt is refused
        wait_until(lambda: rig.client.is_reconnecting, 5 * UNIT, "reconnecting")
        rig.client.auto_reconnect = False  # the notebook gives up on it
        wait_until(lambda: rig.of("close"), 5 * UNIT, "the close")
        assert not rig.client.is_reconnecting and len(rig.of("reconnecting")) == 1
        assert not [e for e in rig.of("error") if e["error"]["code"] == "reconnect_failed"]
    assert guard.escaped == []
