"""The demo MCP server answers a real MCP client over streamable HTTP on loopback."""

import asyncio
import subprocess
import sys

import httpx
import pytest
from mcp import Client

from realtime_widget.testing.mcp_demo import CAPITALS, DemoMCPServer
from tests.helpers import UNIT


@pytest.fixture(scope="module")
def demo_url():
    with DemoMCPServer() as url:
        yield url


async def test_demo_server_lists_its_tools_with_schemas(demo_url):
    async with Client(demo_url, read_timeout_seconds=5 * UNIT) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"add", "capital", "slow", "huge", "fail"} <= set(tools)
    assert tools["add"].input_schema["properties"]["a"]["type"] == "integer"
    assert "capital city" in tools["capital"].description


async def test_demo_server_tools_answer(demo_url):
    async with Client(demo_url, read_timeout_seconds=5 * UNIT) as client:
        added = await client.call_tool("add", {"a": 2, "b": 40})
        city = await client.call_tool("capital", {"country": "France"})
        big = await client.call_tool("huge", {"kilobytes": 64})
        failed = await client.call_tool("fail", {"message": "boom"})
    assert added.content[0].text == "42"
    assert city.content[0].text == CAPITALS["france"]
    assert len(big.content[0].text) == 64 * 1024
    assert failed.is_error and "boom" in failed.content[0].text


async def test_demo_server_slow_tool_waits(demo_url):
    async with Client(demo_url, read_timeout_seconds=5 * UNIT) as client:
        loop = asyncio.get_running_loop()
        start = loop.time()
        result = await client.call_tool("slow", {"seconds": 0.3})
    assert loop.time() - start >= 0.3
    assert "waited" in result.content[0].text


def test_demo_server_with_token_refuses_requests_without_it():
    with DemoMCPServer(token="s3cret") as url:
        body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        headers = {"accept": "application/json, text/event-stream"}
        refused = httpx.post(url, json=body, headers=headers, timeout=5 * UNIT)
        assert refused.status_code == 401
        allowed = httpx.post(
            url, json=body, headers={**headers, "authorization": "Bearer s3cret"}, timeout=5 * UNIT
        )
        assert allowed.status_code != 401


def test_demo_server_stops_and_frees_its_port():
    server = DemoMCPServer()
    url = server.start()
    server.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.post(url, json={}, timeout=UNIT)
    with pytest.raises(RuntimeError, match="not started"):
        _ = server.url


def test_importing_demo_without_mcp_says_which_extra_to_install():
    code = (
        "import sys; sys.modules['mcp'] = None; sys.modules['mcp.server'] = None\n"
        "try:\n"
        "    import realtime_widget.testing.mcp_demo\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30 * UNIT
    )
    assert "pip install 'realtime_widget[mcp]'" in out.stdout, out.stderr


def test_demo_server_leaves_the_root_logger_alone():
    # MCPServer() runs logging.basicConfig(level="INFO"); in a kernel that printed uvicorn's and
    # httpx's INFO records ("StreamableHTTP session manager started") into the user's cells.
    code = (
        "import logging\n"
        "from realtime_widget.testing.mcp_demo import DemoMCPServer\n"
        "with DemoMCPServer():\n"
        "    pass\n"
        "root = logging.getLogger()\n"
        "print(root.handlers, logging.getLevelName(root.level))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60 * UNIT
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[] WARNING"
    assert "session manager" not in run.stderr, run.stderr
