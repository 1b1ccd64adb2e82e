"""Typed messages and tool calls through the widget in JupyterLab (the fake microphone is silent).

The embedded server's EchoBrain repeats what it is told, and calls a tool when asked with
``call NAME with {json}``; the tool is a plain Python function defined in a notebook cell.
"""

from __future__ import annotations

import json

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

TOOL_CELLS = [
    """
from realtime_widget import RealtimeWidget
w = RealtimeWidget()

@w.tool
def get_weather(city: str) -> str:
    \"\"\"Today's weather in a city.\"\"\"
    return f"sunny and 21 C in {city}"

@w.tool(requires_approval=True)
def delete_file(path: str) -> str:
    \"\"\"Delete a file (asks the user first).\"\"\"
    return f"deleted {path}"

w
""",
]


def _call_items(call_id: str) -> str:
    """Kernel expression: the items of ``w.items`` that carry the tool call ``call_id``."""
    return f"[i for i in w.items if (i.get('tool') or {{}}).get('call_id') == {call_id!r}]"


def test_typed_message_becomes_a_user_turn_and_gets_an_assistant_reply(open_notebook):
    nb = open_notebook(
        ["from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"], wav="silence"
    )
    view = nb.wait_widget()
    view.wait_status("connected")
    # An empty conversation says how to start, in the words of the real controls (issue 15).
    hint = view.root.get_by_role("note", name="Getting started")
    hint.filter(has_text="Press ● Mic and talk, or type a message below.").wait_for(
        timeout=10_000 * UNIT
    )
    assert view.control("button", "Microphone").inner_text() == "● Mic"
    view.send_message("hello from the keyboard")

    view.wait_turn("user", text="hello from the keyboard")
    view.wait_turn("assistant", text="You said: hello from the keyboard", timeout=30 * UNIT)
    assert view.control("textbox", "Message").input_value() == "", "Send clears the box"
    hint.wait_for(state="hidden", timeout=10_000 * UNIT)  # the conversation has begun
    nb.screenshot("typed-message-reply")

    items = nb.kernel.wait_for(
        "[i for i in w.items if i.get('role') == 'assistant' and i.get('status') == 'completed']"
    )
    user = nb.kernel.value("[i for i in w.items if i.get('role') == 'user']")
    assert [u["text"] for u in user] == ["hello from the keyboard"]
    assert "hello from the keyboard" in (items[-1].get("transcript") or items[-1].get("text"))


def test_tool_call_card_shows_name_arguments_and_result_of_a_notebook_function(open_notebook):
    nb = open_notebook(TOOL_CELLS, wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message('call get_weather with {"city": "Paris"}')

    card = view.conversation.locator("[data-call-id]").filter(has_text="get_weather").last
    card.wait_for(timeout=30 * UNIT * 1000)
    card.filter(has_text="sunny and 21 C in Paris").wait_for(timeout=20 * UNIT * 1000)
    assert "Paris" in card.inner_text()  # the arguments are shown
    nb.screenshot("tool-call-card")

    call_id = card.get_attribute("data-call-id")
    call = nb.kernel.wait_for(f"[i for i in {_call_items(call_id)} if i['tool_state'] == 'done']")[
        0
    ]
    assert call["tool"]["name"] == "get_weather"
    assert json.loads(call["tool"]["arguments"]) == {"city": "Paris"}
    assert call["output"] and "sunny and 21 C in Paris" in call["output"]
    # The model answers with the tool's output once it has it.
    view.wait_turn("assistant", text="sunny and 21 C in Paris", timeout=30 * UNIT)
    nb.screenshot("tool-answer")


def test_tool_needing_approval_waits_for_the_approve_button(open_notebook):
    nb = open_notebook(TOOL_CELLS, wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message('call delete_file with {"path": "notes.txt"}')

    card = view.conversation.locator("[data-call-id]").filter(has_text="delete_file").last
    approve = card.get_by_role("button", name="Approve", exact=True)
    approve.wait_for(timeout=30 * UNIT * 1000)
    assert card.get_by_role("button", name="Deny", exact=True).is_visible()
    nb.screenshot("awaiting-approval")
    call_id = card.get_attribute("data-call-id")
    states = [i.get("tool_state") for i in nb.kernel.value(_call_items(call_id))]
    assert states == ["awaiting_approval"], "the tool must not run before it is approved"

    approve.click()
    card.filter(has_text="deleted notes.txt").wait_for(timeout=20 * UNIT * 1000)
    assert approve.count() == 0, "the decision buttons go once decided"
    nb.screenshot("approved")
