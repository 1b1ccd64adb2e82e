"""MCP tools on the client (issue 12, point 4): registration, approvals, replay after a drop.

Against the real embedded server: it takes MCP tools in ``session.update`` and MCP items in
``conversation.item.create`` (an approval request made that way stands in for one its brain adds,
which the end-to-end tests with a real MCP server cover).
"""

from __future__ import annotations

import warnings

import pytest

from realtime_widget.client import RealtimeClient
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.testing.faults import FaultProxy
from tests.helpers import UNIT

MCP = {
    "type": "mcp",
    "server_label": "demo",
    "server_url": "http://127.0.0.1:9/mcp",
    "require_approval": "always",
}


def request_item(request_id: str = "mcpr_1", name: str = "add") -> dict:
    return {
        "id": request_id,
        "type": "mcp_approval_request",
        "server_label": "demo",
        "name": name,
        "arguments": '{"a": 2, "b": 3}',
    }


async def connected(make_client, url: str, **options):
    client, probe = make_client(url, **options)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    return client, probe


# The embedded server is a real MCP client: it tries MCP's server_url (nothing listens on port 9)
# and reports that listing, and the calls approved here, failed. Those errors are the server's
# answer to the fake URL, not something the client did wrong.
_UNREACHABLE_MCP = {"mcp_list_tools_failed", "mcp_call_failed"}


def own_errors(probe) -> list[dict]:
    """Error events other than the embedded server's reports about the unreachable MCP server."""
    return [e for e in probe.of("error") if e["error"].get("code") not in _UNREACHABLE_MCP]


def sent_tools(probe) -> list[list[dict]]:
    return [e["session"]["tools"] for e in probe.sent("session.update") if "tools" in e["session"]]


# -- registration ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        ({"type": "mcp", "server_url": "http://x/mcp"}, "needs a 'server_label'"),
        ({"type": "mcp", "server_label": "demo"}, "needs one of 'server_url'"),
        ({**MCP, "server_url": "ftp://x"}, "expected an http"),
        ({**MCP, "require_approval": "sometimes"}, "expected 'always', 'never' or a filter"),
        ({**MCP, "require_approval": {"nevr": {}}}, "unknown key 'nevr'"),
        ({**MCP, "require_approval": {"never": {"tool_names": "add"}}}, "list of tool names"),
        ({**MCP, "server_lable": "x"}, "did you mean 'server_label'"),
        ({**MCP, "connector_id": "x", "server_url": None}, "unknown connector"),
        ({**MCP, "headers": {"X": 1}}, "header names to string values"),
    ],
)
def test_client_add_tool_refuses_a_malformed_mcp_tool_with_what_to_write(definition, message):
    client = RealtimeClient(api_key="sk-local-test")
    with pytest.raises(ValueError, match=message):
        client.add_tool(definition)
    assert client.mcp_tools == []


def test_client_add_tool_mcp_takes_only_auto_approve():
    client = RealtimeClient(api_key="sk-local-test")
    with pytest.raises(TypeError, match="the server runs MCP tools, so handler, timeout"):
        client.add_tool(MCP, lambda args: None, timeout=3)
    with pytest.raises(TypeError, match="auto_approve takes tool names"):
        client.add_tool(MCP, auto_approve=3)


def test_client_mcp_tools_keep_their_secrets_out_of_the_repr():
    client = RealtimeClient(api_key="sk-local-test")
    client.add_tool({**MCP, "authorization": "tok-secret", "headers": {"X-Key": "hdr-secret"}})
    assert "secret" not in repr(client._mcp) and "secret" not in repr(client)


async def test_client_sends_mcp_tools_alongside_function_tools(server, make_client):
    client, probe = await connected(make_client, server.url)

    def lookup(q: str) -> str:
        """Look something up."""
        return q

    client.add_tool(lookup)
    added = client.add_tool({**MCP, "require_approval": {"never": {"tool_names": ["add"]}}})
    assert added["server_label"] == "demo"
    await probe.received_type("session.updated", 3)
    tools = sent_tools(probe)[-1]
    assert [t["type"] for t in tools] == ["function", "mcp"]
    assert tools[1] == {**MCP, "require_approval": {"never": {"tool_names": ["add"]}}}
    session = probe.received("session.updated")[-1]["session"]
    assert [t["type"] for t in session["tools"]] == ["function", "mcp"]
    assert not own_errors(probe)

    client.remove_tool("demo")  # by server label
    await probe.received_type("session.updated", 4)
    assert [t["type"] for t in sent_tools(probe)[-1]] == ["function"]
    with pytest.raises(KeyError, match="no tool named 'demo'"):
        client.remove_tool("demo")


