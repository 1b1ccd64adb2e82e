"""Issue 8.3: the reducer and the protocol normaliser fed random and mutated server traffic.

Valid GA traces (``tests.conversation._traces``) are mutated: events dropped, duplicated or
swapped, fields dropped or retyped, ids pointed at unknown items, deltas garbled, types changed;
half of the runs go through the beta dialect (``to_beta_server_event`` then
``normalize_server_event``, as ``RealtimeAPI`` receives a beta server). The reducer must never
raise, and what it holds must be bounded by its input. A long stream of junk naming unknown ids
must not grow memory. Unmutated traces reduce to the same conversation in both dialects.
"""

from __future__ import annotations

import base64
import copy
import json
import tracemalloc

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_widget.conversation import RealtimeConversation
from realtime_widget.protocol import SERVER_EVENTS, normalize_server_event, to_beta_server_event
from tests.conversation._traces import generate_trace
from tests.fuzzing import json_paths, json_values

JSON = json_values(max_int=2**31, max_text=8, max_items=3, max_leaves=8)
EVENT_TYPES = sorted(SERVER_EVENTS["ga"] | SERVER_EVENTS["beta"])
GARBAGE_DELTAS = st.sampled_from(["!!", "QQ", "QUJD", "", "====", "\u00e9t\u00e9", "AAA="]) | JSON


@st.composite
def mutate_event(draw, event: dict) -> dict:
    """One mutation of one event (or the event unchanged)."""
    event = copy.deepcopy(event)
    mode = draw(st.sampled_from(["keep", "drop", "retype", "id", "delta", "type", "add"]))
    paths = [p for p in json_paths(event) if p and p != ("type",)]
    if mode == "keep" or not paths:
        return event
    if mode == "type":
        event["type"] = draw(st.sampled_from(EVENT_TYPES) | st.text(max_size=10) | JSON)
        return event
    if mode == "id":
        for key in ("item_id", "previous_item_id", "response_id"):
            if key in event:
                event[key] = draw(
                    st.sampled_from(["item_ghost", "", None, 7]) | st.text(max_size=5)
                )
        if isinstance(event.get("item"), dict):
            event["item"]["id"] = draw(st.sampled_from(["item_ghost", None, 3, ""]))
        return event
    if mode == "delta":
        if "delta" in event:
            event["delta"] = draw(GARBAGE_DELTAS)
        return event
    path = draw(st.sampled_from(paths))
    parent = event
    for key in path[:-1]:
        parent = parent[key]
    if mode == "drop":
        del parent[path[-1]]
    elif mode == "retype":
        parent[path[-1]] = draw(JSON)
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=6))] = draw(JSON)
    return event


@st.composite
def mutated_traces(draw):
    """A valid trace with a handful of mutations, reorderings, drops and duplicates."""
    ops = generate_trace(draw(st.integers(0, 10_000)), turns=draw(st.integers(1, 5)))
    events = [op for op in ops if op["op"] == "event"]
    for _ in range(draw(st.integers(0, 12))):
        index = draw(st.integers(0, len(events) - 1))
        action = draw(st.sampled_from(["mutate", "mutate", "drop", "dup", "swap"]))
        if action == "mutate":
            events[index] = {"op": "event", "event": draw(mutate_event(events[index]["event"]))}
        elif action == "drop" and len(events) > 1:
            del events[index]
        elif action == "dup":
            events.insert(index, copy.deepcopy(events[index]))
        elif action == "swap" and index + 1 < len(events):
            events[index], events[index + 1] = events[index + 1], events[index]
    others = [op for op in ops if op["op"] != "event"]
    return events + others[: draw(st.integers(0, len(others)))], draw(
        st.sampled_from(["ga", "beta"])
    )


def _wire(event: dict, dialect: str) -> dict | None:
    """What ``RealtimeAPI`` hands the reducer when the server speaks ``dialect``."""
    if dialect == "beta":
        beta = to_beta_server_event(event)
        if beta is None:
            return None
        event = beta
    return normalize_server_event(event)


