"""The reducer's MCP items (issue 12, point 4): events shaped and checked by the openai SDK."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from realtime_widget.conversation import IGNORED_EVENTS, RealtimeConversation
from tests.sdk_models import sdk_errors

_ids = itertools.count()


def ev(kind: str, **fields: Any) -> dict[str, Any]:
    """A server event, checked against the SDK's model for its type (strict)."""
    event = {"type": kind, "event_id": f"evt_{next(_ids)}", **fields}
    assert sdk_errors(event) == [], (kind, sdk_errors(event))
    return event


def list_item(tools: list[dict] | None = None) -> dict[str, Any]:
    return {"id": "mcpl_1", "type": "mcp_list_tools", "server_label": "demo", "tools": tools or []}


def call_item(**fields: Any) -> dict[str, Any]:
    item = {
        "id": "mcp_1",
        "type": "mcp_call",
        "server_label": "demo",
        "name": "add",
        "arguments": "",
    }
    return {**item, **fields}


def request_item() -> dict[str, Any]:
    return {
        "id": "mcpr_1",
        "type": "mcp_approval_request",
        "server_label": "demo",
        "name": "add",
        "arguments": '{"a": 2, "b": 3}',
    }


TOOLS = [
    {
        "name": "add",
        "description": "Add two integers.",
        "input_schema": {"type": "object", "properties": {"a": {"type": "integer"}}},
    },
    {"name": "fail", "input_schema": {"type": "object"}},
]


def test_mcp_events_are_handled_not_ignored():
    assert not {e for e in IGNORED_EVENTS if "mcp" in e}


def test_conversation_lists_mcp_tools_from_in_progress_to_completed(conversation):
    item = conversation.process_event(ev("conversation.item.added", item=list_item()))["item"]
    assert item["status"] == "in_progress"
    assert item["formatted"]["mcp"] == {"server_label": "demo", "tools": []}
    conversation.process_event(ev("mcp_list_tools.in_progress", item_id="mcpl_1"))
    conversation.process_event(ev("mcp_list_tools.completed", item_id="mcpl_1"))
    done = conversation.process_event(ev("conversation.item.done", item=list_item(TOOLS)))
    assert done["item"] is item
    assert item["status"] == "completed"
    assert item["formatted"]["mcp"]["tools"] == [
        {"name": "add", "description": "Add two integers."},
        {"name": "fail", "description": ""},
    ]
    assert conversation.get_items() == [item]


def test_conversation_marks_a_failed_tool_listing_failed(conversation):
    conversation.process_event(ev("conversation.item.added", item=list_item()))
    result = conversation.process_event(ev("mcp_list_tools.failed", item_id="mcpl_1"))
    assert result["item"]["status"] == "failed"
    conversation.process_event(ev("conversation.item.done", item=list_item()))
    assert conversation.get_item("mcpl_1")["status"] == "failed"  # done does not undo it


def test_conversation_streams_mcp_call_arguments_then_settles_with_output(conversation):
    added = ev("response.output_item.added", response_id="resp_1", output_index=0, item=call_item())
    conversation.process_event(ev("response.created", response={"id": "resp_1"}))
    conversation.process_event(added)
    item = conversation.process_event(ev("conversation.item.added", item=call_item()))["item"]
    assert item["status"] == "in_progress"
    assert item["formatted"]["tool"] == {
        "type": "mcp",
        "server_label": "demo",
        "name": "add",
        "arguments": "",
    }
    for piece in ('{"a": 2', ', "b": 3}'):
        result = conversation.process_event(
            ev(
                "response.mcp_call_arguments.delta",
                item_id="mcp_1",
                response_id="resp_1",
                output_index=0,
                delta=piece,
            )
        )
        assert result["delta"] == {"arguments": piece}
    assert item["formatted"]["tool"]["arguments"] == '{"a": 2, "b": 3}'
    conversation.process_event(
        ev(
            "response.mcp_call_arguments.done",
            item_id="mcp_1",
            response_id="resp_1",
            output_index=0,
            arguments='{"a": 2, "b": 3}',
        )
    )
    conversation.process_event(ev("response.mcp_call.in_progress", item_id="mcp_1", output_index=0))
    conversation.process_event(ev("response.mcp_call.completed", item_id="mcp_1", output_index=0))
    assert item["status"] == "completed"
    final = call_item(arguments='{"a": 2, "b": 3}', output="5")
    result = conversation.process_event(
        ev("response.output_item.done", response_id="resp_1", output_index=0, item=final)
    )
    assert result["item"] is item
    assert item["status"] == "completed"
    assert item["output"] == item["formatted"]["output"] == "5"
    assert item["formatted"]["error"] is None


