"""Property, on the wire: random mixes of tool outcomes over several chained responses.

The embedded server's ScriptedBrain makes the calls (one scripted response after another, each
answered by the client's outputs), then its EchoBrain fallback replies with the outputs. Whatever
the mix, every call_id the server sent gets exactly one function_call_output, with the expected
kind of result, and the conversation reaches that final reply.
"""

from __future__ import annotations

import asyncio
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_widget.server import Call, ScriptedBrain
from realtime_widget.tools import ToolRegistry
from tests.helpers import UNIT
from tests.tools.wire import session

# outcome -> (tool, arguments, expected error type; None for a result)
OUTCOMES = {
    "ok": ("add", '{"a": 1, "b": 2}', None),
    "raises": ("fail", "{}", "RuntimeError"),
    "timeout": ("sleepy", "{}", "timeout"),
    "invalid_json": ("add", '{"a": 1,', "invalid_json"),
    "invalid_args": ("add", '{"a": "x"}', "invalid_arguments"),
    "unknown": ("nope", "{}", "unknown_tool"),
    "approved": ("guarded", '{"how": "yes"}', None),
    "denied": ("guarded", '{"how": "no"}', "denied"),
}


def build_registry() -> ToolRegistry:
    registry = ToolRegistry(approval_callback=lambda r: r.parsed_arguments["how"] == "yes")

    @registry.tool
    def add(a: int, b: int = 0) -> int:
        return a + b

    @registry.tool
    def fail() -> None:
        raise RuntimeError("boom")

    @registry.tool(timeout=0.05 * UNIT)
    async def sleepy() -> None:
        await asyncio.sleep(30 * UNIT)

    @registry.tool(requires_approval=True)
    def guarded(how: str) -> str:
        return how

    return registry


async def converse(responses: list[list[str]]) -> None:
    expected: dict[str, str] = {}
    script = []
    for r, outcomes in enumerate(responses):
        calls = []
        for i, outcome in enumerate(outcomes):
            name, arguments, _ = OUTCOMES[outcome]
            call_id = f"call_{r}_{i}"
            expected[call_id] = outcome
            calls.append(Call(name, arguments, call_id))
        script.append(calls)
    registry = build_registry()
    async with session(registry, ScriptedBrain(script)) as (client, wire):
        await wire.turn(client, "go")
        wire.assert_each_call_answered_once()
        assert set(wire.calls()) == set(expected)
        for call_id, output in wire.outputs():
            error = OUTCOMES[expected[call_id]][2]
            if error is None:
                assert '"error"' not in output, (call_id, output)
            else:
                assert json.loads(output)["error"]["type"] == error, (call_id, output)
        # A result is read "NAME returned ...", a failure as its sentence ("The tool NAME ...").
        assert " returned " in wire.replies()[-1] or "The tool " in wire.replies()[-1]
    assert len(registry.history) == len(expected)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.lists(st.sampled_from(sorted(OUTCOMES)), min_size=1, max_size=4), min_size=1, max_size=3
    )
)
def test_every_call_on_the_wire_gets_exactly_one_output(responses):
    asyncio.run(converse(responses))
