"""MCP tools through the widget in JupyterLab: the real demo MCP server, the embedded server as
its MCP client, the kernel's client and the widget's cards in a real Chromium (issue 12, point 4).

The embedded server's EchoBrain calls a tool when asked ``call NAME with {json}``; the demo MCP
server (``realtime_widget.testing.mcp_demo``) runs in the kernel on loopback.
"""

from __future__ import annotations

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

MCP_CELLS = [
    """
from realtime_widget import RealtimeWidget
from realtime_widget.testing.mcp_demo import DemoMCPServer
demo = DemoMCPServer()
url = demo.start()
w = RealtimeWidget()
w.client.add_tool({"type": "mcp", "server_label": "demo", "server_url": url,
                   "require_approval": {"never": {"tool_names": ["add"]}}})
w
""",
]


def _mcp_items(kind: str) -> str:
    """Kernel expression: the item views of one MCP item type."""
    return f"[i for i in w.items if i['type'] == {kind!r}]"


def test_mcp_call_card_and_approval_card_in_the_browser(open_notebook):
    nb = open_notebook(MCP_CELLS, wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")

    # The server lists the demo tools; the footer's list shows them.
    summary = view.root.locator("summary[aria-label='MCP tools']")
    summary.wait_for(timeout=30 * UNIT * 1000)
    summary.click()
    view.root.locator(".rtw-mcp-tools-list li[data-server-label='demo']").filter(
        has_text="capital"
    ).wait_for(timeout=20 * UNIT * 1000)

    # A call that needs no approval: an MCP call card with its result.
    view.send_message('call add with {"a": 2, "b": 3}')
    card = view.conversation.locator("[data-mcp-type='mcp_call'][data-mcp-state='completed']")
    card.first.wait_for(timeout=30 * UNIT * 1000)
    assert card.first.get_attribute("data-server-label") == "demo"
    assert "add" in card.first.inner_text()
    card.first.locator("summary").click()  # expand: arguments and result
    card.first.locator("[aria-label='Result']").filter(has_text="5").wait_for(
        timeout=10 * UNIT * 1000
    )
    view.wait_turn("assistant", text="add returned 5", timeout=30 * UNIT)
    nb.screenshot("mcp-call-card")

    # A call that needs approval: the approval card, then Approve runs it.
    view.send_message('call capital with {"country": "Japan"}')
    request = view.conversation.locator("[data-mcp-type='mcp_approval_request']").last
    approve = request.get_by_role("button", name="Approve", exact=True)
    approve.wait_for(timeout=30 * UNIT * 1000)
    assert request.get_by_role("button", name="Deny", exact=True).is_visible()
    assert request.get_attribute("data-mcp-state") == "awaiting_approval"
    nb.screenshot("mcp-awaiting-approval")
    calls = nb.kernel.value(_mcp_items("mcp_call"))
    assert [c["mcp"]["name"] for c in calls] == ["add"], "capital must not run before approval"

    approve.click()
    request.and_(view.conversation.locator("[data-mcp-state='approved']")).wait_for(
        timeout=20 * UNIT * 1000
    )
    assert approve.count() == 0, "the decision buttons go once decided"
    view.wait_turn("assistant", text="capital returned Tokyo", timeout=30 * UNIT)
    answered = nb.kernel.wait_for(
        f"[c for c in {_mcp_items('mcp_call')} if c['mcp']['name'] == 'capital']"
    )
    assert answered[0]["mcp"]["output"] == "Tokyo"
    requests = nb.kernel.value(_mcp_items("mcp_approval_request"))
    assert requests[-1]["mcp"]["decision"] == {"approve": True, "reason": None}
    nb.screenshot("mcp-approved")