def test_conversation_repairs_lost_argument_deltas_from_done(conversation):
    conversation.process_event(ev("conversation.item.added", item=call_item()))
    conversation.process_event(
        ev(
            "response.mcp_call_arguments.done",
            item_id="mcp_1",
            response_id="resp_1",
            output_index=0,
            arguments='{"a": 1}',
        )
    )
    assert conversation.get_item("mcp_1")["formatted"]["tool"]["arguments"] == '{"a": 1}'


def test_conversation_keeps_an_mcp_call_error(conversation):
    conversation.process_event(ev("conversation.item.added", item=call_item(name="fail")))
    conversation.process_event(ev("response.mcp_call.failed", item_id="mcp_1", output_index=0))
    error = {"type": "tool_execution_error", "message": "boom"}
    done = call_item(name="fail", arguments='{"message": "boom"}', error=error)
    item = conversation.process_event(ev("conversation.item.done", item=done))["item"]
    assert item["status"] == "failed"
    assert item["formatted"]["error"] == error
    assert item["formatted"]["output"] is None


def test_conversation_ignores_a_late_in_progress_for_a_settled_call(conversation):
    conversation.process_event(ev("conversation.item.added", item=call_item(output="5")))
    assert conversation.get_item("mcp_1")["status"] == "completed"  # history: already settled
    conversation.process_event(ev("response.mcp_call.in_progress", item_id="mcp_1", output_index=0))
    assert conversation.get_item("mcp_1")["status"] == "completed"


def test_conversation_marks_an_approval_request_with_its_answer(conversation):
    request = conversation.process_event(ev("conversation.item.added", item=request_item()))
    request = request["item"]
    assert request["formatted"]["mcp"] == {"server_label": "demo", "decision": None}
    assert request["formatted"]["tool"]["arguments"] == '{"a": 2, "b": 3}'
    answer = {
        "id": "mcpa_1",
        "type": "mcp_approval_response",
        "approval_request_id": "mcpr_1",
        "approve": False,
        "reason": "not now",
    }
    result = conversation.process_event(ev("conversation.item.added", item=answer))
    assert result["item"]["formatted"]["mcp"] == {
        "server_label": "",
        "approval_request_id": "mcpr_1",
        "approve": False,
        "reason": "not now",
    }
    assert request["formatted"]["mcp"]["decision"] == {"approve": False, "reason": "not now"}
    # A later done of the request keeps the decision.
    conversation.process_event(ev("conversation.item.done", item=request_item()))
    assert request["formatted"]["mcp"]["decision"] == {"approve": False, "reason": "not now"}


@pytest.mark.parametrize(
    "event",
    [
        {"type": "response.mcp_call_arguments.delta", "item_id": "nope", "delta": "x"},
        {"type": "response.mcp_call.completed", "item_id": "nope"},
        {"type": "mcp_list_tools.completed", "item_id": "nope"},
        {"type": "response.mcp_call_arguments.delta", "item_id": "mcp_1", "delta": 5},
        {"type": "mcp_list_tools.failed"},
    ],
)
def test_conversation_shrugs_off_malformed_mcp_events(event):
    conversation = RealtimeConversation()
    conversation.process_event({"type": "conversation.item.added", "item": call_item()})
    assert conversation.process_event(event) == {}
    assert conversation.get_item("mcp_1")["arguments"] == ""
