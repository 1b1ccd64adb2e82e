"""MCP tools as pure data: checking a tool (also inside ``build_session``), the approval item."""

from __future__ import annotations

import pytest

from realtime_widget.protocol import build_session, check_mcp_tool, mcp_approval_response_item

TOOL = {
    "type": "mcp",
    "server_label": "docs",
    "server_url": "https://example.com/mcp",
    "allowed_tools": ("search",),
    "require_approval": {"never": {"tool_names": ("search",), "read_only": True}},
    "headers": {"X-Key": "v"},
}


def test_check_mcp_tool_returns_a_clean_copy_with_lists():
    clean = check_mcp_tool(TOOL)
    assert clean["allowed_tools"] == ["search"]
    assert clean["require_approval"] == {"never": {"tool_names": ["search"], "read_only": True}}
    assert clean["headers"] == {"X-Key": "v"} and clean["headers"] is not TOOL["headers"]
    assert check_mcp_tool({"server_label": "g", "connector_id": "connector_gmail"})["type"] == "mcp"


def test_build_session_checks_mcp_tools_among_function_tools():
    session = build_session({"tools": [{"name": "f"}, TOOL]})
    assert [t["type"] for t in session["tools"]] == ["function", "mcp"]
    with pytest.raises(ValueError, match=r"tools\[1\]: MCP server 'x' needs one of 'server_url'"):
        build_session({"tools": [{"name": "f"}, {"type": "mcp", "server_label": "x"}]})


@pytest.mark.parametrize("value", [{"read_only": "yes"}, 3, ["search", 4]])
def test_check_mcp_tool_refuses_a_bad_allowed_tools_filter(value):
    with pytest.raises(ValueError, match="allowed_tools"):
        check_mcp_tool({**TOOL, "allowed_tools": value})


def test_mcp_approval_response_item_has_the_sdk_shape():
    assert mcp_approval_response_item("mcpr_1", 1) == {
        "type": "mcp_approval_response",
        "approval_request_id": "mcpr_1",
        "approve": True,
    }
    assert mcp_approval_response_item("mcpr_1", False, "no")["reason"] == "no"
