"""Issue 8.6: a recognisable fake key never shows up anywhere a user or a file could see it.

The embedded server is started with the key, so authentication is real. One session is driven
through the widget (key from ``OPENAI_API_KEY``) and one through a bare client (``api_key=``,
``debug=True``), with errors forced on purpose: a refused handshake with another key, server error
events, a raising tool, malformed frames. Then everything is searched for the key: synced widget
state, the notebook file a save would write, the event logs, reprs, exception messages and
tracebacks, and every log record at DEBUG (``websockets`` included).
"""

from __future__ import annotations

import io
import json
import logging
import secrets
import traceback

import nbformat
import pytest
import websockets
from ipywidgets.embed import embed_data
from websockets.asyncio.client import connect

from realtime_widget import LocalRealtimeServer, RealtimeClient, RealtimeWidget
from realtime_widget.api import RealtimeConnectionError
from realtime_widget.runtime import get_runtime
from realtime_widget.server import Call, ScriptedBrain
from tests.helpers import UNIT
from tests.reliability._harness import wait_until

KEY = "sk-test-LEAKCHECK-" + secrets.token_hex(12)
WRONG = "sk-test-LEAKCHECK-wrong-" + secrets.token_hex(12)


def _fragments(key: str) -> list[str]:
    """The key and any 12-character piece of its random part (a partial leak counts)."""
    tail = key.rsplit("-", 1)[1]
    return [key] + [tail[i : i + 12] for i in range(0, len(tail) - 11, 4)]


def assert_no_key(where: str, text: str) -> None:
    for key in (KEY, WRONG):
        for fragment in _fragments(key):
            assert fragment not in text, f"the key leaked into {where}: ...{fragment}..."


