"""Interop: openai-agents-python's realtime session (GA) against the embedded server."""

from __future__ import annotations

import asyncio
import importlib.util

import pytest

from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.speech import formant_speech
from realtime_widget.testing.schema import validate_event
from tests.helpers import UNIT, require

pytestmark = pytest.mark.peer


async def test_agents_sdk_realtime_session_completes_tool_call_turn():
    require(
        importlib.util.find_spec("agents") is not None,
        "openai-agents is not installed (pip install openai-agents)",
    )
    from agents import function_tool
    from agents.realtime import RealtimeAgent, RealtimeRunner

    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """Get the weather in a city."""
        calls.append(city)
        return f"sunny in {city}"

    agent = RealtimeAgent(name="assistant", instructions="Be brief.", tools=[get_weather])
    server_events: list[dict] = []
    transcript = ""
    async with LocalRealtimeServer(
        speed=0, synthesizer=lambda t: formant_speech(t).copy()
    ) as server:
        session = await RealtimeRunner(agent).run(
            model_config={"url": server.url + "?model=gpt-realtime", "api_key": "sk-test"}
        )

        async def converse() -> str:
            async with session:
                await session.send_message("What is the weather in Paris?")
                async for event in session:
                    if event.type == "raw_model_event" and event.data.type == "raw_server_event":
                        server_events.append(event.data.data)
                        if event.data.data["type"] == "response.output_audio_transcript.done":
                            if "returned" in event.data.data["transcript"]:
                                return event.data.data["transcript"]
                    assert event.type != "error", event
            raise AssertionError("session ended early")

        transcript = await asyncio.wait_for(converse(), 20 * UNIT)
    for event in server_events:
        validate_event(event, "ga", strict=True)
    assert calls == ["Paris"]
    assert transcript == "get_weather returned sunny in Paris."
    assert not [e for e in server_events if e["type"] == "error"]
