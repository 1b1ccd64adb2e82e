"""Property: whatever mix of outcomes several responses' calls have, outputs == calls, 1:1."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_widget.tools import ToolRegistry
from tests.helpers import UNIT

# outcome -> (tool name, arguments, expected status, expected error type or None)
OUTCOMES = {
    "ok_sync": ("add", '{"a": 1, "b": 2}', "ok", None),
    "ok_async": ("aecho", '{"text": "hi"}', "ok", None),
    "raises": ("fail", "{}", "error", "RuntimeError"),
    "timeout": ("sleepy", "{}", "timeout", "timeout"),
    "invalid_json": ("add", '{"a": 1,', "error", "invalid_json"),
    "invalid_args": ("add", '{"a": "one"}', "error", "invalid_arguments"),
    "unknown": ("nope", "{}", "error", "unknown_tool"),
    "callback_yes": ("guarded", '{"how": "yes"}', "ok", None),
    "callback_no": ("guarded", '{"how": "no"}', "denied", "denied"),
    "user_yes": ("guarded", '{"how": "ask_yes"}', "ok", None),
    "user_no": ("guarded", '{"how": "ask_no"}', "denied", "denied"),
    "unserializable": ("cursed", "{}", "error", "unserializable_result"),
}


class _Cursed:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def build_registry() -> ToolRegistry:
    verdicts = {"yes": True, "no": False}
    registry = ToolRegistry(
        approval_callback=lambda record: verdicts.get(record.parsed_arguments["how"])
    )

    @registry.tool
    def add(a: int, b: int = 0) -> int:
        return a + b

    @registry.tool
    async def aecho(text: str) -> str:
        await asyncio.sleep(0)
        return text

    @registry.tool
    def fail() -> None:
        raise RuntimeError("boom")

    @registry.tool(timeout=0.02 * UNIT)
    async def sleepy() -> None:
        await asyncio.sleep(30 * UNIT)

    @registry.tool(requires_approval=True)
    def guarded(how: str) -> str:
        return how

    @registry.tool
    def cursed() -> object:
        return _Cursed()

    return registry


async def decide_pending(registry: ToolRegistry, stop: asyncio.Event) -> None:
    """Plays the user: answers calls waiting for approval as their arguments say."""
    while not stop.is_set():
        for record in registry.pending_approvals:
            if record.parsed_arguments["how"] == "ask_yes":
                registry.approve(record.call_id)
            else:
                registry.deny(record.call_id, reason="property test")
        await asyncio.sleep(0.002 * UNIT)


async def run_responses(responses: list[list[str]]) -> None:
    registry = build_registry()
    stop = asyncio.Event()
    user = asyncio.ensure_future(decide_pending(registry, stop))
    sent: list[tuple[str, str]] = []  # (call_id, output) as a client would send them
    expected: dict[str, str] = {}
    try:
        for r, outcomes in enumerate(responses):
            calls = []
            for i, outcome in enumerate(outcomes):
                call_id = f"call_{r}_{i}"
                name, arguments, _, _ = OUTCOMES[outcome]
                expected[call_id] = outcome
                calls.append(registry.invoke(call_id, name, arguments))
            records = await asyncio.wait_for(asyncio.gather(*calls), 10 * UNIT)
            sent.extend((rec.call_id, rec.output) for rec in records)
    finally:
        stop.set()
        await user

    assert Counter(call_id for call_id, _ in sent) == Counter(dict.fromkeys(expected, 1))
    assert Counter(rec.call_id for rec in registry.history) == Counter(dict.fromkeys(expected, 1))
    assert registry.pending_approvals == []
    for call_id, output in sent:
        record = registry.history.by_call_id(call_id)
        _, _, status, error_type = OUTCOMES[expected[call_id]]
        assert record.status == status, (call_id, record.error)
        assert record.output == output
        if error_type is None:
            assert record.error is None
        else:
            assert json.loads(output)["error"]["type"] == error_type


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.sampled_from(sorted(OUTCOMES)), min_size=1, max_size=5), min_size=1, max_size=4
    )
)
def test_every_call_gets_exactly_one_output_whatever_the_outcomes(responses):
    asyncio.run(run_responses(responses))
