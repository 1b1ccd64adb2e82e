"""Issue 8.2: faulty tools, all at once, end to end; every call answered exactly once.

One response makes parallel calls to a tool that raises, one that hangs past its timeout, one
returning an unserialisable object, one removed from the registry while it runs, garbage
arguments and an unknown tool. Outputs are counted where the model sees them: in the server's
session (and on the client's wire). A drop while a tool runs must not lose or repeat its answer.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter

from realtime_widget.server import Call
from tests.helpers import UNIT
from tests.reliability._harness import EscapeGuard, Rig, wait_until

CALLS = [
    Call("boom", {}, call_id="call_boom"),
    Call("hang", {}, call_id="call_hang"),
    Call("stuck", {}, call_id="call_stuck"),
    Call("weird", {}, call_id="call_weird"),
    Call("vanish", {}, call_id="call_vanish"),
    Call("add", "{not json", call_id="call_json"),
    Call("add", {"a": "x", "c": [1]}, call_id="call_args"),
    Call("nope", {}, call_id="call_unknown"),
    Call("add", {"a": 1, "b": 2}, call_id="call_ok"),
]


def _outputs(items: list[dict]) -> Counter:
    return Counter(i["call_id"] for i in items if i.get("type") == "function_call_output")


def _error_type(output: str) -> str | None:
    try:
        error = json.loads(output).get("error")
    except (ValueError, AttributeError):
        return None
    return error.get("type") if isinstance(error, dict) else error


def test_every_faulty_tool_call_is_answered_exactly_once_and_the_session_goes_on():
    release, started, unstick = threading.Event(), threading.Event(), threading.Event()
    with EscapeGuard() as guard, Rig([CALLS, "Done with tools."], tool_timeout=2 * UNIT) as rig:

        def boom() -> str:
            """Fails."""
            raise ValueError("tool exploded")

        async def hang() -> str:
            """Never answers in time."""
            await asyncio.sleep(60)
            return "late"

        def stuck() -> str:
            """A sync tool blocked in its worker thread past its timeout."""
            unstick.wait(10 * UNIT)
            return "too late"

        def weird() -> object:
            """Returns something JSON cannot hold."""
            return threading.Lock()

        def vanish() -> str:
            """Removed from the registry while it runs."""
            started.set()
            release.wait(5 * UNIT)
            return "still answered"

        def add(a: int, b: int) -> int:
            """Adds."""
            return a + b

        for fn in (boom, weird, vanish, add):
            rig.client.add_tool(fn)
        rig.client.add_tool(hang, timeout=0.3 * UNIT)
        rig.client.add_tool(stuck, timeout=0.3 * UNIT)
        rig.connect()
        rig.client.send_user_message_content("use every tool")
        assert started.wait(5 * UNIT)
        rig.client.remove_tool("vanish")  # the notebook re-runs a cell without it
        release.set()
        wait_until(lambda: rig.completed_replies() >= 1, 10 * UNIT, "the reply after the tools")

        sent = _outputs([e["item"] for e in rig.sent("conversation.item.create")])
        on_server = _outputs(rig.server_items())
        expected = Counter({c.call_id: 1 for c in CALLS})
        assert sent == expected
        assert on_server == expected
        outputs = {
            i["call_id"]: i["output"]
            for i in rig.server_items()
            if i.get("type") == "function_call_output"
        }
        assert _error_type(outputs["call_boom"]) == "ValueError"
        assert _error_type(outputs["call_hang"]) == "timeout"
        assert _error_type(outputs["call_stuck"]) == "timeout"
        assert "not JSON-serialisable" in outputs["call_weird"]
        assert outputs["call_vanish"] == "still answered"
        assert _error_type(outputs["call_json"]) == "invalid_json"
        assert _error_type(outputs["call_args"]) == "invalid_arguments"
        assert _error_type(outputs["call_unknown"]) == "unknown_tool"
        assert outputs["call_ok"] == "3"
        # One response.create for the whole batch of outputs, then the conversation goes on.
        assert len(rig.sent("response.create")) == 2
        unstick.set()  # the late result of the stuck tool must not be sent
        assert rig.say("still there?") == "You said: still there?"
        assert _outputs(rig.server_items()) == expected
        assert not rig.of("error")
    assert guard.escaped == ["log realtime_widget.tools: = tool boom (call call_boom) raised"]


def test_a_tool_running_across_a_drop_answers_once_in_the_new_session():
    release, started = threading.Event(), threading.Event()
    script = [[Call("slow", {}, call_id="call_slow")], "Slow answered."]
    with EscapeGuard() as guard, Rig(script) as rig:

        def slow() -> str:
            """Takes its time."""
            started.set()
            release.wait(5 * UNIT)
            return "worth the wait"

        rig.client.add_tool(slow)
        rig.connect()
        rig.client.send_user_message_content("be slow")
        assert started.wait(5 * UNIT)
        rig.on_loop(rig.proxy.drop)
        wait_until(lambda: rig.of("reconnected"), 10 * UNIT, "reconnected")
        release.set()
        wait_until(lambda: rig.completed_replies() >= 1, 10 * UNIT, "the answer after the drop")
        assert _outputs([e["item"] for e in rig.sent("conversation.item.create")]) == {
            "call_slow": 1
        }
        new_session = rig.server_items()
        kinds = [(i["type"], i.get("call_id")) for i in new_session]
        assert kinds.count(("function_call", "call_slow")) == 1  # replayed with its id
        assert _outputs(new_session) == {"call_slow": 1}
        assert rig.say("and now?") == "You said: and now?"
    assert guard.escaped == []
