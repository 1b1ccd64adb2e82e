"""Export of a live session: a turn the user cut short is marked truncated, with what was heard."""

from __future__ import annotations

import asyncio
import threading

from realtime_widget.client import RealtimeClient
from realtime_widget.export import to_markdown, to_records
from realtime_widget.server import LocalRealtimeServer, ScriptedBrain
from tests.helpers import UNIT


async def test_a_turn_cut_by_the_user_is_marked_truncated_at_what_was_heard():
    brain = ScriptedBrain(["This answer is long enough to be interrupted by the user politely."])
    async with LocalRealtimeServer(speed=1.0, brain=brain) as server:
        client = RealtimeClient(url=server.url, api_key="k")
        seen: dict[str, list] = {"delta": [], "done": []}
        ready, done = threading.Event(), threading.Event()

        def on_event(event: dict) -> None:
            wire = event["event"]
            if wire["type"] == "response.output_audio.delta":
                seen["delta"].append(wire)
                if len(seen["delta"]) >= 3:
                    ready.set()
            elif wire["type"] == "response.done":
                done.set()

        client.on("realtime.event", on_event)
        await client.connect_async()
        client.send_user_message_content("talk")
        assert await asyncio.to_thread(ready.wait, 10 * UNIT)
        item_id = seen["delta"][0]["item_id"]
        client.report_played(item_id, 0, 7200)  # 0.3 s heard
        client.cancel_response(item_id, 7200)
        assert await asyncio.to_thread(done.wait, 10 * UNIT)
        await asyncio.sleep(0.1 * UNIT)  # the truncated event follows the cancel
        md = to_markdown(client)
        records = {r["id"]: r for r in to_records(client)}
        await client.disconnect_async()
        client.close()
    assert records[item_id]["truncated"] and records[item_id]["audio_seconds"] == 0.3
    assert "*(truncated: 0.3 s heard)*" in md.split("\n\n")[-1]
    assert md.startswith("**User:** talk")
