"""The saved-state traits (`items_snapshot`, `event_log`) cost nothing while the conversation grows.

The browser keeps its copy of them current from frame patches; the kernel sends them only when a
view opens (`hello`), on disconnect and on close (docs/widget-protocol.md).
"""

from __future__ import annotations

import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from tests.helpers import UNIT
from tests.widget.test_widget import browser, completed_reply, wait_until


@pytest.fixture
def server():
    with LocalRealtimeServer() as s:
        yield s


def record_trait_updates(w):
    """Names of the traits in each update the kernel sends (the comm's `update` messages)."""
    sent: list[set[str]] = []
    apply = w._sync._apply

    def recording(values):
        sent.append(set(values))
        apply(values)

    w._sync._apply = recording
    return sent


def test_saved_state_traits_are_not_resent_while_the_conversation_grows(server):
    w = RealtimeWidget(url=server.url)
    try:
        sent = record_trait_updates(w)
        wait_until(lambda: w.status == "connected", what="connected")
        for k in range(3):
            w.send_text(f"turn {k}")
            wait_until(lambda k=k: len(completed_reply(w)) > k, what=f"reply {k}")
        wait_until(lambda: w.usage.get("responses") == 3, what="usage trait")
        assert len(w.items) == 6
        assert not any(names & {"items_snapshot", "event_log"} for names in sent)
        assert w.items_snapshot == [] and w.event_log == []
    finally:
        w.close()


def test_a_view_opening_refreshes_the_saved_state_once(server):
    w = RealtimeWidget(url=server.url)
    try:
        wait_until(lambda: w.status == "connected", what="connected")
        w.send_text("before the view")
        wait_until(lambda: completed_reply(w), what="a reply")
        sent = record_trait_updates(w)
        browser(w, {"type": "hello", "view": "v1"})
        wait_until(lambda: len(w.items_snapshot) == 2, what="the saved conversation")
        assert w.items_snapshot[-1]["transcript"] == "You said: before the view"
        assert any(entry["type"] == "response.done" for entry in w.event_log)
        w.send_text("after the view")
        wait_until(lambda: len(completed_reply(w)) == 2, what="a second reply")
        wait_until(lambda: w.usage.get("responses") == 2, what="usage trait")
        assert sum("items_snapshot" in names for names in sent) == 1
        assert len(w.items_snapshot) == 2  # the browser applies the new turn to its own copy
    finally:
        w.close()


def test_disconnect_and_close_refresh_the_saved_conversation(server):
    w = RealtimeWidget(url=server.url)
    try:
        wait_until(lambda: w.status == "connected", what="connected")
        w.send_text("one")
        wait_until(lambda: completed_reply(w), what="a reply")
        w.disconnect()
        wait_until(lambda: len(w.items_snapshot) == 2, timeout=2 * UNIT, what="saved on disconnect")
        w.connect()
        w.send_text("two")
        wait_until(lambda: len(completed_reply(w)) == 2, what="a second reply")
        assert len(w.items_snapshot) == 2
    finally:
        w.close()
    assert [i["text"] or i["transcript"] for i in w.items_snapshot][-2:] == [
        "two",
        "You said: two",
    ]
    assert w.event_log and w.event_log[-1]["seq"] >= len(w.event_log)


def test_saved_state_sent_back_by_the_browser_is_ignored_by_the_kernel(server):
    w = RealtimeWidget(url=server.url, autoconnect=False)
    try:
        w.set_state(
            {
                "items_snapshot": [{"id": "item_from_the_browser"}],
                "event_log": [{"seq": 1}],
                "hands_free": False,
            }
        )
        assert w.hands_free is False  # the trait the browser meant to save went through
        assert w.items_snapshot == [] and w.event_log == []
    finally:
        w.close()
