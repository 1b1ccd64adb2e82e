"""The outbox: one connection's outgoing events, in order, bounded by bytes (issue 13)."""

from __future__ import annotations

import asyncio
import json

import pytest

from realtime_widget.server._outbox import Outbox


def _event(size: int) -> dict:
    return {"type": "conversation.item.retrieved", "pad": "x" * size}


async def test_outbox_gives_events_as_json_in_order_then_a_close():
    outbox = Outbox(1000)
    outbox.put_nowait({"type": "a"})
    outbox.put_nowait({"type": "b"})
    outbox.put_close(1001, "bye")
    assert [json.loads(await outbox.get())["type"] for _ in range(2)] == ["a", "b"]
    assert await outbox.get() == (1001, "bye")
    assert outbox.pending_bytes == 0


async def test_outbox_counts_waiting_bytes_and_frees_them_when_taken():
    outbox = Outbox(10_000)
    outbox.put_nowait(_event(100))
    waiting = outbox.pending_bytes
    assert waiting == len(json.dumps(_event(100)))
    await outbox.get()
    assert outbox.pending_bytes == 0


def test_outbox_lets_one_event_larger_than_the_limit_through():
    reasons: list[str] = []
    outbox = Outbox(1000, reasons.append)
    outbox.put_nowait(_event(5000))  # a big answer to a client that reads is still sent
    assert not outbox.overflowed and len(outbox) == 1 and reasons == []


def test_outbox_overflows_once_past_the_limit_drops_what_waits_and_refuses_more():
    reasons: list[str] = []
    outbox = Outbox(1024 * 1024, reasons.append)
    for _ in range(3):
        outbox.put_nowait(_event(400_000))
    assert outbox.overflowed and len(outbox) == 0 and outbox.pending_bytes == 0
    assert reasons == ["client is not reading: over 1 MiB of events waiting"]
    assert len(reasons[0].encode()) <= 123  # fits a close frame's reason
    outbox.put_nowait(_event(10))
    outbox.put_close(1001, "late")
    assert len(outbox) == 0 and len(reasons) == 1


def test_outbox_refuses_a_limit_that_is_not_positive():
    with pytest.raises(ValueError, match="positive"):
        Outbox(0)


async def test_outbox_wait_for_room_returns_once_the_writer_drains_below_half():
    outbox = Outbox(1000)
    for _ in range(3):
        outbox.put_nowait(_event(250))
    waiting = asyncio.create_task(outbox.wait_for_room(5))
    await asyncio.sleep(0)
    assert not waiting.done()
    await outbox.get()
    await outbox.get()
    assert await waiting is True and not outbox.overflowed


async def test_outbox_wait_for_room_overflows_when_nothing_is_read_for_stall_seconds():
    reasons: list[str] = []
    outbox = Outbox(1000, reasons.append)
    outbox.put_nowait(_event(600))
    assert await outbox.wait_for_room(0.05) is False
    assert outbox.overflowed and reasons == ["client is not reading: nothing read for 0.05 s"]


async def test_outbox_keeps_the_place_of_an_event_a_worker_still_writes():
    outbox = Outbox(10_000)
    later: asyncio.Future = asyncio.get_running_loop().create_future()
    outbox.put_nowait({"type": "a"})
    outbox.put_later(later, 500)
    outbox.put_nowait({"type": "c"})
    assert outbox.pending_bytes == len(json.dumps({"type": "a"})) * 2 + 500
    assert json.loads(await outbox.get())["type"] == "a"
    taking = asyncio.ensure_future(outbox.get())
    await asyncio.sleep(0.01)
    assert not taking.done()  # the writer waits for it: nothing overtakes it
    later.set_result(['{"type": ', '"b"}'])
    assert await taking == ['{"type": ', '"b"}']
    assert json.loads(await outbox.get())["type"] == "c"
    assert outbox.pending_bytes == 0


def test_outbox_overflow_cancels_the_events_workers_still_write():
    outbox = Outbox(1000)
    loop = asyncio.new_event_loop()
    try:
        later = loop.create_future()
        outbox.put_nowait({"type": "a"})
        outbox.put_later(later, 5000)
        assert outbox.overflowed and later.cancelled()
        refused = loop.create_future()
        outbox.put_later(refused, 10)
        assert refused.cancelled() and len(outbox) == 0
    finally:
        loop.close()