@pytest.fixture
def debug_logs():
    """Every log record of the process at DEBUG, formatted with tracebacks."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(old)


def test_fake_key_appears_nowhere_after_a_session_full_of_errors(monkeypatch, tmp_path, debug_logs):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    seen: list[str] = []
    brain = ScriptedBrain([[Call("leaky_tool", {"x": 1})], "The tool failed."])
    with LocalRealtimeServer(api_key=KEY, speed=0, brain=brain) as server:
        # A refused handshake: the error says what to do, without either key.
        refused = RealtimeClient(url=server.url, api_key=WRONG)
        with pytest.raises(RealtimeConnectionError) as info:
            refused.connect(10 * UNIT)
        assert info.value.status == 401
        seen += [str(info.value), repr(info.value), "".join(traceback.format_exception(info.value))]

        # The widget, with the key from the environment.
        widget = RealtimeWidget(url=server.url, autoconnect=False)
        widget.client.on("realtime.event", lambda e: seen.append(json.dumps(e, default=str)))
        widget.client.on("error", lambda e: seen.append(json.dumps(e, default=str)))

        @widget.tool
        def leaky_tool(x: int) -> int:
            """Fails."""
            raise RuntimeError("tool failed on purpose")

        widget.connect(10 * UNIT)
        widget.send_text("hello, are my secrets safe?")
        wait_until(lambda: widget.client.tools.history, 10 * UNIT, "the tool call")
        wait_until(
            lambda: any(
                i["role"] == "assistant" and i["status"] == "completed" for i in widget.items
            ),
            10 * UNIT,
            "the reply after the failed tool",
        )
        widget.client.delete_item("item_that_does_not_exist")  # a server error event
        wait_until(lambda: widget.errors, 5 * UNIT, "the error in the widget")
        record = widget.client.tools.history  # the raising tool, invoked directly
        # Frames from a broken server, handed to the receive path on the runtime thread.
        get_runtime().call_soon(widget.client.realtime._receive, "{broken json")
        get_runtime().call_soon(widget.client.realtime._receive, '{"type": "error", "error": 1}')
        wait_until(lambda: len(widget.errors) >= 3, 5 * UNIT, "the widget's errors")
        assert record[0].status == "error" and "on purpose" in record[0].output

        # A bare client with api_key= and debug logging of every event.
        client = RealtimeClient(url=server.url, api_key=KEY, debug=True)
        client.on("realtime.event", lambda e: seen.append(json.dumps(e, default=str)))
        client.connect(10 * UNIT)
        client.wait_for_session_created(10 * UNIT)
        client.send_user_message_content("and now with api_key=")
        reply = client.wait_for_next_completed_item(10 * UNIT)
        assert reply is not None

        notebook = nbformat.v4.new_notebook()
        notebook.metadata["widgets"] = {
            "application/vnd.jupyter.widget-state+json": {
                "version_major": 2,
                "version_minor": 0,
                "state": embed_data(views=[widget])["manager_state"]["state"],
            }
        }
        path = tmp_path / "saved.ipynb"
        nbformat.write(notebook, path)

        state = widget.get_state()
        places = {
            "synced widget state": json.dumps(state, default=str),
            "saved notebook": path.read_text(),
            "widget event_log/errors/items": json.dumps(
                [widget.event_log, widget.errors, widget.items, widget.items_snapshot],
                default=str,
            ),
            "event logs": "\n".join(seen),
            "reprs": " ".join(
                repr(x)
                for x in (
                    widget,
                    widget.client,
                    widget.client.realtime,
                    widget.client.tools,
                    widget.client.conversation,
                    client,
                    client.realtime,
                    refused,
                    refused.realtime,
                    server,
                    *record,
                )
            ),
            "settings": json.dumps(
                [client.session_config, client.session, widget.client.session, client.usage],
                default=str,
            ),
        }
        client.close()
        refused.close()
        widget.close()
    places["logs"] = debug_logs.getvalue()
    assert "Authorization" in places["logs"] or "websockets" in places["logs"]  # logs captured
    for where, text in places.items():
        assert_no_key(where, text)


async def test_server_refuses_a_wrong_or_missing_key_and_accepts_the_right_one():
    async with LocalRealtimeServer(api_key=KEY, speed=0) as server:
        for headers in ({"Authorization": f"Bearer {WRONG}"}, {}, {"api-key": WRONG}):
            with pytest.raises(websockets.InvalidStatus) as info:
                async with connect(server.url, additional_headers=headers):
                    pass
            assert info.value.response.status_code == 401
            assert_no_key("the 401 body", info.value.response.body.decode())
        with pytest.raises(websockets.InvalidStatus):
            async with connect(
                server.url, subprotocols=["realtime", f"openai-insecure-api-key.{WRONG}"]
            ):
                pass
        async with connect(server.url, additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
            assert json.loads(await ws.recv())["type"] == "session.created"


async def test_embedded_server_binds_to_loopback_only_by_default():
    async with LocalRealtimeServer() as server:
        hosts = {sock.getsockname()[0] for sock in server._server.sockets}
        assert hosts == {"127.0.0.1"}
        assert server.url.startswith("ws://127.0.0.1:")


def test_offline_widget_starts_its_server_on_loopback(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    widget = RealtimeWidget(autoconnect=False)
    try:
        assert widget.server is not None
        assert {s.getsockname()[0] for s in widget.server._server.sockets} == {"127.0.0.1"}
    finally:
        widget.close()


MCP_TOKEN = "mcp-token-LEAKCHECK-" + secrets.token_hex(12)
MCP_HEADER = "mcp-header-LEAKCHECK-" + secrets.token_hex(12)


def test_mcp_tool_credentials_stay_out_of_logs_event_log_and_reprs(debug_logs):
    """An MCP tool's ``authorization`` and ``headers`` are secrets too (a header named in any
    case, e.g. ``Authorization`` or ``X-Api-Key``)."""
    tool = {
        "type": "mcp",
        "server_label": "private",
        "server_url": "http://127.0.0.1:9/mcp",
        "authorization": MCP_TOKEN,
        "headers": {"X-Api-Key": MCP_HEADER, "Authorization": f"Bearer {MCP_TOKEN}"},
    }
    with LocalRealtimeServer(api_key=KEY) as server:
        w = RealtimeWidget(url=server.url, api_key=KEY)
        client = RealtimeClient(url=server.url, api_key=KEY, debug=True)  # logs every event
        try:
            wait_until(lambda: w.status == "connected", what="connected")
            w.client.add_tool(tool)
            client.add_tool(tool)
            client.connect(10 * UNIT)
            client.wait_for_session_created(10 * UNIT)

            def log_json() -> str:  # the entries the browser's event log gets (frames)
                return json.dumps(w._sync.log.snapshot())

            wait_until(
                lambda: log_json().count("session.update") >= 2 and "private" in log_json(),
                what="the session.update with the MCP tool in the event log",
            )
            seen = {
                "event log": log_json(),
                "items": json.dumps(w.items, default=str),
                "reprs": " ".join(map(repr, (w, w.client, client, client._mcp))),
                "logs": debug_logs.getvalue(),
            }
        finally:
            client.close()
            w.close()
    assert "private" in seen["logs"]  # the debug log did log the session.update
    for where, text in seen.items():
        for secret in (MCP_TOKEN, MCP_HEADER):
            assert secret not in text, f"an MCP credential leaked into {where}"
