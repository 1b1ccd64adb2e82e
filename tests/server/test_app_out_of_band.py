"""Out-of-band responses over the websocket: they stream concurrently with the in-band one."""

from __future__ import annotations

from realtime_widget.protocol.builders import user_text_item
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.speech import formant_speech
from tests.server.checked import CheckedClient
from tests.server.driver import of_type

LONG = "a long answer please with many words in it to speak"


def _user(text: str) -> dict:
    return {"type": "conversation.item.create", "item": user_text_item(text)}


def _voice(text: str) -> object:
    return formant_speech(text).copy()


def _oob_text(text: str) -> dict:
    return {
        "type": "response.create",
        "response": {
            "conversation": "none",
            "output_modalities": ["text"],
            "metadata": {"purpose": "summary"},
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": text}],
                }
            ],
        },
    }


async def test_server_streams_out_of_band_response_while_in_band_audio_plays():
    async with LocalRealtimeServer(speed=2.0, synthesizer=_voice) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(_user(LONG))
        await client.send({"type": "response.create"})
        first = await client.until("response.output_audio.delta")
        in_band = of_type(first, "response.created")[0]["response"]["id"]
        await client.send(_oob_text("summary please"))
        events = await client.until("response.done")
        done = events[-1]["response"]
        # The in-band reply has seconds of real-time audio left; the summary does not wait.
        assert done["id"] != in_band and done["metadata"] == {"purpose": "summary"}
        assert done["status"] == "completed" and done["conversation_id"] is None
        assert done["output"][0]["content"][0]["text"] == "You said: summary please"
        oob_items = {e["item"]["id"] for e in of_type(events, "response.output_item.added")}
        rest = await client.until("response.done", timeout=30)
        assert rest[-1]["response"]["id"] == in_band
        assert rest[-1]["response"]["status"] == "completed"
        added = of_type(client.received, "conversation.item.added")
        assert not oob_items & {e["item"]["id"] for e in added}
        await client.close()


async def test_server_cancels_out_of_band_response_by_id_over_websocket():
    async with LocalRealtimeServer(speed=1.0, synthesizer=_voice) as server:
        client = await CheckedClient.connect(server.url)
        await client.send(_user(LONG))
        await client.send({"type": "response.create"})
        await client.until("response.output_audio.delta")
        oob = {**_oob_text(LONG), "response": {**_oob_text(LONG)["response"]}}
        oob["response"]["output_modalities"] = ["audio"]
        await client.send(oob)
        created = await client.until("response.created")
        oob_id = created[-1]["response"]["id"]
        await client.send({"type": "response.cancel", "response_id": oob_id})
        events = await client.until("response.done")
        assert events[-1]["response"]["id"] == oob_id
        assert events[-1]["response"]["status"] == "cancelled"
        await client.send({"type": "response.cancel"})
        events = await client.until("response.done")
        assert events[-1]["response"]["status_details"]["reason"] == "client_cancelled"
        await client.send(_user("still there?"))
        await client.send({"type": "response.create", "response": {"output_modalities": ["text"]}})
        assert (await client.until("response.done"))[-1]["response"]["status"] == "completed"
        await client.close()
