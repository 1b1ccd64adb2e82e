"""Client event checks and small server event builders for the state machine (pure)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_widget.audio import decode_base64
from realtime_widget.images import ImageError, parse_data_url
from realtime_widget.server._checks import (
    ClientError,
    EventSpecs,
    check_client_event,
    check_fields,
    optional,
    typed,
)
from realtime_widget.server._config import ITEM_SPECS, ROLE_CONTENT
from realtime_widget.server._items import Conversation, Record
from realtime_widget.server._transcription import word_deltas

__all__ = [
    "EVENT_SPECS",
    "check_event",
    "check_new_item",
    "item_added",
    "rate_limits",
    "resolve_input",
    "transcription",
    "transcription_failed",
]

_ID = {"type": typed(str), "event_id": typed(str)}

EVENT_SPECS: EventSpecs = {
    "session.update": ({**_ID, "session": typed(dict)}, ("session",)),
    "transcription_session.update": ({**_ID, "session": typed(dict)}, ("session",)),
    "input_audio_buffer.append": ({**_ID, "audio": typed(str)}, ("audio",)),
    "input_audio_buffer.commit": (_ID, ()),
    "input_audio_buffer.clear": (_ID, ()),
    "output_audio_buffer.clear": (_ID, ()),
    "conversation.item.create": (
        {**_ID, "item": typed(dict), "previous_item_id": typed(str, nullable=True)},
        ("item",),
    ),
    "conversation.item.delete": ({**_ID, "item_id": typed(str)}, ("item_id",)),
    "conversation.item.retrieve": ({**_ID, "item_id": typed(str)}, ("item_id",)),
    "conversation.item.truncate": (
        {**_ID, "item_id": typed(str), "content_index": typed(int), "audio_end_ms": typed(int)},
        ("item_id", "content_index", "audio_end_ms"),
    ),
    "response.create": ({**_ID, "response": optional(typed(dict))}, ()),
    "response.cancel": ({**_ID, "response_id": typed(str)}, ()),
}
"""Client event type -> (field spec, required fields)."""


def check_event(event: Any) -> str:
    """Check a realtime session's client event (`check_client_event` with `EVENT_SPECS`).

    Raises:
        ClientError: not an object, no/unknown type, or a missing/unknown/mistyped field.
    """
    return check_client_event(event, EVENT_SPECS)


def check_new_item(
    raw: dict, conversation: Conversation | None, new_id: Callable[[str], str]
) -> tuple[dict, np.ndarray | None]:
    """Check an item from ``conversation.item.create`` (or ``response.input``).

    Args:
        raw: the client's item (GA shape).
        conversation: to check a ``function_call_output``'s ``call_id`` against, or ``None``.
        new_id: id factory for missing ids.

    Returns:
        ``(item, audio)``: the item as the server stores and announces it (no audio bytes), and
        the decoded user audio of an ``input_audio`` part (or ``None``).

    Raises:
        ClientError: the first problem, ``param`` prefixed with ``item.``.
    """
    kind = raw.get("type", "message")
    if not isinstance(kind, str) or kind not in ITEM_SPECS or kind == "item_reference":
        supported = ", ".join(f"'{k}'" for k in ITEM_SPECS if k != "item_reference")
        raise ClientError(
            "invalid_value",
            f"Invalid value: {kind!r}. Supported values are: {supported}.",
            "item.type",
        )
    spec, required = ITEM_SPECS[kind]
    check_fields(raw, spec, "item", required)
    if kind.startswith("mcp_"):
        return _mcp_item(raw, conversation, new_id), None
    item: dict = {
        "id": raw.get("id") or new_id("item_"),
        "object": "realtime.item",
        "type": kind,
        "status": "completed",
    }
    audio = None
    if kind == "message":
        item["role"] = raw["role"]
        item["content"], audio = _content(raw["role"], raw["content"])
    elif kind == "function_call":
        item.update(
            name=raw["name"],
            call_id=raw.get("call_id") or new_id("call_"),
            arguments=raw["arguments"],
        )
    else:
        if conversation is not None and not conversation.has_call(raw["call_id"]):
            raise ClientError(
                "invalid_value",
                f"No tool call found for function call output with call_id {raw['call_id']}: "
                "answer a call_id from a function_call item in this conversation.",
                "item.call_id",
            )
        item.update(call_id=raw["call_id"], output=raw["output"])
    return item, audio


def _mcp_item(raw: dict, conversation: Conversation | None, new_id: Callable[[str], str]) -> dict:
    # MCP items carry no object/status (the SDK's RealtimeMcp* models); stored as sent.
    if raw["type"] == "mcp_approval_response" and conversation is not None:
        wanted = raw["approval_request_id"]
        if not conversation.has_item(wanted, "mcp_approval_request"):
            raise ClientError(
                "invalid_value",
                f"No MCP approval request found with id {wanted}: answer the id of an "
                "mcp_approval_request item in this conversation.",
                "item.approval_request_id",
            )
    item = copy.deepcopy(raw)
    item["id"] = raw.get("id") or new_id("item_")
    if item["type"] == "mcp_call":
        for key in ("approval_request_id", "output", "error"):
            item.setdefault(key, None)
    return item


def _content(role: str, parts: list[dict]) -> tuple[list[dict], np.ndarray | None]:
    content, audio = [], None
    for index, part in enumerate(parts):
        kind = part["type"]
        if kind not in ROLE_CONTENT[role]:
            allowed = ", ".join(f"'{k}'" for k in sorted(ROLE_CONTENT[role]))
            raise ClientError(
                "invalid_value",
                f"Invalid value: '{kind}'. Supported values for a {role} message are: {allowed}.",
                f"item.content[{index}].type",
            )
        if kind in ("input_text", "output_text"):
            if not isinstance(part.get("text"), str):
                raise ClientError(
                    "missing_required_parameter",
                    f"Missing required parameter: 'item.content[{index}].text'.",
                    f"item.content[{index}].text",
                )
            content.append({"type": kind, "text": part["text"]})
        elif kind == "input_audio":
            if isinstance(part.get("audio"), str):
                try:
                    audio = np.asarray(decode_base64(part["audio"]), dtype=np.int16)
                except ValueError as exc:
                    raise ClientError(
                        "invalid_value",
                        f"Invalid 'item.content[{index}].audio': expected base64 PCM16: {exc}.",
                        f"item.content[{index}].audio",
                    ) from exc
            content.append({"type": kind, "transcript": part.get("transcript")})
        elif kind == "output_audio":
            content.append({"type": kind, "transcript": part.get("transcript") or ""})
        else:  # input_image
            content.append(_image_part(part, index))
    return content, audio


def _image_part(part: dict, index: int) -> dict:
    """An ``input_image`` part checked: a PNG/JPEG data URL under the size cap (issue 12)."""
    param = f"item.content[{index}].image_url"
    url = part.get("image_url")
    if not isinstance(url, str):
        raise ClientError(
            "missing_required_parameter",
            f"Missing required parameter: '{param}' (a data:image/png;base64,... URL).",
            param,
        )
    try:
        parse_data_url(url)
    except ImageError as exc:
        raise ClientError("invalid_value", f"Invalid '{param}': {exc}.", param) from None
    return {k: v for k, v in part.items() if k in ("type", "image_url", "detail")}


def resolve_input(
    raw_items: list[dict], conversation: Conversation, new_id: Callable[[str], str]
) -> list[Record]:
    """The records of a ``response.create``'s ``input``: references and inline items."""
    records = []
    for index, raw in enumerate(raw_items):
        if raw.get("type") == "item_reference":
            check_fields(raw, ITEM_SPECS["item_reference"][0], f"response.input[{index}]", ("id",))
            records.append(conversation.get(raw["id"], f"response.input[{index}].id"))
        else:
            try:
                item, audio = check_new_item(raw, None, new_id)
            except ClientError as exc:
                param = (exc.param or "").replace("item", f"response.input[{index}]", 1)
                raise ClientError(exc.code, exc.message, param) from exc
            records.append(Record(item, audio=audio))
    return records