async def test_client_update_session_tools_sets_the_mcp_tools(server, make_client):
    client, probe = await connected(make_client, server.url)
    other = {**MCP, "server_label": "other", "require_approval": "never"}
    client.update_session(tools=[MCP, other], instructions="Use the tools.")
    await probe.received_type("session.updated", 3)
    assert [t["server_label"] for t in sent_tools(probe)[-1]] == ["demo", "other"]
    client.update_session(tools=[other])  # declarative: the session's MCP tools are these now
    await probe.received_type("session.updated", 4)
    assert sent_tools(probe)[-1] == [other]
    assert client.mcp_tools == [other]
    with pytest.raises(ValueError, match=r"tools\[0\]: .*needs one of 'server_url'"):
        client.update_session(tools=[{"type": "mcp", "server_label": "x"}])
    assert client.mcp_tools == [other]  # a refused update changes nothing
    with pytest.warns(UserWarning, match="'ghost' has no handler"):
        client.update_session(tools=[{"type": "function", "name": "ghost"}])
    assert not own_errors(probe)


def test_client_update_session_tools_before_connect_are_sent_on_connect():
    client = RealtimeClient(api_key="sk-local-test")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.update_session({"tools": [MCP]})
    assert client.mcp_tools == [MCP]


# -- approvals ------------------------------------------------------------------------------


async def ask_approval(client, probe, request_id: str = "mcpr_1", name: str = "add"):
    """The server adds an approval request (here made by a raw client event)."""
    client.realtime.send("conversation.item.create", {"item": request_item(request_id, name)})
    return await probe.until(
        lambda: [e for e in approvals(client) if e["item"]["id"] == request_id]
    )


def approvals(client) -> list[dict]:
    return client._test_approvals


@pytest.fixture
def make_mcp_client(make_client):
    def make(url: str, **options):
        client, probe = make_client(url, **options)
        client._test_approvals = []
        client.on("mcp.approval_request", client._test_approvals.append)
        return client, probe

    return make


async def test_client_announces_an_approval_request_and_sends_the_answer(server, make_mcp_client):
    client, probe = await connected(make_mcp_client, server.url)
    client.add_tool(MCP)
    [event] = await ask_approval(client, probe)
    assert event["auto_approved"] is False
    assert event["item"]["name"] == "add"
    assert [r["id"] for r in client.mcp_approval_requests] == ["mcpr_1"]

    client.approve_mcp("mcpr_1")
    await probe.received_type("response.done")
    creates = probe.sent("conversation.item.create")
    assert creates[-1]["item"] == {
        "type": "mcp_approval_response",
        "approval_request_id": "mcpr_1",
        "approve": True,
    }
    last_two = [e["type"] for e in probe.sent()][-2:]
    assert last_two == ["conversation.item.create", "response.create"]
    assert client.mcp_approval_requests == []
    request = client.conversation.get_item("mcpr_1")
    assert request["formatted"]["mcp"]["decision"] == {"approve": True, "reason": None}
    with pytest.raises(ValueError, match="'mcpr_1' was already approved"):
        client.approve_mcp("mcpr_1")
    with pytest.raises(ValueError, match="no MCP approval request 'nope' is waiting"):
        client.deny_mcp("nope")
    assert not own_errors(probe)


async def test_client_denies_with_a_reason(server, make_mcp_client):
    client, probe = await connected(make_mcp_client, server.url)
    await ask_approval(client, probe)
    client.deny_mcp("mcpr_1", reason="not today")
    await probe.received_type("response.done")
    answer = probe.sent("conversation.item.create")[-1]["item"]
    assert answer == {
        "type": "mcp_approval_response",
        "approval_request_id": "mcpr_1",
        "approve": False,
        "reason": "not today",
    }
    request = client.conversation.get_item("mcpr_1")
    assert request["formatted"]["mcp"]["decision"] == {"approve": False, "reason": "not today"}


async def test_client_auto_approves_the_tools_named_and_asks_for_the_others(
    server, make_mcp_client
):
    client, probe = await connected(make_mcp_client, server.url)
    client.add_tool(MCP, auto_approve=["add"])
    [event] = await ask_approval(client, probe, "mcpr_1", "add")
    assert event["auto_approved"] is True
    await probe.received_type("response.done")
    assert probe.sent("conversation.item.create")[-1]["item"]["approval_request_id"] == "mcpr_1"
    [event] = await ask_approval(client, probe, "mcpr_2", "capital")
    assert event["auto_approved"] is False
    assert [r["id"] for r in client.mcp_approval_requests] == ["mcpr_2"]
    client.approve_mcp("mcpr_2", always=True)  # and from now on
    await probe.received_type("response.done", 2)
    [event] = await ask_approval(client, probe, "mcpr_3", "capital")
    assert event["auto_approved"] is True
    await probe.received_type("response.done", 3)
    assert client.mcp_approval_requests == []


def test_client_approve_mcp_needs_a_connection():
    client = RealtimeClient(api_key="sk-local-test")
    with pytest.raises(RuntimeError, match="not connected"):
        client.approve_mcp("mcpr_1")


# -- reconnect ------------------------------------------------------------------------------


