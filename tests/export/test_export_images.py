"""Images in exports and recordings: a live session with an image, recorded, replayed, exported."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_widget.client import RealtimeClient
from realtime_widget.conversation import RealtimeConversation
from realtime_widget.export import to_markdown, to_records
from realtime_widget.images import image_data_url
from realtime_widget.recording import Recorder, replay_conversation
from realtime_widget.server import LocalRealtimeServer
from tests.helpers import UNIT

PNG_URL = image_data_url(np.zeros((48, 64, 3), np.uint8))


async def test_an_image_survives_recording_replay_and_shows_in_the_exports(tmp_path):
    path = tmp_path / "images.jsonl"
    async with LocalRealtimeServer(speed=0) as server:
        client = RealtimeClient(url=server.url, api_key="sk-local-test-key")
        await client.connect_async()
        with Recorder(client, path):
            client.update_session(output_modalities=["text"])
            client.send_image(PNG_URL, text="my plot", detail="high")
            await client.wait_for_next_completed_item_async(5 * UNIT)  # the user item
            await client.wait_for_next_completed_item_async(5 * UNIT)  # the answer
        await client.disconnect_async()
        client.close()

    replayed = replay_conversation(path, speed=None)
    user, assistant = replayed.get_items()
    assert user["formatted"]["images"] == [{"image_url": PNG_URL, "detail": "high"}]
    assert assistant["formatted"]["text"] == "I see an image (PNG 64x48). You said: my plot"

    md = to_markdown(path)
    assert md.startswith(f"**User:** my plot ![image: PNG 64x48]({PNG_URL})\n")
    plain = to_markdown(replayed, images="placeholder")
    assert plain.startswith("**User:** my plot *[image: PNG 64x48]*\n")
    records = to_records(client)
    assert [r["images"] for r in records] == [1, 0]
    assert records == to_records(replayed)


def test_markdown_of_an_image_only_message_and_a_dropped_image():
    conversation = RealtimeConversation()
    for n, url in enumerate([PNG_URL, None]):
        conversation.process_event(
            {
                "type": "conversation.item.added",
                "item": {
                    "id": f"item_{n}",
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_image", "image_url": url}],
                },
            }
        )
    md = to_markdown(conversation, images="placeholder")
    assert md == "**User:** *[image: PNG 64x48]*\n\n**User:** *[image]*\n"
    with pytest.raises(ValueError, match="images must be 'embed' or 'placeholder'"):
        to_markdown(conversation, images="inline")
