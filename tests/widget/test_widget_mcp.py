"""MCP items in the widget (issue 12, point 4): item views, and the browser's approval message.

The approval request is added to the real embedded server's conversation by a raw client event
(what its brain does with a real MCP server is covered end to end in tests/server and tests/ui).
"""

from __future__ import annotations

import json

import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from realtime_widget.conversation import RealtimeConversation
from realtime_widget.widget._items import item_view, transcript_markdown
from tests.widget.test_widget import browser, wait_until

REQUEST = {
    "id": "mcpr_w1",
    "type": "mcp_approval_request",
    "server_label": "demo",
    "name": "add",
    "arguments": '{"a": 2, "b": 3}',
}


def reduce(*items: dict) -> RealtimeConversation:
    conversation = RealtimeConversation()
    for item in items:
        conversation.process_event({"type": "conversation.item.added", "item": item})
    return conversation


def test_item_view_describes_mcp_items_and_is_json_safe():
    tools = [{"name": "add", "description": "Add.", "input_schema": {}}]
    huge = "x" * 50_000
    conversation = reduce(
        {"id": "l", "type": "mcp_list_tools", "server_label": "demo", "tools": tools},
        {
            "id": "c",
            "type": "mcp_call",
            "server_label": "demo",
            "name": "add",
            "arguments": '{"a": 1}',
            "output": huge,
        },
        {
            "id": "f",
            "type": "mcp_call",
            "server_label": "demo",
            "name": "fail",
            "arguments": "{}",
            "error": {"type": "tool_execution_error", "message": "boom"},
        },
        REQUEST,
        {
            "id": "a",
            "type": "mcp_approval_response",
            "approval_request_id": "mcpr_w1",
            "approve": True,
        },
    )
    views = {i["id"]: item_view(i) for i in conversation.get_items()}
    json.dumps(list(views.values()))
    assert views["l"]["mcp"]["tools"] == [{"name": "add", "description": "Add."}]
    assert views["l"]["status"] == "completed"
    call = views["c"]["mcp"]
    assert (call["server_label"], call["name"], call["arguments"]) == ("demo", "add", '{"a": 1}')
    assert len(call["output"]) < 20_100 and call["output"].endswith("30000 more characters)")
    assert views["f"]["mcp"]["error"] == "boom" and views["f"]["status"] == "failed"
    assert views["mcpr_w1"]["mcp"]["decision"] == {"approve": True, "reason": None}
    assert views["a"]["mcp"]["approve"] is True
    assert views["c"]["tool"] is None  # function-call fields stay for function calls
    text = transcript_markdown(list(views.values()))
    assert "**MCP tool** demo: `fail({})` → *failed: boom*" in text


def test_item_view_of_other_items_has_no_mcp_part():
    conversation = reduce({"id": "m", "type": "message", "role": "user", "content": []})
    assert item_view(conversation.get_items()[0])["mcp"] is None


@pytest.fixture
def widget():
    with LocalRealtimeServer() as server:
        w = RealtimeWidget(url=server.url)
        wait_until(lambda: w.status == "connected", what="connected")
        yield w
        w.close()


def request_view(w):
    return next((i for i in w.items if i["id"] == REQUEST["id"]), None)


def test_widget_approve_message_answers_the_mcp_request_and_the_card_shows_it(widget):
    w = widget
    seen = []
    w.client.on("mcp.approval_request", seen.append)
    w.client.realtime.send("conversation.item.create", {"item": REQUEST})
    wait_until(lambda: seen and request_view(w), what="the approval request")
    assert request_view(w)["mcp"]["decision"] is None

    browser(w, {"type": "mcp_approve", "request_id": REQUEST["id"], "approve": False})
    # The request's card is refreshed when the server records the answer.
    view = wait_until(
        lambda: (request_view(w)["mcp"]["decision"] or None) and request_view(w),
        what="the decision on the request's card",
    )
    assert view["mcp"]["decision"] == {"approve": False, "reason": None}
    answer = [i for i in w.items if i["type"] == "mcp_approval_response"]
    assert answer and answer[0]["mcp"]["approval_request_id"] == REQUEST["id"]

    # A second click (another view) is refused with an error entry, never an exception.
    browser(w, {"type": "mcp_approve", "request_id": REQUEST["id"], "approve": True})
    error = wait_until(
        lambda: [e for e in w.errors if e["code"] == "mcp_approval_failed"], what="error entry"
    )
    assert "already denied" in error[0]["message"]
