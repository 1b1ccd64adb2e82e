"""Long audio serialized off the loop: the pieces make the same JSON as ``json.dumps``."""

from __future__ import annotations

import json

import numpy as np

from realtime_widget.audio import encode_base64
from realtime_widget.server._payload import LazyAudio, lazy_size, serialize


def _retrieved(audio, transcript: str = "hello") -> dict:
    part = {"type": "input_audio", "transcript": transcript, "audio": audio}
    return {
        "event_id": "event_1",
        "type": "conversation.item.retrieved",
        "item": {"content": [part]},
    }


def test_serialize_writes_lazy_audio_as_the_base64_json_dumps_would():
    samples = (np.random.default_rng(3).standard_normal(24000 * 20 + 7) * 5000).astype(np.int16)
    event = _retrieved(LazyAudio(samples))
    pieces = serialize(event)
    assert len(pieces) > 3 and max(len(p) for p in pieces) <= 600_000
    assert "".join(pieces) == json.dumps(_retrieved(encode_base64(samples)))
    assert isinstance(event["item"]["content"][0]["audio"], LazyAudio)  # not modified
    assert abs(lazy_size(event) - len("".join(pieces))) < 2048


def test_serialize_is_not_fooled_by_a_transcript_that_looks_like_its_mark():
    samples = np.arange(3000, dtype=np.int16)
    hostile = "\x00lazy-audio-" + "0" * 32 + "\x00 and more"
    pieces = serialize(_retrieved(LazyAudio(samples), hostile))
    decoded = json.loads("".join(pieces))
    assert decoded["item"]["content"][0]["transcript"] == hostile
    assert decoded["item"]["content"][0]["audio"] == encode_base64(samples)


def test_events_without_lazy_audio_are_plain_json():
    event = {"type": "x", "list": [1, {"a": None}]}
    assert lazy_size(event) is None
    assert serialize(event) == [json.dumps(event)]
