"""Helpers for the reducer's unit tests: events spelled in either dialect, fed as RealtimeAPI does.

Beta names appear here as test data (what a beta server sends), not as an alias table.
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from realtime_widget.protocol import normalize_server_event

NAMES = {
    "ga": {
        "announce": "conversation.item.added",
        "audio": "response.output_audio.delta",
        "transcript": "response.output_audio_transcript.delta",
        "text": "response.output_text.delta",
        "audio_part": "output_audio",
        "text_part": "output_text",
    },
    "beta": {
        "announce": "conversation.item.created",
        "audio": "response.audio.delta",
        "transcript": "response.audio_transcript.delta",
        "text": "response.text.delta",
        "audio_part": "audio",
        "text_part": "text",
    },
}


def feed(conversation, event: dict[str, Any], input_audio=None) -> dict[str, Any]:
    """As RealtimeAPI delivers it: normalised to GA (a no-op for GA events)."""
    return conversation.process_event(normalize_server_event(event), input_audio)


def pcm(*samples: int) -> str:
    return base64.b64encode(np.array(samples, dtype="<i2").tobytes()).decode()


def announce(conversation, dialect, item: dict[str, Any]) -> dict[str, Any]:
    event = {"type": NAMES[dialect]["announce"], "event_id": "evt", "item": item}
    return feed(conversation, event)


def assistant(conversation, dialect, item_id="item_a", part="audio_part") -> dict[str, Any]:
    item = {"id": item_id, "type": "message", "role": "assistant", "status": "in_progress"}
    announce(conversation, dialect, {**item, "content": []})
    part_body = {"type": NAMES[dialect][part], "transcript" if part == "audio_part" else "text": ""}
    feed(
        conversation,
        {
            "type": "response.content_part.added",
            "item_id": item_id,
            "content_index": 0,
            "output_index": 0,
            "response_id": "resp_1",
            "part": part_body,
        },
    )
    return conversation.get_item(item_id)


def delta(conversation, dialect, kind: str, value: str, item_id="item_a") -> dict[str, Any]:
    event = {"type": NAMES[dialect][kind], "item_id": item_id, "content_index": 0, "delta": value}
    return feed(conversation, event)


def user_audio_item(item_id="item_u") -> dict[str, Any]:
    return {"id": item_id, "type": "message", "role": "user", "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}]}  # fmt: skip
