"""The pure side of MCP tools (``server/_mcp.py``): policies, listing results, approvals."""

from __future__ import annotations

from realtime_widget.server._mcp import allowed, needs_approval
from tests.server.checked import types
from tests.server.driver import StateDriver

ADD = {"name": "add", "input_schema": {"type": "object"}, "annotations": None}
READ = {"name": "read", "input_schema": {"type": "object"}, "annotations": {"readOnlyHint": True}}


def test_require_approval_defaults_to_always_and_filters_pick_tools():
    assert needs_approval({}, ADD)
    assert needs_approval({"require_approval": "always"}, ADD)
    assert not needs_approval({"require_approval": "never"}, ADD)
    never_add = {"require_approval": {"never": {"tool_names": ["add"]}}}
    assert not needs_approval(never_add, ADD) and needs_approval(never_add, READ)
    never_read_only = {"require_approval": {"never": {"read_only": True}}}
    assert not needs_approval(never_read_only, READ) and needs_approval(never_read_only, ADD)
    assert needs_approval({"require_approval": {"always": {"tool_names": ["add"]}}}, ADD)


def test_allowed_tools_take_names_or_a_filter():
    assert allowed({}, ADD)
    assert allowed({"allowed_tools": ["add"]}, ADD) and not allowed({"allowed_tools": []}, ADD)
    assert allowed({"allowed_tools": {"read_only": True}}, READ)
    assert not allowed({"allowed_tools": {"read_only": True}}, ADD)


def _configure(d: StateDriver, *tools: dict) -> list[dict]:
    return d.send({"type": "session.update", "session": {"type": "realtime", "tools": list(tools)}})


def test_listing_results_reach_the_item_and_only_changed_servers_are_listed_again():
    d = StateDriver()
    tool = {"type": "mcp", "server_label": "s", "server_url": "http://127.0.0.1:1/mcp"}
    out = _configure(d, tool)
    job = d.state.take_mcp_list_job()
    assert job is not None and job.server_label == "s" and d.state.take_mcp_list_job() is None
    assert out[1]["item"]["id"] == job.item_id
    done = d._keep(d.state.provide_mcp_tools(job.item_id, [ADD, READ]))
    assert types(done) == ["mcp_list_tools.completed", "conversation.item.done"]
    assert [t["name"] for t in done[1]["item"]["tools"]] == ["add", "read"]
    assert types(_configure(d, {**tool, "require_approval": "never"})) == ["session.updated"]
    assert d.state.take_mcp_list_job() is None  # same source: no new listing
    changed = _configure(d, {**tool, "allowed_tools": ["add"]})
    assert types(changed)[1:] == ["conversation.item.added", "mcp_list_tools.in_progress"]
    # a late answer for the replaced listing is ignored
    assert d.state.provide_mcp_tools(job.item_id, [ADD]) == []


def test_an_approved_request_is_run_once_even_after_history_replay():
    d = StateDriver(brain=lambda text: "ok")
    request = {"type": "mcp_approval_request", "id": "mcpr_1", "server_label": "s",
               "name": "add", "arguments": "{}"}  # fmt: skip
    d.send({"type": "conversation.item.create", "item": request})
    # the call it allowed was already made (replayed history): not made again
    call = {"type": "mcp_call", "server_label": "s", "name": "add", "arguments": "{}",
            "approval_request_id": "mcpr_1", "output": "3"}  # fmt: skip
    d.send({"type": "conversation.item.create", "item": call})
    approval = {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True}
    d.send({"type": "conversation.item.create", "item": approval})
    d.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
    done = next(e for e in d.drain() if e["type"] == "response.done")["response"]
    assert [o["type"] for o in done["output"]] == ["message"]
