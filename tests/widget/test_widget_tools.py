"""Tool cards in the widget (issue 15, point 3): Stop and ``w.cancel()`` cancel running tools,
a failing tool's card carries its traceback (bounded, key redacted). Real embedded server."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest

from realtime_widget import CancelToken, LocalRealtimeServer, RealtimeWidget
from tests.helpers import UNIT

SECRET = "sk-test-0123456789-tool-secret"


def wait_until(predicate, timeout=10 * UNIT, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def browser(w, content, buffers=()):
    """Deliver a custom message as the comm would (ipywidgets' own dispatch)."""
    w._handle_custom_msg(content, [memoryview(b) for b in buffers])


def card(w, name: str, state: str | None = None) -> list[dict]:
    return [
        i
        for i in w.items
        if i["type"] == "function_call"
        and i["tool"]["name"] == name
        and (state is None or i["tool_state"] == state)
    ]


def outputs(w) -> list[dict]:
    return [i for i in w.items if i["type"] == "function_call_output"]


@pytest.fixture
def server():
    with LocalRealtimeServer(api_key=SECRET) as s:
        yield s


@pytest.fixture
def widget(server):
    w = RealtimeWidget(url=server.url, api_key=SECRET)
    wait_until(lambda: w.status == "connected", what="connected")
    yield w
    w.close()


def test_stop_button_cancels_a_running_tool_and_the_card_says_cancelled(widget):
    began, seen = threading.Event(), []

    @widget.tool
    async def slow_report(topic: str) -> str:
        """Writes a report (takes ten seconds)."""
        began.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            seen.append("CancelledError")
            raise
        return f"report on {topic}"

    widget.send_text('call slow_report with {"topic": "cats"}')
    assert began.wait(10 * UNIT)
    wait_until(lambda: card(widget, "slow_report", "running"), what="a running card")
    browser(widget, {"type": "stop", "played": []})
    browser(widget, {"type": "cancel_tools"})  # what the Stop button sends after `stop`
    [call] = wait_until(lambda: card(widget, "slow_report", "cancelled"), what="cancelled")
    summary = json.loads(call["output"])["summary"]
    assert summary == "The tool slow_report was cancelled by the user."
    assert call["traceback"] is None
    wait_until(lambda: outputs(widget), what="the output item")
    assert seen == ["CancelledError"]
    assert [r.status for r in widget.client.tools.history] == ["cancelled"]
    assert widget.ask("still there?", timeout=20 * UNIT).text == "You said: still there?"
    assert len(outputs(widget)) == 1


def test_stop_alone_and_push_to_talk_leave_a_running_tool_alone(widget):
    release = threading.Event()

    @widget.tool
    def lookup(q: str) -> str:
        """Looks something up."""
        release.wait(10 * UNIT)
        return f"found {q}"

    widget.send_text('call lookup with {"q": "x"}')
    wait_until(lambda: card(widget, "lookup", "running"), what="a running card")
    browser(widget, {"type": "stop", "played": []})  # Disconnect sends this one too
    browser(widget, {"type": "ptt_start", "played": []})  # talking again is not "stop"
    time.sleep(0.3 * UNIT)
    assert card(widget, "lookup", "running")
    release.set()
    [call] = wait_until(lambda: card(widget, "lookup", "done"), what="done")
    assert call["output"] == "found x"


def test_w_cancel_tells_a_sync_tool_through_its_token(widget):
    began, stopped = threading.Event(), threading.Event()

    @widget.tool
    def crunch(n: int, cancel: CancelToken) -> int:
        """Counts slowly."""
        began.set()
        try:
            while not cancel.wait(0.01):
                pass
            cancel.raise_if_cancelled()
            return n
        finally:
            stopped.set()

    widget.send_text('call crunch with {"n": 3}')
    assert began.wait(10 * UNIT)
    widget.cancel()
    assert stopped.wait(5 * UNIT)
    wait_until(lambda: card(widget, "crunch", "cancelled"), what="cancelled")
    assert widget.client.tools.history[-1].status == "cancelled"


def test_failing_tool_card_carries_its_traceback_with_the_key_redacted(widget):
    @widget.tool
    def get_weather(city: str) -> str:
        """Weather of a city."""
        raise ValueError(f"city not found (asked with key {SECRET})")

    widget.send_text('call get_weather with {"city": "Atlantis"}')
    [call] = wait_until(lambda: card(widget, "get_weather", "error"), 20 * UNIT, "an error card")
    traceback = call["traceback"]
    assert traceback.startswith("Traceback (most recent call last):")
    assert "ValueError: city not found" in traceback and "get_weather" in traceback
    assert SECRET not in traceback and "[redacted]" in traceback
    assert SECRET not in json.dumps(widget.items)  # nor in the output the card shows
    summary = json.loads(call["output"])["summary"]
    assert summary.startswith("The tool get_weather failed: ValueError: city not found")
    # The echo brain says the sentence, not the JSON.
    replies = lambda: [  # noqa: E731
        i for i in widget.items if i["role"] == "assistant" and i["status"] == "completed"
    ]
    reply = wait_until(replies, 20 * UNIT, "the spoken answer")[-1]
    words = reply["transcript"] or reply["text"]
    assert words.startswith("The tool get_weather failed: ValueError: city not found")
    assert "{" not in words