def _reduce(ops: list[dict], dialect: str) -> RealtimeConversation:
    conversation = RealtimeConversation()
    for op in ops:
        if op["op"] == "event":
            event = _wire(op["event"], dialect)
            if event is not None:
                conversation.process_event(event)
        elif op["op"] == "append":
            conversation.append_input_audio(np.frombuffer(base64.b64decode(op["audio"]), "<i2"))
        elif op["op"] == "queue":
            conversation.queue_input_audio(np.frombuffer(base64.b64decode(op["audio"]), "<i2"))
    return conversation


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_traces())
def test_reducer_never_raises_and_holds_no_more_than_its_input(trace):
    ops, dialect = trace
    conversation = _reduce(ops, dialect)  # raising here fails the test
    events = [op["event"] for op in ops if op["op"] == "event"]
    announcements = sum(
        1
        for e in events
        if isinstance(e, dict)
        and e.get("type")
        in (
            "conversation.item.added",
            "conversation.item.created",
            "conversation.item.done",
            "conversation.item.retrieved",
        )
    )
    items = conversation.get_items()
    assert len(items) <= announcements
    assert len(conversation.get_responses()) <= len(events)
    input_chars = sum(len(json.dumps(e, default=str)) for e in events)
    words = sum(
        len(str(i["formatted"].get(k) or "")) for i in items for k in ("text", "transcript")
    )
    assert words <= input_chars
    appended = sum(len(op["audio"]) for op in ops if op["op"] != "event") * 3 // 8
    speech_cuts = 1 + sum(1 for e in events if e.get("type") == "input_audio_buffer.speech_stopped")
    audio = sum(len(i["formatted"]["audio"]) for i in items)
    assert audio <= input_chars * 3 // 8 + speech_cuts * appended
    for item in items:  # every item stays readable as the widget and replay read it
        assert isinstance(item["formatted"]["text"], str)
        assert isinstance(item["formatted"]["transcript"], str)
        assert item["formatted"]["audio"].dtype == np.int16


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), turns=st.integers(1, 6))
def test_unmutated_traces_reduce_to_the_same_conversation_in_both_dialects(seed, turns):
    ops = generate_trace(seed, turns)
    ga, beta = _reduce(ops, "ga"), _reduce(ops, "beta")

    def view(conversation):
        return [
            (
                i["id"],
                i.get("role"),
                i["formatted"]["text"],
                i["formatted"]["transcript"],
                len(i["formatted"]["audio"]),
            )
            for i in conversation.get_items()
        ]

    assert view(ga) == view(beta)


@settings(max_examples=300, deadline=None)
@given(JSON)
def test_reducer_and_normaliser_never_raise_on_arbitrary_json(value):
    conversation = RealtimeConversation()
    for event in (value, {"type": "response.output_audio.delta", "delta": value, "item_id": value}):
        if isinstance(event, dict):
            conversation.process_event(normalize_server_event(event))
    assert conversation.get_items() == [] or all("formatted" in i for i in conversation.get_items())


def test_a_long_stream_of_events_for_unknown_items_does_not_grow_memory():
    conversation = RealtimeConversation()
    rng = np.random.default_rng(8)
    pcm = base64.b64encode(rng.integers(-3000, 3000, 2400, dtype=np.int16).tobytes()).decode()

    def junk(n: int) -> None:
        for k in range(n):
            ghost = f"item_ghost_{k}"
            for event in (
                {
                    "type": "input_audio_buffer.speech_started",
                    "item_id": ghost,
                    "audio_start_ms": 0,
                },
                {
                    "type": "input_audio_buffer.speech_stopped",
                    "item_id": ghost,
                    "audio_end_ms": 100,
                },
                {
                    "type": "conversation.item.input_audio_transcription.delta",
                    "item_id": ghost,
                    "content_index": 0,
                    "delta": "lost words " * 5,
                },
                {"type": "response.output_audio.delta", "item_id": ghost, "delta": pcm},
                {"type": "response.output_text.delta", "item_id": ghost, "delta": "x" * 50},
                {"type": "conversation.item.truncated", "item_id": ghost, "audio_end_ms": 5},
                {"type": "conversation.item.deleted", "item_id": ghost},
                {"type": "response.done", "response": {"id": f"resp_{k}", "output": [7]}},
                {"type": "totally.new.event", "item_id": ghost},
            ):
                conversation.process_event(event)
            conversation.append_input_audio(np.zeros(4800, np.int16))

    junk(1600)  # warm up: bounded tables and the 5-minute input ring (7.2M samples) fill up
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        junk(4000)
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert conversation.get_items() == []
    # Response objects are kept by design (one small dict each); everything else is bounded.
    assert grown < 4000 * 600, f"{grown} bytes for 4000 rounds of junk"
