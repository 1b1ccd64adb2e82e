"""``RealtimeClient.send_image`` against the real embedded server, and images across a reconnect.

The server sits behind ``realtime_widget.testing.faults.FaultProxy`` where a drop is needed; the
probe records the wire. The echo brain's answer proves the image reached the server's brain.
"""

from __future__ import annotations

import numpy as np
import pytest

from realtime_widget.client._reconnect import IMAGE_NOT_REPLAYED, history_items
from realtime_widget.images import ImageError, image_data_url, parse_data_url
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.testing.faults import FaultProxy
from tests.helpers import UNIT

PIXELS = np.zeros((48, 64, 3), np.uint8)
PNG_URL = image_data_url(PIXELS)


def image_parts(item: dict) -> list[dict]:
    return [p for p in item.get("content") or [] if p.get("type") == "input_image"]


async def test_client_send_image_with_a_question_gets_an_answer_about_it(make_client, server):
    client, probe = make_client(server.url)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    client.update_session(output_modalities=["text"])
    client.send_image(PIXELS, text="what is this?", detail="low")
    await probe.received_type("response.done")
    [sent] = probe.sent("conversation.item.create")
    assert sent["item"]["content"] == [
        {"type": "input_text", "text": "what is this?"},
        {"type": "input_image", "image_url": PNG_URL, "detail": "low"},
    ]
    user, assistant = client.conversation.get_items()
    assert user["formatted"]["images"] == [{"image_url": PNG_URL, "detail": "low"}]
    assert user["formatted"]["text"] == "what is this?"
    assert assistant["formatted"]["text"] == "I see an image (PNG 64x48). You said: what is this?"


async def test_client_send_image_without_respond_only_adds_the_item(make_client, server):
    client, probe = make_client(server.url)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    client.send_image(PIXELS, respond=False)
    await probe.received_type("conversation.item.done")
    assert not probe.sent("response.create")
    client.send_user_message_content([{"type": "input_image", "image_url": PIXELS[:8]}])
    await probe.received_type("response.done")
    text = client.conversation.get_items()[-1]["formatted"]
    assert text["transcript"] == "I see an image (PNG 64x8)."  # the last message's image


async def test_client_refuses_a_bad_image_before_sending_and_the_session_goes_on(
    make_client, server
):
    client, probe = make_client(server.url)
    await client.connect_async()
    await client.wait_for_session_created_async(5 * UNIT)
    client.update_session(output_modalities=["text"])
    with pytest.raises(ImageError, match=r"cannot read image file"):
        client.send_image("not an image at all")
    with pytest.raises(ImageError, match=r"over the 8\.4 MB limit"):
        client.send_image(b"\x89PNG\r\n\x1a\n" + bytes(50 * 1024 * 1024))
    assert not probe.sent("conversation.item.create")
    client.send_user_message_content("still here?")
    await probe.received_type("response.done")
    assert client.conversation.get_items()[-1]["formatted"]["text"] == "You said: still here?"


async def test_client_replays_images_into_the_new_session_after_a_drop(make_client):
    async with LocalRealtimeServer(speed=0) as srv, FaultProxy(srv.url) as proxy:
        client, probe = make_client(proxy.url, reconnect_delay=0.05 * UNIT)
        await client.connect_async()
        await client.wait_for_session_created_async(5 * UNIT)
        client.update_session(output_modalities=["text"])
        client.send_image(PIXELS)  # an image alone: no words to replay it by
        await probe.received_type("response.done")
        before = len(probe.received("conversation.item.added"))

        proxy.drop()
        [reconnected] = await probe.until(lambda: probe.of("reconnected"))
        assert reconnected["replayed_items"] == 2
        replayed = probe.sent("conversation.item.create")[-2]["item"]
        assert image_parts(replayed) == [{"type": "input_image", "image_url": PNG_URL}]
        # The new session stored it: its announcement carries the image back.
        added = await probe.until(
            lambda: probe.received("conversation.item.added")[before:] or None
        )
        assert image_parts(added[0]["item"])[0]["image_url"] == PNG_URL
        assert len(client.conversation.get_items()) == 2  # no duplicates from the replay


def test_history_replay_keeps_the_newest_images_within_its_budget():
    urls = [image_data_url(np.full((4, 4), n, np.uint8)) for n in range(4)]
    items = [
        {
            "id": f"item_{n}",
            "type": "message",
            "role": "user",
            "content": [
                {"type": "input_text", "text": f"plot {n}"},
                {"type": "input_image", "image_url": url, "detail": "high"},
            ],
        }
        for n, url in enumerate(urls)
    ]
    replay = history_items(items, image_bytes=len(urls[2]) + len(urls[3]))
    assert [item["content"] for item in replay[:2]] == [
        [
            {"type": "input_text", "text": f"plot {n}"},
            {"type": "input_text", "text": IMAGE_NOT_REPLAYED},
        ]
        for n in range(2)
    ]
    assert [item["content"][1] for item in replay[2:]] == [
        {"type": "input_image", "image_url": url, "detail": "high"} for url in urls[2:]
    ]
    assert all(parse_data_url(p["image_url"]) for i in replay for p in image_parts(i))
