"""The widget's connection failures: raised with the cause and what to do, shown once (issue 13).

Real parts only: the embedded server with a key (a wrong key gets HTTP 401), a loopback port with
nothing listening (refused), a host name that does not resolve (``.invalid`` is reserved for
that), and the machine having no route to OpenAI.
"""

from __future__ import annotations

import json
import socket

import pytest

from realtime_widget import LocalRealtimeServer, RealtimeConnectionError, RealtimeWidget
from tests.helpers import UNIT
from tests.widget.test_widget import browser, wait_until

KEY = "sk-test-right-key-0123456789"
WRONG = "sk-test-wrong-key-9876543210"


@pytest.fixture
def keyed_server():
    with LocalRealtimeServer(api_key=KEY) as s:
        yield s


@pytest.fixture
def closed_port():
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_widget_connect_raises_the_refusal_of_a_wrong_key_and_how_to_fix_it(keyed_server):
    w = RealtimeWidget(url=keyed_server.url, api_key=WRONG, autoconnect=False)
    try:
        with pytest.raises(RealtimeConnectionError) as info:
            w.connect(10 * UNIT)
        message = str(info.value)
        assert info.value.status == 401
        assert "HTTP 401" in message and "API key is missing or wrong" in message
        assert "offline model" in message and "without url= and api_key=" in message
        assert WRONG not in message and KEY not in message
        assert w.status == "error"
        wait_until(lambda: [e["message"] for e in w.errors] == [message], what="one alert")
    finally:
        w.close()


def test_widget_connect_raises_for_an_unknown_host_with_the_cause(no_key):
    w = RealtimeWidget(url="wss://no-such-host.invalid/v1/realtime", autoconnect=False)
    try:
        with pytest.raises(RealtimeConnectionError) as info:
            w.connect(20 * UNIT)
        message = str(info.value)
        assert "could not reach" in message and "no-such-host.invalid" in message
        assert "check the URL" in message and "offline model" in message
        assert info.value.status is None
    finally:
        w.close()


async def test_widget_connect_async_raises_for_a_refused_port(closed_port, no_key):
    w = RealtimeWidget(url=f"ws://127.0.0.1:{closed_port}/v1/realtime", autoconnect=False)
    try:
        with pytest.raises(RealtimeConnectionError) as info:
            await w.connect_async()
        message = str(info.value)
        assert f"127.0.0.1:{closed_port}" in message
        assert "refused" in message.lower() or "connect call failed" in message.lower()
        assert "server is running" in message
        assert w.status == "error"
    finally:
        w.close()


def test_widget_with_a_key_from_the_environment_says_to_unset_it_for_the_offline_model(
    monkeypatch,
):
    # No network here: OpenAI is unreachable (with one, the fake key gets 401); either way the
    # failure names the cause and how to use the offline model instead.
    monkeypatch.setenv("OPENAI_API_KEY", WRONG)
    w = RealtimeWidget(autoconnect=False, open_timeout=5 * UNIT)
    try:
        with pytest.raises(RealtimeConnectionError) as info:
            w.connect(20 * UNIT)
        message = str(info.value)
        assert "api.openai.com" in message
        assert "unset OPENAI_API_KEY" in message and "offline model" in message
        assert WRONG not in message + json.dumps(w.get_state(), default=str) + repr(w)
    finally:
        w.close()


def test_widget_send_text_after_a_failed_connect_says_why(closed_port, no_key):
    w = RealtimeWidget(url=f"ws://127.0.0.1:{closed_port}/v1/realtime", autoconnect=False)
    try:
        with pytest.raises(RealtimeConnectionError) as failed:
            w.connect(10 * UNIT)
        with pytest.raises(RuntimeError) as info:
            w.send_text("hello?")
        assert "not connected" in str(info.value)
        assert str(failed.value) in str(info.value)  # the stored cause, not only "not connected"
    finally:
        w.close()


def test_widget_pressing_connect_again_after_the_same_failure_keeps_one_alert(keyed_server):
    w = RealtimeWidget(url=keyed_server.url, api_key=WRONG)  # autoconnect: the first failure
    try:
        wait_until(lambda: w.status == "error" and w.errors, what="the first failure")
        for presses in (2, 3):
            browser(w, {"type": "connect"})  # the Connect button
            wait_until(
                lambda n=presses: w.errors and w.errors[-1].get("count") == n,
                what=f"failure {presses} counted",
            )
        assert len(w.errors) == 1, w.errors
        assert w.errors[0]["source"] == "connection" and "HTTP 401" in w.errors[0]["message"]
        assert w.status == "error"
        # A different failure is a new alert.
        w.client.realtime.url = w.client.realtime.url.replace("/v1/realtime", "/nowhere")
        browser(w, {"type": "connect"})
        wait_until(lambda: len(w.errors) == 2, what="a second, different alert")
    finally:
        w.close()


def test_widget_connects_after_a_failure_and_forgets_it(keyed_server):
    w = RealtimeWidget(url=keyed_server.url, api_key=WRONG, autoconnect=False)
    try:
        with pytest.raises(RealtimeConnectionError):
            w.connect(10 * UNIT)
        w.client.realtime._api_key = KEY  # the user fixes the key (as a new widget would)
        w.connect(10 * UNIT)
        assert w.status == "connected"
        w.send_text("works now")  # no stale failure in the way
        wait_until(
            lambda: any(i["role"] == "assistant" and i["status"] == "completed" for i in w.items),
            what="a reply",
        )
    finally:
        w.close()


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


URL_KEY = "0123456789abcdefWIDGETURLKEYfedcba98"


def test_widget_hides_a_key_carried_in_the_url_everywhere(keyed_server, closed_port, caplog):
    # Azure takes ?api-key=, and a URL may carry user:password@: the widget's label, state,
    # repr, errors and logs show neither, on success and on failure.
    caplog.set_level("DEBUG")
    good = keyed_server.url.replace("ws://", "ws://me:PASSWORD-SECRET@") + f"?api-key={URL_KEY}"
    bad = f"ws://me:PASSWORD-SECRET@127.0.0.1:{closed_port}/v1/realtime?api-key={URL_KEY}"
    shown: list[str] = []
    for url in (good, bad):
        w = RealtimeWidget(url=url, api_key=KEY, autoconnect=False)
        try:
            try:
                w.connect(10 * UNIT)
                w.send_text("hello")
                wait_until(lambda w=w: w.usage.get("responses"), what="a reply")
            except RealtimeConnectionError as exc:
                shown.append(str(exc))
                with pytest.raises(RuntimeError) as info:
                    w.send_text("hello?")
                shown.append(str(info.value))
            browser(w, {"type": "hello", "view": "v1"})
            wait_until(lambda w=w: w.event_log or w.errors, what="state to show")
            shown += [json.dumps(w.get_state(), default=str), repr(w), repr(w.client)]
            shown += [w.server_label, json.dumps(w.errors)]
        finally:
            w.close()
    assert len(shown) == 2 + 5 + 5  # one attempt failed, one connected
    shown += [r.getMessage() for r in caplog.records]
    assert any(f"127.0.0.1:{closed_port}" in text for text in shown)
    for text in shown:
        assert URL_KEY not in text and "PASSWORD-SECRET" not in text, text
