"""The offline widgets' shared embedded server: no server outlives its widgets (issue 13).

Re-running ``w = RealtimeWidget(); display(w)`` made a server per run, and ipywidgets keeps every
widget it made, so the loopback ports piled up. Listening sockets are counted with psutil, the
way the issue counted them.
"""

from __future__ import annotations

import gc
import socket
import weakref

import psutil
import pytest
from ipywidgets.widgets import widget as ipywidgets_widget

from realtime_widget import RealtimeWidget
from realtime_widget.widget._server import EmbeddedServers, shared_servers
from tests.helpers import UNIT
from tests.widget.test_widget import completed_reply, wait_until


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


def listening_ports() -> set[int]:
    """This process's listening TCP ports."""
    return {c.laddr.port for c in psutil.Process().net_connections("inet") if c.status == "LISTEN"}


def refuses(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(2 * UNIT)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def connected_widget() -> RealtimeWidget:
    w = RealtimeWidget()
    wait_until(lambda: w.status == "connected", what="connected")
    return w


def test_widgets_made_in_a_loop_share_one_server_that_stops_with_the_last(no_key):
    before = listening_ports()
    made = []
    for _ in range(10):  # a cell re-run ten times: each run drops the previous widget
        w = RealtimeWidget()
        made.append(weakref.ref(w))
    del w
    gc.collect()
    live = [ref() for ref in made if ref() is not None]  # ipywidgets keeps them all
    try:
        new = listening_ports() - before
        assert 1 <= len(new) <= len(live), (len(new), len(live))
        assert len(new) == 1  # one server for the process's offline widgets
        port = live[0].server.port
        assert all(x.server is live[0].server for x in live)
        for x in live:
            wait_until(lambda x=x: x.status == "connected", what="every widget connected")
        live[3].send_text("still mine")
        wait_until(lambda: completed_reply(live[3]), what="a reply through the shared server")
        for x in live[:-1]:
            x.close()
        assert not refuses(port)  # the last widget still uses it
        live[-1].send_text("the last one")
        wait_until(lambda: completed_reply(live[-1]), what="a reply after the others closed")
    finally:
        for x in live:
            x.close()
    assert refuses(port)
    assert listening_ports() - before == set()
    assert shared_servers().server is None


def test_widget_close_stops_its_server_and_the_next_widget_gets_a_new_key(no_key):
    w = RealtimeWidget()
    wait_until(lambda: w.status == "connected", what="connected")
    server, key = w.server, w.server.api_key
    w.close()
    assert refuses(server.port) and not server.sessions
    nxt = RealtimeWidget()
    try:
        assert nxt.server is not server and nxt.server.api_key != key
        wait_until(lambda: nxt.status == "connected", what="the next widget connected")
    finally:
        nxt.close()


def test_a_closed_widget_can_be_garbage_collected(no_key):
    # anywidget held every widget made with a file `_esm` (a hot-reload callback), so a closed
    # widget, its conversation and its audio were never freed.
    w = connected_widget()
    ref = weakref.ref(w)
    w.send_text("something to remember")
    wait_until(lambda: completed_reply(ref()), what="a reply")
    w.close()
    del w
    gc.collect()
    assert ref() is None


def test_a_garbage_collected_widget_releases_its_server(no_key):
    # ipywidgets 8 holds every open widget, in its registry and through its comm's message
    # callback, so there only close() frees one; with both references dropped, as a registry
    # holding widgets weakly would, the collector frees the widget (ipywidgets' __del__ closes
    # it), which ends its session and gives its server back.
    w = connected_widget()
    port, client = w.server.port, w.client
    ipywidgets_widget._instances.pop(w.model_id)
    w.comm.on_msg(None)
    ref = weakref.ref(w)
    del w
    gc.collect()
    assert ref() is None
    wait_until(lambda: refuses(port), what="the server stopped")
    wait_until(lambda: not client.is_connected, what="the session ended")
    assert shared_servers().server is None


def test_a_lease_released_twice_does_not_stop_a_server_another_widget_uses():
    servers = EmbeddedServers()
    first, second = servers.lease(), servers.lease()
    assert first.server is second.server and servers.leases == 2
    first.release()
    first.release()
    assert servers.leases == 1 and not refuses(second.server.port)
    second.release()
    assert refuses(second.server.port) and servers.server is None
    assert second.key not in repr(second)
