"""The coalescer of kernel -> browser traffic (realtime_widget.widget._outbox)."""

from __future__ import annotations

import itertools

import numpy as np

from realtime_widget.widget._outbox import Outbox


def pcm(n: int, value: int = 1) -> bytes:
    return np.full(n, value, dtype="<i2").tobytes()


def drain(box: Outbox, start: float, stop: float, step: float = 0.001) -> list[float]:
    """Poll the outbox like the widget's flush loop would; returns the frame send times."""
    sent = []
    t = start
    while t < stop:
        if box.take_frame(t) is not None:
            sent.append(t)
        t += step
    return sent


def test_outbox_sends_nothing_when_nothing_is_pending():
    box = Outbox()
    assert box.due(0.0) is None
    assert box.take_frame(0.0) is None
    assert box.take_traits(0.0) is None


def test_outbox_merges_audio_deltas_of_one_part_into_one_buffer_with_offsets():
    box = Outbox()
    box.add_audio("item_a", 0, pcm(100, 1))
    box.add_audio("item_a", 0, pcm(50, 2))
    box.add_audio("item_b", 0, pcm(10, 3))
    frame, buffers = box.take_frame(1.0)
    assert [a["samples"] for a in frame["audio"]] == [150, 10]
    assert [a["offset"] for a in frame["audio"]] == [0, 0]
    assert buffers[0] == pcm(100, 1) + pcm(50, 2)
    assert buffers[frame["audio"][1]["buffer"]] == pcm(10, 3)
    box.add_audio("item_a", 0, pcm(20))
    frame, _ = box.take_frame(2.0)
    assert frame["audio"][0]["offset"] == 150


def test_outbox_keeps_only_the_latest_patch_of_each_item():
    box = Outbox()
    for i in range(500):
        box.patch_item({"id": "item_a", "text": "x" * i})
    box.patch_item({"id": "item_b", "text": "b"})
    frame, _ = box.take_frame(1.0)
    assert [p["id"] for p in frame["items"]] == ["item_a", "item_b"]
    assert frame["items"][0]["text"] == "x" * 499


def test_outbox_releases_at_most_one_frame_per_interval_under_a_burst():
    box = Outbox(frame_interval=0.025)
    sent = []
    t = 0.0
    # 5000 deltas over one second, polled after each one.
    for i in range(5000):
        t = i / 5000
        box.add_audio("item_a", 0, pcm(24))
        box.patch_item({"id": "item_a", "text": str(i)})
        if box.take_frame(t) is not None:
            sent.append(t)
    sent += drain(box, t, t + 0.1)
    assert 35 <= len(sent) <= 42
    assert min(b - a for a, b in itertools.pairwise(sent)) >= 0.025 - 1e-9


def test_outbox_clear_drops_queued_audio_and_later_audio_of_cut_items():
    box = Outbox()
    box.add_audio("item_a", 0, pcm(100))
    box.take_frame(1.0)
    box.add_audio("item_a", 0, pcm(100))
    box.add_audio("item_done", 0, pcm(10))
    box.end_audio("item_done", 0)
    box.take_frame(2.0)
    assert box.clear_playback() == ["item_a"]
    assert box.add_audio("item_a", 0, pcm(100)) is False
    assert box.add_audio("item_new", 0, pcm(10)) is True
    frame, buffers = box.take_frame(3.0)
    assert frame["clear"] is True
    assert [a["item_id"] for a in frame["audio"]] == ["item_new"]
    assert len(buffers) == 1
    frame, _ = box.take_frame(4.0) or ({"clear": None}, [])
    assert frame["clear"] is None


def test_outbox_announces_the_end_of_a_part_once():
    box = Outbox()
    box.add_audio("item_a", 0, pcm(10))
    box.end_audio("item_a", 0)
    box.end_audio("item_a", 0)
    frame, _ = box.take_frame(1.0)
    assert frame["audio_done"] == [{"item_id": "item_a", "content_index": 0}]


def test_outbox_releases_traits_at_most_every_trait_interval_with_the_latest_values():
    box = Outbox(trait_interval=0.25)
    box.set_trait("status", "connecting")
    assert box.take_traits(0.0) == {"status": "connecting"}
    box.set_trait("status", "connected")
    box.set_trait("items", [1])
    assert box.take_traits(0.1) is None
    assert box.due(0.1) == 0.25
    assert box.take_traits(0.25) == {"status": "connected", "items": [1]}


def test_outbox_frames_are_json_safe_and_carry_binary_buffers():
    import json

    box = Outbox()
    box.add_audio("item_a", 0, pcm(10))
    box.log({"seq": 1, "type": "x"})
    frame, buffers = box.take_frame(0.0)
    json.dumps(frame)
    assert all(isinstance(b, bytes) for b in buffers)
