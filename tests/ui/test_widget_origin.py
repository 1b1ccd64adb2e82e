"""A web page on another origin cannot drive the widget's embedded server (issue 13).

Browsers let any page open a websocket to any port, sending its ``Origin``; the embedded server
answers pages that are not on loopback with HTTP 403 before the upgrade. Here a real Chromium
loads a page whose origin is ``http://evil.example`` (Playwright answers the navigation, so no
network is needed; the origin is the browser's own), and that page tries the widget's server
while the widget in JupyterLab talks through it as usual.

Chromium itself now blocks a public page's websocket to loopback unless the user allows "local
network access" in a prompt; Firefox and Safari have no such check. So the page runs in a
Chromium with that check off, as after a user's "allow" or in those browsers: then only the
server's Origin check stands between the page and the model (and the kernel's tools).
"""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import UNIT
from tests.ui.bare_page import BarePageServer

pytestmark = pytest.mark.ui

WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"

# Opens a websocket to PORT and records how it ends; `Origin` is the page's, set by the browser.
PROBE_PAGE = """<!doctype html><title>probe</title><script>
window.outcome = new Promise((resolve) => {
  const ws = new WebSocket("ws://127.0.0.1:PORT/v1/realtime", ["realtime"]);
  ws.onopen = () => resolve("open");
  ws.onclose = (event) => resolve("closed " + event.code);
});
</script>"""


@pytest.fixture
def permissive_chromium(playwright_driver):
    """A Chromium that lets public pages reach loopback (no local-network-access check)."""
    from tests.ui.chromium import CHROMIUM_PATH, chromium_args

    browser = playwright_driver.chromium.launch(
        executable_path=CHROMIUM_PATH,
        headless=True,
        args=[*chromium_args(None), "--disable-features=LocalNetworkAccessChecksWebSockets"],
    )
    yield browser
    browser.close()


def _open_probe(context, url: str, html: str, handshakes: list[dict], console: list[str]):
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    for name in ("webSocketHandshakeResponseReceived", "webSocketClosed", "webSocketFrameError"):
        cdp.on(f"Network.{name}", lambda params, name=name: handshakes.append({name: params}))
    page.on("console", lambda msg: console.append(msg.text))
    if not url.startswith("http://127.0.0.1"):
        page.route(
            url, lambda route: route.fulfill(status=200, body=html, content_type="text/html")
        )
    page.goto(url)
    return page, page.evaluate("() => window.outcome")


def test_a_page_on_another_origin_gets_403_from_the_widgets_server_while_the_widget_works(
    open_notebook, permissive_chromium
):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    port = nb.kernel.value("w.server.port")
    html = PROBE_PAGE.replace("PORT", str(port))

    handshakes: list[dict] = []
    console: list[str] = []
    context = permissive_chromium.new_context()
    foreign, outcome = _open_probe(context, "http://evil.example/", html, handshakes, console)
    assert outcome.startswith("closed") and outcome != "closed 1000", outcome
    statuses = [
        h["webSocketHandshakeResponseReceived"]["response"]["status"]
        for h in handshakes
        if "webSocketHandshakeResponseReceived" in h
    ]
    said_403 = any(re.search(r"\b403\b", line) for line in console)
    assert 403 in statuses or said_403, (handshakes, console)
    refused = nb.kernel.wait_for("dict(w.server.refused)")
    assert refused.get("origin_not_allowed") == 1, refused
    foreign.close()
    context.close()

    # The notebook's own Chromium (default settings) does not even let that page try.
    context = nb.page.context
    blocked, outcome = _open_probe(context, "http://evil.example/", html, [], [])
    assert outcome.startswith("closed"), outcome
    blocked.close()
    assert nb.kernel.value("dict(w.server.refused)") == {"origin_not_allowed": 1}

    # A page on loopback passes the origin check and still needs the kernel's key (401).
    with BarePageServer() as pages:
        url = pages.add("probe", html)
        local, outcome = _open_probe(context, url, html, [], [])
        assert outcome.startswith("closed"), outcome
        local.close()
    refused = nb.kernel.wait_for(
        "dict(w.server.refused).get('invalid_api_key') and dict(w.server.refused)"
    )
    assert refused == {"origin_not_allowed": 1, "invalid_api_key": 1}, refused

    # The widget itself (its kernel-side client sends no Origin, and has the key) talks on.
    view.send_message("still talking")
    view.wait_turn("assistant", text="still talking", timeout=30 * UNIT)
    assert nb.kernel.value("w.status") == "connected"
    assert json.dumps(nb.kernel.value("w.errors")).count("origin") == 0
