"""MCP tools end to end: the client, the embedded server as a real MCP client, and the real
demo MCP server (``realtime_widget.testing.mcp_demo``: the ``mcp`` package's ``MCPServer``) on
loopback (issue 12, point 4). The embedded server's EchoBrain calls a tool when told
``call NAME with {json}`` and answers ``NAME returned OUTPUT.``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from realtime_widget.export import to_markdown
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.testing.faults import FaultProxy
from tests.helpers import UNIT

pytest.importorskip("mcp")
from realtime_widget.testing.mcp_demo import DemoMCPServer


@pytest.fixture(scope="module")
def mcp_url() -> Iterator[str]:
    with DemoMCPServer() as url:
        yield url


def mcp_tool(url: str, **fields) -> dict:
    return {"type": "mcp", "server_label": "demo", "server_url": url, **fields}


async def connected(make_client, url: str, *tools: dict, **options):
    """A client with these MCP tools, once the server has listed them (or failed to)."""
    client, probe = make_client(url, **options)
    approvals: list[dict] = []
    client.on("mcp.approval_request", approvals.append)
    for tool in tools:
        client.add_tool(tool)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    await probe.until(
        lambda: (
            len(probe.received("mcp_list_tools.completed", "mcp_list_tools.failed")) >= len(tools)
        )
    )
    return client, probe, approvals


def of_type(client, kind: str) -> list[dict]:
    return [i for i in client.conversation.get_items() if i["type"] == kind]


def last_words(client) -> str:
    messages = [i for i in client.conversation.get_items() if i["type"] == "message"]
    if not messages:
        return ""
    return messages[-1]["formatted"]["text"] or messages[-1]["formatted"]["transcript"]


async def test_client_sees_the_tools_listed_a_call_and_the_answer(server, make_client, mcp_url):
    client, probe, _ = await connected(
        make_client, server.url, mcp_tool(mcp_url, require_approval="never")
    )
    [listing] = of_type(client, "mcp_list_tools")
    assert listing["status"] == "completed"
    names = {t["name"] for t in listing["formatted"]["mcp"]["tools"]}
    assert {"add", "capital", "fail", "slow", "huge"} <= names

    client.send_user_message_content('call add with {"a": 2, "b": 40}')
    await probe.received_type("response.done")
    [call] = of_type(client, "mcp_call")
    assert call["status"] == "completed"
    assert call["formatted"]["tool"]["name"] == "add"
    assert json.loads(call["formatted"]["tool"]["arguments"]) == {"a": 2, "b": 40}
    assert call["formatted"]["output"] == "42" and call["formatted"]["error"] is None
    assert last_words(client) == "add returned 42."
    assert '**MCP tool** demo: `add({"a": 2, "b": 40})` → `42`' in to_markdown(client)
    assert not probe.of("error")


async def test_client_approves_an_mcp_call_and_the_server_runs_it(server, make_client, mcp_url):
    client, probe, approvals = await connected(make_client, server.url, mcp_tool(mcp_url))
    client.send_user_message_content('call capital with {"country": "Japan"}')
    [event] = await probe.until(lambda: approvals)
    request = event["item"]
    assert (request["server_label"], request["name"]) == ("demo", "capital")
    await probe.received_type("response.done")
    assert of_type(client, "mcp_call") == []  # nothing runs before the answer

    client.approve_mcp(request["id"])
    await probe.received_type("response.done", 2)
    [call] = of_type(client, "mcp_call")
    assert call["approval_request_id"] == request["id"]
    assert call["formatted"]["output"] == "Tokyo"
    assert last_words(client) == "capital returned Tokyo."
    decision = client.conversation.get_item(request["id"])["formatted"]["mcp"]["decision"]
    assert decision == {"approve": True, "reason": None}
    assert not probe.of("error")


async def test_client_denies_an_mcp_call_and_the_model_is_told(server, make_client, mcp_url):
    client, probe, approvals = await connected(make_client, server.url, mcp_tool(mcp_url))
    client.send_user_message_content('call capital with {"country": "Japan"}')
    [event] = await probe.until(lambda: approvals)
    await probe.received_type("response.done")
    client.deny_mcp(event["item"]["id"], reason="not now")
    await probe.received_type("response.done", 2)
    assert of_type(client, "mcp_call") == []
    assert last_words(client) == "capital was not approved, so I did not call it."
    assert not probe.of("error")


async def test_client_auto_approves_a_tool_by_name(server, make_client, mcp_url):
    client, probe = make_client(server.url)
    client.add_tool(mcp_tool(mcp_url), auto_approve=["capital"])
    await client.connect_async()
    await probe.received_type("mcp_list_tools.completed")
    client.send_user_message_content('call capital with {"country": "Italy"}')
    await probe.until(lambda: of_type(client, "mcp_call"))
    await probe.until(lambda: last_words(client) == "capital returned Rome.")
    assert client.mcp_approval_requests == []


async def test_client_reports_a_failing_mcp_tool_and_goes_on(server, make_client, mcp_url):
    client, probe, _ = await connected(
        make_client, server.url, mcp_tool(mcp_url, require_approval="never")
    )
    client.send_user_message_content('call fail with {"message": "disk on fire"}')
    [error] = await probe.until(lambda: probe.of("error"))
    assert error["source"] == "mcp" and error["error"]["code"] == "mcp_call_failed"
    assert "'fail'" in error["error"]["message"] and "disk on fire" in error["error"]["message"]
    await probe.received_type("response.done")
    [call] = of_type(client, "mcp_call")
    assert call["status"] == "failed"
    client.send_user_message_content('call add with {"a": 1, "b": 1}')
    await probe.until(lambda: last_words(client) == "add returned 2.")


async def test_client_gets_a_clear_error_for_an_unreachable_mcp_server(server, make_client):
    gone = {"type": "mcp", "server_label": "gone", "server_url": "http://127.0.0.1:9/mcp"}
    client, probe, _ = await connected(make_client, server.url, gone)
    [error] = await probe.until(lambda: probe.of("error"))
    assert error["error"]["code"] == "mcp_list_tools_failed"
    assert "'gone'" in error["error"]["message"]
    [listing] = of_type(client, "mcp_list_tools")
    assert listing["status"] == "failed"
    client.send_user_message_content("still there?")
    await probe.until(lambda: last_words(client) == "You said: still there?")
    assert len(probe.of("error")) == 1  # reported once, not once by the server and again


async def test_client_replays_mcp_history_and_tools_after_a_drop(make_client, mcp_url):
    async with LocalRealtimeServer(speed=0) as srv, FaultProxy(srv.url) as proxy:
        tool = mcp_tool(mcp_url, require_approval={"never": {"tool_names": ["add"]}})
        client, probe, approvals = await connected(
            make_client, proxy.url, tool, reconnect_delay=0.05 * UNIT
        )
        client.send_user_message_content('call add with {"a": 2, "b": 3}')
        await probe.until(lambda: last_words(client) == "add returned 5.")
        client.send_user_message_content('call capital with {"country": "Spain"}')
        await probe.until(lambda: approvals)
        await probe.received_type("response.done", 2)

        proxy.drop()
        await probe.until(lambda: probe.of("reconnected"))
        # The new session lists the server again, and took the replayed MCP items.
        await probe.until(
            lambda: (
                [i["status"] for i in of_type(client, "mcp_list_tools")]
                == ["completed", "completed"]
            )
        )
        client.approve_mcp(approvals[0]["item"]["id"])  # asked before the drop, answered after
        await probe.until(lambda: last_words(client) == "capital returned Madrid.")
        assert [c["formatted"]["output"] for c in of_type(client, "mcp_call")] == ["5", "Madrid"]
        assert not probe.of("error")
