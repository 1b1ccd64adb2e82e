"""RealtimeWidget and images: ``send_image`` from Python, pasted/dropped bytes from the browser.

Against the embedded server through the real client; browser messages go through ipywidgets'
own custom-message dispatch (as in test_widget.py).
"""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from realtime_widget import RealtimeWidget
from realtime_widget.images import ImageError, encode_png, image_data_url
from realtime_widget.widget._items import PREVIEW_MAX_CHARS, image_views
from tests.widget.test_widget import browser, completed_reply, server, wait_until  # noqa: F401

PIXELS = np.zeros((48, 64, 3), np.uint8)


@pytest.fixture
def widget(server):  # noqa: F811
    w = RealtimeWidget(url=server.url)
    wait_until(lambda: w.status == "connected", what="connected")
    yield w
    w.close()


def test_widget_send_image_shows_a_thumbnail_and_the_answer_about_it(widget):
    widget.send_image(PIXELS, text="what is this?", detail="low")
    reply = wait_until(lambda: completed_reply(widget), what="a completed reply")[0]
    assert reply["transcript"] == "I see an image (PNG 64x48). You said: what is this?"
    user = next(i for i in widget.items if i["role"] == "user")
    assert user["images"] == [
        {"url": image_data_url(PIXELS), "label": "PNG 64x48", "detail": "low"}
    ]
    assert widget.transcript.startswith("**User:** what is this? *[image: PNG 64x48]*")


def test_widget_pasted_image_bytes_from_the_browser_reach_the_model(widget):
    browser(
        widget, {"type": "image", "name": "paste.png", "text": "and this?"}, [encode_png(PIXELS)]
    )
    reply = wait_until(lambda: completed_reply(widget), what="a completed reply")[0]
    assert reply["transcript"] == "I see an image (PNG 64x48). You said: and this?"


def test_widget_bad_browser_image_is_an_error_entry_and_the_session_goes_on(widget):
    browser(widget, {"type": "image", "name": "notes.txt"}, [b"just some text"])
    browser(widget, {"type": "image", "name": "huge.png"}, [b"\x89PNG\r\n\x1a\n" + bytes(9 << 20)])
    errors = wait_until(lambda: len(widget.errors) >= 2 and widget.errors, what="two errors")
    assert errors[0]["code"] == "invalid_image" and errors[0]["message"].startswith("notes.txt: ")
    assert "not a PNG or JPEG image" in errors[0]["message"]
    assert "huge.png" in errors[1]["message"] and "over the 8.4 MB limit" in errors[1]["message"]
    widget.send_text("still there?")
    reply = wait_until(lambda: completed_reply(widget), what="a completed reply")[0]
    assert reply["transcript"] == "You said: still there?"
    assert [i["role"] for i in widget.items] == ["user", "assistant"]


def test_widget_send_image_refuses_bad_input_and_a_closed_session(server):  # noqa: F811
    w = RealtimeWidget(url=server.url, autoconnect=False)
    try:
        with pytest.raises(RuntimeError, match="not connected"):
            w.send_image(PIXELS)
        w.connect()
        with pytest.raises(ImageError, match="got list"):
            w.send_image([[1, 2], [3, 4]])
        browser(w, {"type": "image"}, [])
        wait_until(lambda: w.errors, what="an error entry")
        assert "without its bytes" in w.errors[0]["message"]
    finally:
        w.close()


def test_item_view_puts_small_images_in_the_trait_and_labels_large_ones():
    small = image_data_url(PIXELS)
    padded = encode_png(PIXELS) + bytes(PREVIEW_MAX_CHARS)  # trailing bytes after IEND
    large = "data:image/png;base64," + base64.b64encode(padded).decode()
    item = {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_image", "image_url": small},
            {"type": "input_image", "image_url": large, "detail": "high"},
            {"type": "input_image", "image_url": None},
        ],
    }
    views = image_views(item)
    assert views == [
        {"url": small, "label": "PNG 64x48", "detail": None},
        {"url": None, "label": "PNG 64x48", "detail": "high"},
        {"url": None, "label": "image", "detail": None},
    ]
    json.dumps(views)  # JSON-safe for the trait
