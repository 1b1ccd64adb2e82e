"""The fault-injecting proxy forwards faithfully and misbehaves only when told."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed

from realtime_widget.testing.faults import Fault, FaultProxy
from tests.helpers import UNIT


@pytest.fixture
async def upstream():
    """A tiny upstream that answers each text frame with two JSON events."""
    seen_headers = {}

    async def handler(ws):
        seen_headers.update({k.lower(): v for k, v in ws.request.headers.raw_items()})
        seen_headers["path"] = ws.request.path
        async for message in ws:
            await ws.send(json.dumps({"type": "first", "echo": message}))
            await ws.send(json.dumps({"type": "second", "echo": message}))

    async with serve(handler, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1/realtime", seen_headers


async def recv_json(ws):
    return json.loads(await asyncio.wait_for(ws.recv(), 2 * UNIT))


async def test_proxy_forwards_frames_headers_and_query(upstream):
    url, seen = upstream
    async with (
        FaultProxy(url) as proxy,
        connect(proxy.url + "?model=m1", additional_headers={"Authorization": "Bearer k"}) as ws,
    ):
        await ws.send("hello")
        assert (await recv_json(ws)) == {"type": "first", "echo": "hello"}
        assert (await recv_json(ws))["type"] == "second"
    assert seen["authorization"] == "Bearer k"
    assert seen["path"] == "/v1/realtime?model=m1"
    assert proxy.url.startswith("ws://127.0.0.1:")


async def test_proxy_corrupts_split_and_swallows_matching_events(upstream):
    url, _ = upstream
    async with FaultProxy(url) as proxy, connect(proxy.url) as ws:
        proxy.add(Fault("corrupt", match="first"))
        proxy.add(Fault("swallow", match="second"))
        await ws.send("a")
        text = await asyncio.wait_for(ws.recv(), 2 * UNIT)
        with pytest.raises(ValueError):
            json.loads(text)
        proxy.add(Fault("split", match="first"))
        await ws.send("b")
        # a fragmented message arrives whole at the websocket layer
        assert (await recv_json(ws)) == {"type": "first", "echo": "b"}
        assert (await recv_json(ws))["type"] == "second"
    assert proxy.stats["corrupt"] == proxy.stats["swallow"] == proxy.stats["split"] == 1


async def test_proxy_drop_aborts_without_close_frame(upstream):
    url, _ = upstream
    async with FaultProxy(url) as proxy, connect(proxy.url) as ws:
        proxy.add(Fault("drop", match="second"))
        await ws.send("x")
        assert (await recv_json(ws))["type"] == "first"
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 2 * UNIT)
        assert info.value.rcvd is None  # no close frame: an abrupt drop


async def test_proxy_inject_and_close_with_code(upstream):
    url, _ = upstream
    async with FaultProxy(url) as proxy, connect(proxy.url) as ws:
        await ws.send("warm-up")
        await recv_json(ws)
        await recv_json(ws)
        await proxy.inject({"type": "brand.new.event"})
        await proxy.inject("{not json")
        assert (await recv_json(ws)) == {"type": "brand.new.event"}
        assert await asyncio.wait_for(ws.recv(), 2 * UNIT) == "{not json"
        await proxy.close(1001, "Your session hit the maximum duration of 60 minutes.")
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), 2 * UNIT)
        assert info.value.rcvd.code == 1001


async def test_proxy_stall_delays_then_delivers_in_order(upstream):
    url, _ = upstream
    async with FaultProxy(url) as proxy, connect(proxy.url) as ws:
        loop = asyncio.get_running_loop()
        proxy.stall(0.3 * UNIT)
        started = loop.time()
        await ws.send("s")
        assert (await recv_json(ws))["type"] == "first"
        assert loop.time() - started >= 0.25 * UNIT
        assert (await recv_json(ws))["type"] == "second"


def test_fault_rejects_unknown_action():
    with pytest.raises(ValueError, match="unknown fault action"):
        Fault("explode")