def item_added(item: dict, previous: str | None) -> list[dict]:
    """GA's announcement of a finished item: ``conversation.item.added`` then ``.done``."""
    return [
        {
            "type": "conversation.item.added",
            "previous_item_id": previous,
            "item": copy.deepcopy(item),
        },
        {
            "type": "conversation.item.done",
            "previous_item_id": previous,
            "item": copy.deepcopy(item),
        },
    ]


def transcription(
    item_id: str, transcript: str, seconds: float, *, by_word: bool = False
) -> list[dict]:
    """Transcription events of one user audio item: one delta (or one per word, as a
    transcription session streams captions), then completed."""
    ids = {"item_id": item_id, "content_index": 0}
    pieces = word_deltas(transcript) if by_word else [transcript]
    return [
        *(
            {"type": "conversation.item.input_audio_transcription.delta", **ids, "delta": piece}
            for piece in pieces
        ),
        {
            "type": "conversation.item.input_audio_transcription.completed",
            **ids,
            "transcript": transcript,
            "usage": {"type": "duration", "seconds": round(seconds, 3)},
        },
    ]


def transcription_failed(item_id: str, message: str) -> dict:
    """The event for a transcriber that raised (the turn itself still counts)."""
    return {
        "type": "conversation.item.input_audio_transcription.failed",
        "item_id": item_id,
        "content_index": 0,
        "error": {
            "type": "transcription_error",
            "code": "transcription_failed",
            "message": f"The transcriber failed: {message}",
            "param": None,
        },
    }


_TOKEN_LIMIT = 40000


def rate_limits(tokens_used: int) -> dict:
    """A ``rate_limits.updated`` event after a response (tokens per minute, requests)."""
    return {
        "type": "rate_limits.updated",
        "rate_limits": [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {
                "name": "tokens",
                "limit": _TOKEN_LIMIT,
                "remaining": max(0, _TOKEN_LIMIT - tokens_used),
                "reset_seconds": round(min(tokens_used, _TOKEN_LIMIT) / _TOKEN_LIMIT * 60, 3),
            },
        ],
    }


def beta_mcp_error() -> dict:
    """The error for MCP tools on a beta connection (beta has no MCP items or events)."""
    return {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "code": "unsupported_in_beta",
            "message": "MCP tools need the GA Realtime interface; this connection speaks beta "
            "(OpenAI-Beta: realtime=v1), so its MCP tools are kept but never listed or called. "
            "Connect without the beta header to use them.",
            "param": "session.tools",
            "event_id": None,
        },
    }
