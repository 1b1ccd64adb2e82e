"""Stopping a slow tool and reading a failing one, in Chromium on JupyterLab (issue 15, point 3).

The tools are plain functions in a notebook cell; the embedded server's EchoBrain calls them when
asked ``call NAME with {json}`` and says what they returned (or the sentence of their error).
"""

from __future__ import annotations

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

CELLS = [
    """
from realtime_widget import CancelToken, RealtimeWidget
w = RealtimeWidget()

@w.tool
def slow_report(topic: str, cancel: CancelToken) -> str:
    \"\"\"Write a long report (takes a minute).\"\"\"
    cancel.wait(60)
    cancel.raise_if_cancelled()
    return f"report on {topic}"

@w.tool
def get_weather(city: str) -> str:
    \"\"\"Today's weather in a city.\"\"\"
    raise ValueError(f"city not found: {city}")

w
""",
]


def _ms(seconds: float) -> float:
    return seconds * 1000


def test_stop_cancels_a_slow_tool_the_card_says_cancelled_and_the_conversation_goes_on(
    open_notebook,
):
    nb = open_notebook(CELLS, wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message('call slow_report with {"topic": "cats"}')

    card = view.conversation.locator('[data-call-id][data-tool-state="running"]')
    card.filter(has_text="slow_report").wait_for(timeout=_ms(30 * UNIT))
    nb.screenshot("slow-tool-running")
    view.control("button", "Stop").click()

    cancelled = view.conversation.locator('[data-call-id][data-tool-state="cancelled"]')
    cancelled.filter(has_text="The tool slow_report was cancelled by the user.").wait_for(
        timeout=_ms(10 * UNIT)
    )
    nb.screenshot("slow-tool-cancelled")
    records = nb.kernel.wait_for(
        "[(r.name, r.status) for r in w.client.tools.history if r.status == 'cancelled']"
    )
    assert records == [["slow_report", "cancelled"]]
    outputs = nb.kernel.wait_for("[i for i in w.items if i['type'] == 'function_call_output']")
    assert len(outputs) == 1 and "cancelled by the user" in outputs[0]["output"]

    # The conversation goes on: the next message is answered.
    view.send_message("are you still there?")
    view.wait_turn("assistant", text="You said: are you still there?", timeout=30 * UNIT)
    assert nb.kernel.value("len([i for i in w.items if i['type'] == 'function_call_output'])") == 1


def test_failing_tool_card_expands_to_its_traceback_by_keyboard(open_notebook):
    nb = open_notebook(CELLS, wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message('call get_weather with {"city": "Atlantis"}')

    card = view.conversation.locator('[data-call-id][data-tool-state="error"]').filter(
        has_text="get_weather"
    )
    card.wait_for(timeout=_ms(30 * UNIT))
    error = card.get_by_label("Error", exact=True)
    sentence = "The tool get_weather failed: ValueError: city not found: Atlantis."
    assert error.inner_text() == sentence
    traceback = card.get_by_label("Traceback", exact=True)
    assert not traceback.is_visible(), "the traceback starts collapsed"
    summary = card.locator("summary", has_text="Traceback")
    summary.focus()
    summary.press("Enter")
    traceback.wait_for(state="visible", timeout=_ms(5 * UNIT))
    text = traceback.inner_text()
    assert text.startswith("Traceback (most recent call last):")
    assert "ValueError: city not found: Atlantis" in text
    nb.screenshot("tool-traceback-expanded")
    # The echo brain says the sentence, not the JSON.
    view.wait_turn("assistant", text=sentence, timeout=30 * UNIT)
