"""An out-of-band response beside the spoken one: neither shown nor played, output in its handle."""

from __future__ import annotations

import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from tests.helpers import UNIT
from tests.widget.test_widget import stream_long_reply, wait_until
from tests.widget.test_widget_barge_in_guard import frames_of


@pytest.fixture
def widget():
    with LocalRealtimeServer(speed=1.0) as server:
        w = RealtimeWidget(url=server.url)
        wait_until(lambda: w.status == "connected", what="connected")
        yield w
        w.close()


def test_widget_out_of_band_response_is_neither_shown_nor_played(widget):
    frames = frames_of(widget)
    spoken = stream_long_reply(widget)
    handle = widget.create_response(
        {
            "conversation": "none",
            "output_modalities": ["audio"],
            "metadata": {"purpose": "summary"},
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "short"}],
                }
            ],
        }
    )
    result = handle.result(10 * UNIT)
    assert result.transcript == "You said: short" and len(result.audio) > 0
    assert result.items[0]["id"] not in {i["id"] for i in widget.items}
    wait_until(
        lambda: any(i["id"] == spoken["id"] and i["status"] == "completed" for i in widget.items),
        timeout=30 * UNIT,
        what="the spoken reply completed",
    )
    assert [i["role"] for i in widget.items] == ["user", "assistant"]
    oob_id = result.items[0]["id"]
    sent_ids = {
        entry["item_id"] for f in frames for key in ("audio", "audio_done") for entry in f[key]
    } | {view["id"] for f in frames for view in f["items"]}
    assert spoken["id"] in sent_ids and oob_id not in sent_ids


def test_widget_create_response_while_disconnected_says_what_to_do():
    w = RealtimeWidget(url="ws://127.0.0.1:9/v1/realtime", autoconnect=False)
    try:
        with pytest.raises(RuntimeError, match="connect"):
            w.create_response({"conversation": "none"})
    finally:
        w.close()
