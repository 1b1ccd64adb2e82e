"""requires_approval: calls wait for approve/deny (any thread) or the approval callback."""

from __future__ import annotations

import asyncio
import json
import threading

from realtime_widget.tools import ToolRegistry
from tests.helpers import UNIT


def guarded_registry(**kwargs) -> tuple[ToolRegistry, list[str]]:
    registry = ToolRegistry(**kwargs)
    ran: list[str] = []

    @registry.tool(requires_approval=True)
    def delete_file(path: str) -> str:
        ran.append(path)
        return f"deleted {path}"

    return registry, ran


async def wait_pending(registry: ToolRegistry, count: int = 1) -> None:
    for _ in range(500):
        if len(registry.pending_approvals) >= count:
            return
        await asyncio.sleep(0.01 * UNIT)
    raise AssertionError("no call is waiting for approval")


async def test_call_waits_until_approved_from_another_thread():
    registry, ran = guarded_registry()
    requests = []
    registry.on_approval_request(requests.append)
    call = asyncio.ensure_future(registry.invoke("c1", "delete_file", '{"path": "a.txt"}'))
    await wait_pending(registry)
    assert ran == []
    assert [r.call_id for r in registry.pending_approvals] == ["c1"]
    assert [(r.call_id, r.status) for r in requests] == [("c1", "awaiting_approval")]
    approver = threading.Thread(target=registry.approve, args=("c1",))
    approver.start()
    record = await asyncio.wait_for(call, 5 * UNIT)
    approver.join()
    assert (record.status, record.output, record.approved_by) == ("ok", "deleted a.txt", "user")
    assert ran == ["a.txt"]
    assert registry.pending_approvals == []


async def test_denied_call_tells_the_model_the_user_declined():
    registry, ran = guarded_registry()
    call = asyncio.ensure_future(registry.invoke("c1", "delete_file", '{"path": "a.txt"}'))
    await wait_pending(registry)
    assert registry.deny("c1", reason="not that file")
    record = await asyncio.wait_for(call, 5 * UNIT)
    assert ran == []
    assert record.status == "denied" and record.approved_by is None
    error = json.loads(record.output)["error"]
    assert error["type"] == "denied"
    assert error["message"].startswith(
        "The user declined this call of delete_file (not that file)."
    )


async def test_approval_callback_decides_without_asking():
    approvals = {"ok.txt": True, "secret.txt": False}
    registry, ran = guarded_registry(
        approval_callback=lambda record: approvals[record.parsed_arguments["path"]]
    )
    good = await registry.invoke("c1", "delete_file", '{"path": "ok.txt"}')
    bad = await registry.invoke("c2", "delete_file", '{"path": "secret.txt"}')
    assert (good.status, good.approved_by) == ("ok", "callback")
    assert bad.status == "denied"
    assert "approval policy declined" in json.loads(bad.output)["error"]["message"]
    assert ran == ["ok.txt"]


async def test_async_approval_callback_is_awaited():
    async def approve_later(record) -> bool:
        await asyncio.sleep(0.01 * UNIT)
        return True

    registry, ran = guarded_registry(approval_callback=approve_later)
    assert (await registry.invoke("c1", "delete_file", '{"path": "x"}')).ok
    assert ran == ["x"]


async def test_callback_returning_none_falls_back_to_asking_the_user():
    registry, _ = guarded_registry(approval_callback=lambda record: None)
    call = asyncio.ensure_future(registry.invoke("c1", "delete_file", '{"path": "x"}'))
    await wait_pending(registry)
    registry.approve("c1", by="alice")
    assert (await asyncio.wait_for(call, 5 * UNIT)).approved_by == "alice"


async def test_raising_callback_declines_the_call():
    def broken(record) -> bool:
        raise RuntimeError("policy bug")

    registry, ran = guarded_registry(approval_callback=broken)
    record = await registry.invoke("c1", "delete_file", '{"path": "x"}')
    assert record.status == "denied" and ran == []
    assert "policy bug" in json.loads(record.output)["error"]["message"]


async def test_undecided_call_is_declined_after_the_approval_timeout():
    registry, ran = guarded_registry(approval_timeout=0.05 * UNIT)
    record = await registry.invoke("c1", "delete_file", '{"path": "x"}')
    assert record.status == "denied" and ran == []
    assert "Nobody approved" in json.loads(record.output)["error"]["message"]
    assert registry.pending_approvals == []


async def test_approval_wait_does_not_count_against_the_tool_timeout():
    registry = ToolRegistry()

    @registry.tool(requires_approval=True, timeout=0.05 * UNIT)
    async def quick() -> str:
        return "ran"

    call = asyncio.ensure_future(registry.invoke("c1", "quick", "{}"))
    await wait_pending(registry)
    await asyncio.sleep(0.15 * UNIT)  # three tool timeouts pass while waiting
    registry.approve("c1")
    assert (await asyncio.wait_for(call, 5 * UNIT)).output == "ran"


async def test_invalid_arguments_are_rejected_before_asking_for_approval():
    registry, ran = guarded_registry()
    record = await registry.invoke("c1", "delete_file", '{"path": ["a"]}')
    assert record.status == "error" and registry.pending_approvals == []
    assert json.loads(record.output)["error"]["type"] == "invalid_arguments"
    assert ran == []


async def test_deciding_an_unknown_call_returns_false():
    registry, _ = guarded_registry()
    assert registry.approve("nope") is False
    assert registry.deny("nope") is False


async def test_second_decision_on_the_same_call_is_ignored():
    registry, _ = guarded_registry()
    call = asyncio.ensure_future(registry.invoke("c1", "delete_file", '{"path": "x"}'))
    await wait_pending(registry)
    assert registry.approve("c1") is True
    assert registry.deny("c1") is False
    assert (await asyncio.wait_for(call, 5 * UNIT)).ok


async def test_parallel_calls_wait_and_are_decided_independently():
    registry, ran = guarded_registry()
    calls = [
        asyncio.ensure_future(registry.invoke(f"c{i}", "delete_file", f'{{"path": "{i}"}}'))
        for i in range(3)
    ]
    await wait_pending(registry, 3)
    registry.deny("c1")
    registry.approve("c2")
    registry.approve("c0")
    records = await asyncio.wait_for(asyncio.gather(*calls), 5 * UNIT)
    assert [r.status for r in records] == ["ok", "denied", "ok"]
    assert sorted(ran) == ["0", "2"]
