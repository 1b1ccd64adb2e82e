"""A dropped connection, seen from the widget: typed messages held, the reconnect left on record.

The drop is real: a `FaultProxy` between the client and the embedded server aborts the TCP
connection (no close frame), and the client's own reconnect path reopens a session through it.
"""

from __future__ import annotations

import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from realtime_widget.runtime import get_runtime
from realtime_widget.testing.faults import FaultProxy
from tests.helpers import UNIT
from tests.widget.test_widget import browser, completed_reply, wait_until


@pytest.fixture
def proxy():
    runtime = get_runtime()
    with LocalRealtimeServer() as server:
        p = runtime.run(FaultProxy(server.url).start(), 5 * UNIT)
        try:
            yield p
        finally:
            runtime.run(p.stop(), 5 * UNIT)


def drop(p: FaultProxy, stop: bool = False) -> None:
    """Abort the proxied connections (on the loop that owns them); `stop`: refuse new ones."""

    async def go() -> None:
        p.drop()
        if stop:
            await p.stop()

    get_runtime().run(go(), 5 * UNIT)


def connection_errors(w):
    return [e for e in w.errors if e["source"] == "connection"]


def test_send_text_while_reconnecting_is_held_and_answered_after_the_reconnect(proxy):
    w = RealtimeWidget(url=proxy.url, reconnect_delay=0.5 * UNIT)
    try:
        wait_until(lambda: w.status == "connected", what="connected")
        w.send_text("before the drop")
        wait_until(lambda: completed_reply(w), what="a first reply")
        drop(proxy)
        wait_until(lambda: w.client.is_reconnecting, what="reconnecting")
        assert not w.client.is_connected
        w.send_text("said while reconnecting")  # held by the client, not refused
        browser(w, {"type": "text", "text": "typed while reconnecting"})
        wait_until(lambda: len(completed_reply(w)) >= 3, timeout=15 * UNIT, what="answers after it")
        answered = [r["transcript"] for r in completed_reply(w)]
        assert answered[1:] == [
            "You said: said while reconnecting",
            "You said: typed while reconnecting",
        ]
        assert not [e for e in w.errors if e["code"] == "not_connected"]
    finally:
        w.close()


def test_a_quick_reconnect_stays_visible_in_the_errors_trait(proxy):
    w = RealtimeWidget(url=proxy.url, reconnect_delay=0.05 * UNIT)
    try:
        wait_until(lambda: w.status == "connected", what="connected")
        w.send_text("some history")
        wait_until(lambda: completed_reply(w), what="a reply")
        drop(proxy)
        entries = wait_until(
            lambda: len(connection_errors(w)) >= 2 and connection_errors(w),
            what="reconnect entries in the errors trait",
        )
        assert [e["code"] for e in entries] == ["reconnecting", "reconnected"]
        assert "dropped" in entries[0]["message"] and "reconnecting" in entries[0]["message"]
        done = entries[1]["message"]
        assert "re-established" in done and "history (2 items) replayed" in done
        wait_until(lambda: w.status == "connected", what="connected again")
    finally:
        w.close()


def test_a_failed_reconnect_says_so_and_what_to_do_in_the_errors_trait(proxy):
    w = RealtimeWidget(url=proxy.url, reconnect_delay=0.05 * UNIT, max_reconnect_attempts=2)
    try:
        wait_until(lambda: w.status == "connected", what="connected")
        drop(proxy, stop=True)
        failed = wait_until(
            lambda: [e for e in connection_errors(w) if e["code"] == "reconnect_failed"],
            what="the reconnect failure in the errors trait",
        )
        assert "connect()" in failed[0]["message"]
        assert connection_errors(w)[0]["code"] == "reconnecting"
        wait_until(lambda: w.status == "error", what="status error")
        with pytest.raises(RuntimeError, match="connect"):
            w.send_text("nobody is listening")
    finally:
        w.close()
