"""Limits of the embedded server (issue 13): what it refuses, with which error, over a real socket.

Every refusal is one ``error`` event naming the field and what to do; the session stays usable.
"""

from __future__ import annotations

import pytest

from realtime_widget.server import LocalRealtimeServer
from tests.server.checked import CheckedClient


def _tool(name: str) -> dict:
    return {"type": "function", "name": name, "parameters": {"type": "object"}}


@pytest.mark.parametrize(
    "name",
    ["x" * 300 + "\x00\u202e", "get\x00key", "get\u202ekey", "get key", "", "x" * 65],
)
async def test_server_refuses_an_invalid_tool_name_and_keeps_the_session(name):
    async with LocalRealtimeServer(speed=0) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(
            {
                "type": "session.update",
                "event_id": "evt_tools",
                "session": {"type": "realtime", "tools": [_tool("ok"), _tool(name)]},
            }
        )
        error = await client.error("invalid_value")
        assert error["param"] == "session.tools[1].name"
        assert error["event_id"] == "evt_tools"
        assert "a-zA-Z0-9_-" in error["message"] and "get_weather" in error["message"]
        assert "\x00" not in error["message"] and "\u202e" not in error["message"]
        assert len(error["message"]) < 300
        # Nothing changed, and the session still takes a valid update.
        await client.send(
            {"type": "session.update", "session": {"type": "realtime", "tools": [_tool("a-b_9")]}}
        )
        updated = (await client.until("session.updated"))[-1]
        assert [t["name"] for t in updated["session"]["tools"]] == ["a-b_9"]
        await client.close()


async def test_server_refuses_an_invalid_function_name_in_tool_choice():
    async with LocalRealtimeServer(speed=0) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(
            {
                "type": "session.update",
                "session": {"type": "realtime", "tool_choice": {"type": "function", "name": "a b"}},
            }
        )
        error = await client.error("invalid_value")
        assert error["param"] == "session.tool_choice.name"
        await client.close()
