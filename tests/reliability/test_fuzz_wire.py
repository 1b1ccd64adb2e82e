"""Issue 8.3 beyond single events: id-aware client sequences for the server, junk for the client.

``tests/server/test_fuzz.py`` feeds the server's state machine mutated events with fixed ids.
Here (1) sequences aim at the ids the server really created (truncate, delete, retrieve and
``previous_item_id`` on live items, mid-response cancels and new requests), half of them in beta
shape to a beta session, every answer validated strictly and the server's conversation bounded
by what was sent; (2) a live ``RealtimeClient`` behind the fault proxy receives a stream of
mutated server events over a real websocket and carries on.
"""

from __future__ import annotations

import copy
import json
import random
import threading

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_widget.protocol import to_beta_client_event
from tests.conversation._traces import generate_trace
from tests.helpers import UNIT
from tests.reliability._harness import EscapeGuard, Rig, wait_until
from tests.server.driver import StateDriver
from tests.server.test_fuzz import JSON, VALID, _quick_voice

_ID_KEYS = ("item_id", "previous_item_id")
_CREATES = frozenset({"conversation.item.create", "input_audio_buffer.commit", "response.create"})


def _known_ids(events: list[dict]) -> list[str]:
    ids = []
    for event in events:
        item = event.get("item")
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            ids.append(item["id"])
    return ids or ["item_none"]


def _pull(driver: StateDriver, steps: int) -> None:
    for _ in range(steps):
        request = driver.state.audio_request
        if request is not None:
            driver.state.provide_audio(_quick_voice(request[0]))
        step = driver.state.next_output()
        if step is None:
            return
        driver._keep(step.events)  # validated strictly, like every other answer


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), dialect=st.sampled_from(["ga", "beta"]))
def test_server_answers_id_aware_sequences_validly_and_stays_bounded(data, dialect):
    d = StateDriver(dialect)
    creates = 0
    for _ in range(data.draw(st.integers(6, 24), label="length")):
        event = copy.deepcopy(data.draw(st.sampled_from(VALID), label="template"))
        known = _known_ids(d.events)
        for key in _ID_KEYS:
            if key in event or (key == "previous_item_id" and "item" in event):
                event[key] = data.draw(
                    st.sampled_from(known) | st.sampled_from(["root", "item_ghost", None]), key
                )
        if event["type"] == "conversation.item.truncate":
            event["audio_end_ms"] = data.draw(st.integers(-5, 10_000) | JSON, "audio_end_ms")
            event["content_index"] = data.draw(st.integers(-1, 2), "content_index")
        if data.draw(st.integers(0, 5), "garble") == 0:  # one field retyped
            key = data.draw(st.sampled_from(sorted(event)), "field")
            if key != "type":
                event[key] = data.draw(JSON, "value")
        if dialect == "beta" and data.draw(st.booleans(), "beta shape"):
            event = to_beta_client_event(event)
        creates += event.get("type") in _CREATES
        d.send(event)
        _pull(d, data.draw(st.integers(0, 8), "steps"))  # a cancel may land mid-response
    if d.state.response_active:
        d.send({"type": "response.cancel"})
    _pull(d, 10_000)
    # Items come only from creates, commits and responses (a response adds at most a few).
    assert len(d.state.conversation) <= 4 * creates
    out = d.say("still alive?")
    assert out and out[0]["type"] in ("conversation.item.added", "conversation.item.created")


def _mutated_server_events(seed: int, count: int) -> list[str]:
    """Frames a broken server might send: trace events with fields dropped, retyped, swapped."""
    rng = random.Random(seed)
    frames: list[str] = []
    while len(frames) < count:
        for op in generate_trace(rng.randrange(10_000), turns=2):
            if op["op"] != "event":
                continue
            event = copy.deepcopy(op["event"])
            keys = [k for k in event if k != "type"]
            roll = rng.random()
            if roll < 0.3 and keys:
                del event[rng.choice(keys)]
            elif roll < 0.6 and keys:
                event[rng.choice(keys)] = rng.choice([None, 7, "x", [], {}, {"id": None}, "!!"])
            elif roll < 0.7:
                event["type"] = rng.choice(["response.done", "error", "session.created", "x.y"])
            frames.append(json.dumps(event))
    return frames[:count]


def test_client_over_a_real_websocket_survives_a_stream_of_mutated_server_events():
    frames = _mutated_server_events(seed=8, count=400)
    with EscapeGuard() as guard, Rig() as rig:
        rig.connect()
        assert rig.say("before the junk") == "You said: before the junk"
        before = rig.items()
        for start in range(0, len(frames), 50):
            batch = frames[start : start + 50]

            async def send(batch=batch):
                for frame in batch:
                    await rig.proxy.inject(frame)

            rig.on_loop(send)
        # The proxy has sent every frame, but the client may still be reading them: wait for a
        # sentinel sent after the junk, so no junk lands during the next turn and fakes its reply.
        through = threading.Event()
        rig.client.on(
            "realtime.event",
            lambda e: (e.get("event") or {}).get("type") == "test.sentinel" and through.set(),
        )
        rig.on_loop(lambda: rig.proxy.inject({"type": "test.sentinel"}))
        assert through.wait(10 * UNIT), "the client did not read through the junk"
        # Junk ends with an ordinary exchange: the session and the response sequencer still work
        # (a junk response.created may hold the sequencer until its response.done times out, so
        # the client is given a real turn to settle on).
        wait_until(lambda: rig.client.is_connected, 5 * UNIT, "still connected")
        if rig.client.response_active:
            rig.client.cancel_response()
        reply = rig.say("after the junk", timeout=20 * UNIT, echoed=True)
        assert reply == "You said: after the junk"
        after = {item_id: words for item_id, _, words in rig.items()}
        assert all(after.get(i) == w for i, _, w in before), "an earlier item changed"
        assert len(rig.client.conversation.get_items()) <= len(before) + len(frames) + 2
    assert guard.escaped == []