async def test_client_replays_mcp_tools_and_items_into_a_new_session(make_mcp_client):
    async with LocalRealtimeServer(speed=0) as srv, FaultProxy(srv.url) as proxy:
        client, probe = await connected(make_mcp_client, proxy.url, reconnect_delay=0.05 * UNIT)
        client.add_tool(MCP)
        call = {
            "id": "mcp_1",
            "type": "mcp_call",
            "server_label": "demo",
            "name": "add",
            "arguments": '{"a": 1, "b": 1}',
            "output": "2",
        }
        client.realtime.send("conversation.item.create", {"item": call})
        await ask_approval(client, probe, "mcpr_1")
        client.approve_mcp("mcpr_1")
        await probe.received_type("response.done")
        await ask_approval(client, probe, "mcpr_2")  # still waiting when the drop comes
        await probe.until(lambda: client.conversation.get_item("mcpr_2"))
        before = len(probe.sent("conversation.item.create"))

        proxy.drop()
        [reconnected] = await probe.until(lambda: probe.of("reconnected"))
        replayed = [e["item"] for e in probe.sent("conversation.item.create")[before:]]
        # (the echo brain's answer to the first approval is a message, replayed between them)
        replayed = [i for i in replayed if i["type"].startswith("mcp_")]
        assert [(i["type"], i.get("id")) for i in replayed] == [
            ("mcp_call", "mcp_1"),
            ("mcp_approval_request", "mcpr_1"),
            ("mcp_approval_response", replayed[2]["id"]),
            # the call the server made for mcpr_1 (failed: nothing listens at MCP's url)
            ("mcp_call", replayed[3]["id"]),
            ("mcp_approval_request", "mcpr_2"),
        ]
        assert replayed[0]["output"] == "2"
        assert replayed[3]["approval_request_id"] == "mcpr_1" and replayed[3]["error"]
        assert reconnected["replayed_items"] == 6
        assert sent_tools(probe)[-1] == [MCP]  # the new session's settings carry the tool
        # The request still waiting can be answered in the new session.
        client.approve_mcp("mcpr_2")
        await probe.received_type("response.done", 2)
        await probe.until(lambda: len(probe.received("conversation.item.added")) >= 9)
        assert not own_errors(probe)
        assert [i["id"] for i in client.conversation.get_items()].count("mcp_1") == 1


# -- failures -------------------------------------------------------------------------------


def feed(client: RealtimeClient, *events: dict) -> list[dict]:
    """Server events straight into the client's event path (no socket); returns `error`s."""
    errors: list[dict] = []
    client.on("error", errors.append)
    for event in events:
        client._on_server_event(event)
    return errors


LISTING = {
    "type": "conversation.item.added",
    "event_id": "evt_1",
    "item": {"id": "mcpl_1", "type": "mcp_list_tools", "server_label": "gone", "tools": []},
}
FAILED = {"type": "mcp_list_tools.failed", "event_id": "evt_2", "item_id": "mcpl_1"}


def test_client_says_which_mcp_server_failed_to_list_when_the_server_does_not():
    client = RealtimeClient(api_key="sk-local-test")
    later = {"type": "rate_limits.updated", "event_id": "evt_3", "rate_limits": []}
    [error] = feed(client, LISTING, FAILED, later)
    assert error["source"] == "mcp"
    assert error["error"]["code"] == "mcp_list_tools_failed"
    assert "MCP server 'gone' could not be reached" in error["error"]["message"]
    assert client.conversation.get_item("mcpl_1")["status"] == "failed"


def test_client_does_not_repeat_the_servers_own_error_about_a_failed_listing():
    client = RealtimeClient(api_key="sk-local-test")
    server_error = {
        "type": "error",
        "event_id": "evt_3",
        "error": {
            "type": "invalid_request_error",
            "code": "mcp_list_tools_failed",
            "message": "MCP server 'gone' at http://127.0.0.1:9/mcp: Could not connect",
        },
    }
    [error] = feed(client, LISTING, FAILED, server_error)
    assert error["error"]["message"].endswith("Could not connect")


def test_client_reports_a_failed_mcp_call_once():
    client = RealtimeClient(api_key="sk-local-test")
    call = {
        "id": "mcp_1",
        "type": "mcp_call",
        "server_label": "demo",
        "name": "fail",
        "arguments": "{}",
        "output": None,
        "error": {"type": "tool_execution_error", "message": "disk on fire"},
    }
    added = {**call, "error": None}
    errors = feed(
        client,
        {"type": "conversation.item.added", "event_id": "e1", "item": added},
        {
            "type": "response.mcp_call.failed",
            "event_id": "e2",
            "item_id": "mcp_1",
            "output_index": 0,
        },
        {
            "type": "response.output_item.done",
            "event_id": "e3",
            "response_id": "r",
            "output_index": 0,
            "item": call,
        },
        {"type": "conversation.item.done", "event_id": "e4", "item": call},
    )
    [error] = errors
    assert error["source"] == "mcp" and error["error"]["code"] == "mcp_call_failed"
    assert "MCP tool 'fail' of server 'demo' failed: disk on fire" in error["error"]["message"]
