"""The fault matrix: each fault applied to a live conversation, and what the notebook saw.

Not a test module: ``test_fault_matrix`` asserts on :func:`run_fault`'s outcome for every fault,
and ``bench/bench_reliability.py`` reports the same matrix (faults tried, sessions recovered,
items lost). Every scenario has the same shape: one exchange, the fault, a follow-up exchange,
then the history is compared on both sides (the client's items, the server's new session).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from realtime_widget.testing.faults import Fault
from tests.helpers import UNIT
from tests.reliability._harness import EscapeGuard, Rig, item_words, wait_until

__all__ = ["FAULTS", "Outcome", "run_fault"]

STORY = "Once upon a time a very long story was told, slowly, word after word, to the end."
MALFORMED_FRAMES = [
    "{not json",
    "[1, 2, 3]",
    '"just a string"',
    '{"type": 5}',
    '{"no_type": true}',
    '{"type": "conversation.item.added"}',
    '{"type": "conversation.item.added", "item": "not an item"}',
    '{"type": "response.output_audio.delta", "item_id": "item_ghost", "delta": "!!!"}',
    '{"type": "response.output_audio_transcript.delta", "item_id": 7, "delta": null}',
    '{"type": "response.done", "response": [1]}',
    '{"type": "response.done", "response": {"usage": "lots", "output": 3}}',
    '{"type": "conversation.item.truncated", "item_id": null, "audio_end_ms": "x"}',
    '{"type": "session.created", "session": 12}',
    '{"type": "input_audio_buffer.speech_started"}',
]
INJECTED_ERRORS = [
    {
        "type": "error",
        "event_id": "event_inj1",
        "error": {"type": "server_error", "code": "injected", "message": "injected failure"},
    },
    {"type": "error", "event_id": "event_inj2", "error": "a bare string"},
    {"type": "error", "event_id": "event_inj3"},
    {"type": "error", "error": {"code": None, "message": None, "event_id": 12}},
]


@dataclass
class Outcome:
    """What one fault did, from the notebook's side.

    Attributes:
        fault: the fault's name.
        recovered: a follow-up exchange worked after the fault.
        items_lost: items (or words) present before the fault and missing (or doubled) after
            it, counted on the client and in the server's session (history replay).
        escaped: exceptions that reached a hook, the loop's handler or an ERROR log.
        surfaced: client events seen during the fault (``error``, ``reconnecting``, ...).
        calls_unanswered: function calls in the server's session without an output.
        calls_repeated: extra function calls or outputs for one ``call_id`` in that session
            (and outputs whose call is not there).
        statuses: widget ``status`` values seen (widget runs only).
        widget_errors: widget ``errors`` entries (widget runs only).
        detail: lost items, for the failure message.
    """

    fault: str
    recovered: bool = False
    items_lost: int = 0
    escaped: list[str] = field(default_factory=list)
    surfaced: dict[str, int] = field(default_factory=dict)
    calls_unanswered: int = 0
    calls_repeated: int = 0
    statuses: list[str] = field(default_factory=list)
    widget_errors: list[dict] = field(default_factory=list)
    detail: list[Any] = field(default_factory=list)


def _either(*types: str) -> Callable[[dict], bool]:
    """Match an event by its GA or beta name (the proxy sees the wire dialect)."""
    return lambda event: event.get("type") in types


TRANSCRIPT_DELTA = _either(
    "response.output_audio_transcript.delta", "response.audio_transcript.delta"
)
AUDIO_DELTA = _either("response.output_audio.delta", "response.audio.delta")


def _drop_mid_response(rig: Rig) -> None:
    rig.proxy.add(Fault("drop", match=TRANSCRIPT_DELTA, skip=3))
    rig.client.send_user_message_content("tell me a story")
    wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")


def _drop_between_turns(rig: Rig) -> None:
    rig.on_loop(rig.proxy.drop)
    wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")


def _stall(rig: Rig) -> None:
    rig.on_loop(lambda: rig.proxy.stall(0.5 * UNIT))
    rig.say("are you stalled?")


def _split(rig: Rig) -> None:
    rig.proxy.add(Fault("split", match=None, times=1000))
    rig.say("split every frame")


def _corrupt(rig: Rig) -> None:
    rig.proxy.add(Fault("corrupt", match=TRANSCRIPT_DELTA, skip=2))
    rig.proxy.add(Fault("corrupt", match=AUDIO_DELTA, skip=1))
    rig.say("corrupt a frame")
    wait_until(lambda: len(rig.of("error")) >= 2, 5 * UNIT, "two malformed_frame errors")


def _inject_unknown(rig: Rig) -> None:
    novel = {"type": "output_audio_buffer.from_the_future", "event_id": "event_new", "x": [1]}
    rig.on_loop(lambda: rig.proxy.inject(novel))
    rig.on_loop(lambda: rig.proxy.inject({"type": "brand.new.event"}))
    rig.say("anything new?")


def _inject_malformed(rig: Rig) -> None:
    for frame in MALFORMED_FRAMES:
        rig.on_loop(lambda frame=frame: rig.proxy.inject(frame))
    rig.say("still parsing?")


def _inject_errors(rig: Rig) -> None:
    for event in INJECTED_ERRORS:
        rig.on_loop(lambda event=event: rig.proxy.inject(json.dumps(event)))
    wait_until(lambda: len(rig.of("error")) >= len(INJECTED_ERRORS), 5 * UNIT, "every error")


def _close_1001(rig: Rig) -> None:
    rig.on_loop(
        lambda: rig.proxy.close(1001, "Your session hit the maximum duration of 60 minutes.")
    )
    wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")


def _flapping(rig: Rig) -> None:
    # The network drops, then drops again twice in the middle of each history replay.
    announced = _either("conversation.item.added", "conversation.item.created")
    rig.proxy.add(Fault("drop", match=announced, skip=1, times=2))
    rig.on_loop(rig.proxy.drop)
    wait_until(lambda: len(rig.of("reconnected")) >= 3, 10 * UNIT, "three reconnects")


def _half_open(rig: Rig) -> None:
    # The network dies silently: nothing arrives, not even pongs. Only keepalive can tell.
    frozen = list(rig.proxy._clients)

    def freeze() -> None:
        rig.proxy.stall(1.5 * UNIT)
        for ws in frozen:
            ws.transport.pause_reading()

    rig.on_loop(freeze)
    wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected after keepalive")
    for ws in frozen:  # let the proxy see that the dead connection is gone
        rig.runtime.call_soon(ws.transport.resume_reading)


def _session_cap(rig: Rig) -> None:
    wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected after the session cap")


@dataclass(frozen=True)
class FaultSpec:
    """One row of the matrix: how to apply the fault and what the notebook must see."""

    apply: Callable[[Rig], None]
    expect: tuple[str, ...] = ()
    rig_options: dict = field(default_factory=dict)


FAULTS: dict[str, FaultSpec] = {
    "drop mid-response": FaultSpec(
        _drop_mid_response, ("reconnecting", "reconnected"), {"script": ["Hello.", STORY]}
    ),
    "drop between turns": FaultSpec(_drop_between_turns, ("reconnecting", "reconnected")),
    "stall": FaultSpec(_stall),
    "split frames": FaultSpec(_split),
    "corrupt frames": FaultSpec(_corrupt, ("error",)),
    "unknown events": FaultSpec(_inject_unknown),
    "malformed events": FaultSpec(_inject_malformed, ("error",)),
    "error events": FaultSpec(_inject_errors, ("error",)),
    "flapping network": FaultSpec(_flapping, ("reconnecting", "reconnected")),
    "half-open connection": FaultSpec(
        _half_open,
        ("reconnecting", "reconnected"),
        {"ping_interval": 0.2 * UNIT, "ping_timeout": 0.3 * UNIT},
    ),
    "close 1001": FaultSpec(_close_1001, ("reconnecting", "reconnected")),
    "session cap": FaultSpec(
        _session_cap,
        ("error", "reconnecting", "reconnected"),
        {"max_session_seconds": 2.5 * UNIT},  # room for an exchange in each session
    ),
}
"""Every fault of issue 8 point 1, by name (and issue 13's tool rows, below)."""


# ---------------------------------------------------------------- unlucky timing (issue 13)
TOOL_ASK = "call slow with {}"
TOOL_ANSWER = "slow returned worth the wait."
ANNOUNCED = _either("conversation.item.added", "conversation.item.created")


class _SlowTool:
    """The ``slow`` tool of the tool rows; held at ``gate`` until the test releases it."""

    def __init__(self, gated: bool) -> None:
        self.started = threading.Event()
        self.returned = threading.Event()
        self.gate = threading.Event()
        if not gated:
            self.gate.set()

    def install(self, rig: Rig) -> None:
        def slow() -> str:
            """Takes its time."""
            self.started.set()
            self.gate.wait(10 * UNIT)
            self.returned.set()
            return "worth the wait"

        rig.client.add_tool(slow)


def _answered(rig: Rig) -> bool:
    return any(
        item.get("role") == "assistant"
        and item.get("status") == "completed"
        and TOOL_ANSWER in (item.get("formatted") or {}).get("transcript", "")
        for item in rig.client.conversation.get_items()
    )


def _tool_turn(
    rig: Rig, arm: Callable[[], None] | None = None, *, gated: bool = False
) -> _SlowTool:
    """Ask for the ``slow`` tool with ``arm()`` done first; returns the tool (for gated rows)."""
    tool = _SlowTool(gated)
    tool.install(rig)
    if arm is not None:
        arm()
    rig.client.send_user_message_content(TOOL_ASK)
    return tool


def _await_tool_answer(rig: Rig) -> None:
    wait_until(lambda: _answered(rig), 10 * UNIT, "the answer to the tool's output")
    asked = [i for i in rig.server_items() if item_words(i) == TOOL_ASK]
    assert len(asked) == 1, f"the tool request is in the new session {len(asked)} times"


def _is_output_announced(event: dict) -> bool:
    item = event.get("item")
    return (
        ANNOUNCED(event) and isinstance(item, dict) and item.get("type") == "function_call_output"
    )


def _is_done_with_call(event: dict) -> bool:
    output = (event.get("response") or {}).get("output") or []
    return event.get("type") == "response.done" and any(
        isinstance(o, dict) and o.get("type") == "function_call" for o in output
    )


def _drop_while_tool_runs(rig: Rig) -> None:
    tool = _tool_turn(rig, gated=True)
    assert tool.started.wait(5 * UNIT)
    rig.on_loop(rig.proxy.drop)
    wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")
    tool.gate.set()
    _await_tool_answer(rig)


def _tool_done_while_reconnecting(rig: Rig) -> None:
    tool = _tool_turn(rig, gated=True)
    assert tool.started.wait(5 * UNIT)
    rig.on_loop(rig.proxy.drop)
    wait_until(lambda: rig.client.is_reconnecting, 5 * UNIT, "reconnecting")
    tool.gate.set()
    assert tool.returned.wait(5 * UNIT)
    assert not rig.of("reconnected"), "the tool did not finish during the reconnect"
    wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")
    _await_tool_answer(rig)


def _drop_as_output_is_sent(rig: Rig) -> None:
    dropped: list[dict] = []

    def on_sent(event: dict) -> None:  # on the runtime loop, right after the send was queued
        if not dropped and (event.get("item") or {}).get("type") == "function_call_output":
            dropped.append(event)  # once: the replay's copy of the output must go through
            rig.proxy.drop()

    rig.client.realtime.on("client.conversation.item.create", on_sent)
    _tool_turn(rig)
    wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")
    _await_tool_answer(rig)
    rig.client.realtime.off("client.conversation.item.create", on_sent)


def _drop_fault_then_tool_turn(match: Callable[[dict], bool] | str) -> Callable[[Rig], None]:
    def apply(rig: Rig) -> None:
        _tool_turn(rig, lambda: rig.proxy.add(Fault("drop", match=match)))
        wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")
        _await_tool_answer(rig)

    return apply


TOOL_FAULTS: dict[str, FaultSpec] = {
    "drop while a tool runs": FaultSpec(_drop_while_tool_runs, ("reconnecting", "reconnected")),
    "tool done while reconnecting": FaultSpec(
        _tool_done_while_reconnecting,
        ("reconnecting", "reconnected"),
        {"reconnect_delay": 1.0 * UNIT},  # room for the tool to finish in the gap
    ),
    "drop as a tool output is sent": FaultSpec(
        _drop_as_output_is_sent, ("reconnecting", "reconnected")
    ),
    "drop before an output is acknowledged": FaultSpec(
        _drop_fault_then_tool_turn(_is_output_announced), ("reconnecting", "reconnected")
    ),
    "drop as a response starts": FaultSpec(
        _drop_fault_then_tool_turn("response.created"), ("reconnecting", "reconnected")
    ),
    "drop as a call's arguments complete": FaultSpec(
        _drop_fault_then_tool_turn("response.function_call_arguments.done"),
        ("reconnecting", "reconnected"),
    ),
    "drop on the response.done carrying a call": FaultSpec(
        _drop_fault_then_tool_turn(_is_done_with_call), ("reconnecting", "reconnected")
    ),
}
"""Issue 13: drops at the worst moments of a tool turn (each answers the turn exactly once)."""
FAULTS.update(TOOL_FAULTS)

NESTED_FRAME = '{"type": "conversation.item.added", "item": ' + "[" * 100_000 + "]" * 100_000 + "}"


def _close_after_hello(rig: Rig) -> None:
    # Three sessions in a row say session.created and close (1011); the fourth works.
    rig.proxy.add(Fault("close", match="session.created", times=3, code=1011))
    rig.on_loop(rig.proxy.drop)
    wait_until(lambda: len(rig.of("reconnected")) >= 4, 10 * UNIT, "the fourth session")


def _no_response_done(rig: Rig) -> None:
    rig.proxy.add(Fault("swallow", match="response.done"))
    rig.say("this response never ends")
    wait_until(lambda: rig.of("error"), 5 * UNIT, "the response_timeout error")


def _nested_frame(rig: Rig) -> None:
    rig.on_loop(lambda: rig.proxy.inject(NESTED_FRAME))
    wait_until(lambda: rig.of("error"), 5 * UNIT, "the malformed_frame error")


SERVER_FAULTS: dict[str, FaultSpec] = {
    "close after session.created, repeatedly": FaultSpec(
        _close_after_hello, ("reconnecting", "reconnected")
    ),
    "failed response without response.done": FaultSpec(
        _no_response_done, ("error",), {"response_timeout": 0.5 * UNIT}
    ),
    "frame nested 100 000 deep": FaultSpec(_nested_frame, ("error",)),
}
"""Issue 13: a broken or hostile server (the client recovers, in a bounded number of attempts)."""
FAULTS.update(SERVER_FAULTS)


def _call_counts(items: list[dict]) -> tuple[Counter, Counter]:
    """How many times each ``call_id`` appears as a function call, and as an output."""
    calls = Counter(i.get("call_id") for i in items if i.get("type") == "function_call")
    outputs = Counter(i.get("call_id") for i in items if i.get("type") == "function_call_output")
    return calls, outputs


def _words(items: list[tuple[str, str, str]]) -> dict[str, str]:
    return {item_id: words for item_id, _, words in items}


def run_fault(name: str, *, widget: bool = False, dialect: str = "ga") -> Outcome:
    """Apply fault ``name`` to a live conversation and report what happened.

    Args:
        name: a key of :data:`FAULTS`.
        widget: drive a ``RealtimeWidget`` (kernel side) rather than a bare client.
        dialect: the protocol dialect the client speaks (the embedded server follows it).

    Must be called from a plain thread (the notebook), never the runtime thread.
    """
    spec = FAULTS[name]
    outcome = Outcome(name)
    statuses: list[str] = []
    options = {**spec.rig_options, "dialect": dialect}
    if widget:  # slow enough for the coalesced status trait (<= 4 updates/s) to show it
        options["reconnect_delay"] = 0.6 * UNIT
    with EscapeGuard() as guard, Rig(widget=widget, **options) as rig:
        if rig.widget is not None:
            rig.widget.observe(lambda change: statuses.append(change["new"]), names="status")
        rig.connect()
        first = rig.say("remember the word banana")
        assert first, "the first exchange produced no words"
        before = rig.items()
        seen = {k: len(rig.of(k)) for k in rig.events}
        spec.apply(rig)
        outcome.surfaced = {k: len(rig.of(k)) - seen[k] for k in rig.events if k in spec.expect}
        outcome.surfaced.update(
            {k: len(rig.of(k)) - seen[k] for k in ("error", "reconnecting", "reconnected")}
        )
        wait_until(lambda: rig.client.is_connected, 10 * UNIT, "connected again")
        reply = rig.say("what was the word?")
        outcome.recovered = reply == "You said: what was the word?"
        after = _words(rig.items())
        lost = [(i, w) for i, _, w in before if after.get(i) != w]
        # The model's side: every word said before the fault is in the session it talks to now.
        server_words = [item_words(i) for i in rig.server_items()]
        lost += [("server", w) for _, _, w in before if w and w not in server_words]
        lost += [("twice", w) for _, _, w in before if w and server_words.count(w) > 1]
        # No words lost inside an item either: what the client shows is what the model said.
        said = {i.get("id"): item_words(i) for i in rig.server_items()}
        lost += [
            (i, w, said[i])
            for i, role, w in rig.items()
            if role == "assistant" and i in said and said[i] != w
        ]
        outcome.items_lost = len(lost)
        outcome.detail = lost
        calls, outputs = _call_counts(rig.server_items())
        outcome.calls_unanswered = sum(1 for c in calls if not outputs[c])
        outcome.calls_repeated = sum(max(0, n - 1) for n in (*calls.values(), *outputs.values()))
        outcome.calls_repeated += sum(n for c, n in outputs.items() if c not in calls)
        if rig.widget is not None:
            wait_until(lambda: rig.widget.status == "connected", 5 * UNIT, "widget connected")
            if outcome.surfaced.get("error"):
                wait_until(lambda: rig.widget.errors, 2 * UNIT, "the widget's errors trait")
            outcome.statuses = statuses
            outcome.widget_errors = list(rig.widget.errors)
    outcome.escaped = list(guard.escaped)
    return outcome
