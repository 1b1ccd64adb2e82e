"""What the widget shows of the conversation: audio-free item views, the transcript, the event log.

Pure (no I/O, no threads): the widget's sync layer calls these from the runtime thread and hands
the results to the browser (docs/widget-protocol.md, "Item shape" and "Event log entry").
Audio never leaves here (DESIGN §5): views carry sample counts, the log carries byte counts.
"""

from __future__ import annotations

import json
from collections import deque
from typing import Any

from realtime_widget.images import describe_data_url
from realtime_widget.protocol.redaction import AUDIO_EVENTS, redact

__all__ = ["EventLog", "item_view", "mcp_view", "redact", "transcript_markdown"]

WIRE_RATE = 24000
PREVIEW_MAX_CHARS = 512 * 1024
"""Largest image data URL put in an item view (so in the `items` trait and the saved notebook);
a larger image is shown as a labelled placeholder: its data stays in the kernel."""


def image_views(item: dict[str, Any]) -> list[dict[str, Any]]:
    """The images of a message as the browser shows them: ``{"url", "label", "detail"}``.

    ``url`` is the data URL when it is at most :data:`PREVIEW_MAX_CHARS`, else ``None``;
    ``label`` reads like ``"PNG 640x480"`` (``"image"`` when the data is gone or unreadable).
    """
    formatted = item.get("formatted") or {}
    images = formatted.get("images")
    if images is None:  # items straight from the wire
        images = [p for p in item.get("content") or [] if (p or {}).get("type") == "input_image"]
    views = []
    for image in images:
        url = image.get("image_url") if isinstance(image, dict) else None
        info = describe_data_url(url) if url else None
        views.append(
            {
                "url": url if info is not None and len(url) <= PREVIEW_MAX_CHARS else None,
                "label": str(info) if info is not None else "image",
                "detail": image.get("detail") if isinstance(image, dict) else None,
            }
        )
    return views


def _text_of(item: dict[str, Any]) -> tuple[str, str]:
    formatted = item.get("formatted") or {}
    text = formatted.get("text") or ""
    transcript = formatted.get("transcript") or ""
    if not text and not transcript:
        # Items straight from the wire (no `formatted`): read their content parts.
        for part in item.get("content") or []:
            text += part.get("text") or ""
            transcript += part.get("transcript") or ""
    return text, transcript


def _has_input_audio(item: dict[str, Any]) -> bool:
    return any((p or {}).get("type") == "input_audio" for p in item.get("content") or [])


def audio_content_index(item: dict[str, Any]) -> int:
    """Index of the item's audio content part (0 when it has none)."""
    for i, part in enumerate(item.get("content") or []):
        if (part or {}).get("type") in {"output_audio", "audio", "input_audio"}:
            return i
    return 0


_MCP_TYPES = frozenset(
    {"mcp_list_tools", "mcp_call", "mcp_approval_request", "mcp_approval_response"}
)
_MCP_TEXT_LIMIT = 20_000  # characters of an MCP output kept in a view (a tool may return MBs)


def _clip(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value)
    if len(value) > _MCP_TEXT_LIMIT:
        return value[:_MCP_TEXT_LIMIT] + f"… ({len(value) - _MCP_TEXT_LIMIT} more characters)"
    return value


def mcp_view(item: dict[str, Any]) -> dict[str, Any] | None:
    """The MCP part of an item view (docs/widget-protocol.md, "MCP"), or None for other items.

    Keys: ``server_label``, ``name``, ``arguments``, ``output`` and ``error`` (message text) of
    a call or approval request; ``tools`` (``name``, ``description``) of a tool listing;
    ``decision`` (``approve``, ``reason``) of an answered request; ``approval_request_id``,
    ``approve``, ``reason`` of an answer.
    """
    kind = item.get("type")
    if kind not in _MCP_TYPES:
        return None
    summary = (item.get("formatted") or {}).get("mcp") or {}
    error = item.get("error")
    if isinstance(error, dict):
        error = error.get("message") or error.get("type")
    tools = summary.get("tools")
    if tools is None and kind == "mcp_list_tools":  # straight from the wire (no `formatted`)
        tools = [
            {"name": str(t.get("name")), "description": str(t.get("description") or "")}
            for t in item.get("tools") or []
            if isinstance(t, dict)
        ]
    decision = summary.get("decision")
    return {
        "server_label": str(item.get("server_label") or summary.get("server_label") or ""),
        "name": str(item.get("name") or ""),
        "arguments": str(item.get("arguments") or ""),
        "output": _clip(item.get("output")),
        "error": _clip(error),
        "tools": list(tools or []),
        "decision": dict(decision) if isinstance(decision, dict) else None,
        "approval_request_id": item.get("approval_request_id"),
        "approve": item.get("approve") if kind == "mcp_approval_response" else None,
        "reason": item.get("reason"),
    }


def item_view(
    item: dict[str, Any],
    *,
    audio_samples: int = 0,
    truncated_ms: int | None = None,
    tool_state: str | None = None,
    duration_ms: float | None = None,
) -> dict[str, Any]:
    """The audio-free view of one conversation item, as the browser shows it.

    Args:
        item: a conversation item (wire fields plus `formatted`, as the reducer keeps it).
        audio_samples: 24 kHz samples of audio the item holds (counted by the caller from deltas,
            so the item's audio is never concatenated to be measured).
        truncated_ms: where an interruption cut the item's audio, if it did.
        tool_state: for function calls: running, awaiting_approval, done, error, denied or
            cancelled.
        duration_ms: for function calls: how long the tool ran.

    Returns:
        A JSON-safe dict with the keys of docs/widget-protocol.md's item shape (``mcp``:
        see :func:`mcp_view`).
    """
    formatted = item.get("formatted") or {}
    text, transcript = _text_of(item)
    kind = item.get("type") or "message"
    role = item.get("role")
    tool = None
    if kind == "function_call":
        ftool = formatted.get("tool") or {}
        tool = {
            "name": item.get("name") or ftool.get("name") or "",
            "call_id": item.get("call_id") or ftool.get("call_id") or "",
            "arguments": item.get("arguments") or ftool.get("arguments") or "",
        }
    output = item.get("output") if kind == "function_call_output" else formatted.get("output")
    if kind == "function_call_output":
        tool = {"name": "", "call_id": item.get("call_id") or "", "arguments": ""}
    transcribing = (
        role == "user"
        and _has_input_audio(item)
        and not transcript
        and item.get("status") != "incomplete"
        and not formatted.get("transcription_failed")
    )
    return {
        "id": item.get("id") or "",
        "type": kind,
        "role": role,
        "status": item.get("status") or "completed",
        "text": text,
        "transcript": transcript,
        "transcribing": bool(transcribing),
        "audio_samples": int(audio_samples),
        "audio_content_index": audio_content_index(item),
        "truncated_ms": truncated_ms,
        "tool": tool,
        "output": output if output is None else str(output),
        "tool_state": tool_state,
        "duration_ms": duration_ms,
        "traceback": None,  # a failing tool's, set by the widget from its call record
        "mcp": mcp_view(item),
        "images": image_views(item) if kind == "message" else [],
    }


def transcript_markdown(views: list[dict[str, Any]]) -> str:
    """The conversation as Markdown: one paragraph per turn, tool calls as code spans.

    Args:
        views: item views (see `item_view`) in conversation order.
    """
    lines: list[str] = []
    outputs = {
        (v.get("tool") or {}).get("call_id"): v.get("output")
        for v in views
        if v.get("type") == "function_call_output"
    }
    for v in views:
        if v["type"] == "message":
            words = (
                v["text"] or v["transcript"] or ("*(transcribing…)*" if v["transcribing"] else "")
            )
            if not words and v["audio_samples"]:
                words = f"*({v['audio_samples'] / WIRE_RATE:.1f} s of audio)*"
            images = " ".join(f"*[image: {i['label']}]*" for i in v.get("images") or [])
            words = f"{words} {images}".strip()
            cut = " *(truncated)*" if v["truncated_ms"] is not None else ""
            lines.append(f"**{(v['role'] or 'system').capitalize()}:** {words}{cut}")
        elif v["type"] == "function_call":
            tool = v["tool"] or {}
            result = outputs.get(tool.get("call_id"))
            line = f"**Tool:** `{tool.get('name')}({tool.get('arguments')})`"
            if result is not None:
                line += f" → `{result}`"
            lines.append(line)
        elif v["type"] == "mcp_call" and v.get("mcp"):
            mcp = v["mcp"]
            line = f"**MCP tool** {mcp['server_label']}: `{mcp['name']}({mcp['arguments']})`"
            if mcp["error"] is not None:
                line += f" → *failed: {mcp['error']}*"
            elif mcp["output"] is not None:
                line += f" → `{mcp['output']}`"
            lines.append(line)
    return "\n\n".join(lines)


# Events folded into one counter per turn or response (issue 15): the audio a turn streams and
# the deltas of a response would otherwise be thousands of entries interleaved with each other.
_FOLDED_EXACT = frozenset({"input_audio_buffer.append"})
# Events that end a user turn's appends (the next append starts the next turn's counter): the
# server's commit (server VAD or a client commit) and a clear from either side.
_TURN_ENDS = frozenset(
    {
        ("<", "input_audio_buffer.committed"),
        ("<", "input_audio_buffer.cleared"),
        (">", "input_audio_buffer.clear"),
    }
)


def _folds(kind: str) -> bool:
    return kind in _FOLDED_EXACT or kind.endswith(".delta")


class EventLog:
    """A bounded log of protocol events for the widget's event log (docs/widget-protocol.md).

    Audio appends and every ``*.delta`` fold into one entry per type and group, with a count:
    ``input_audio_buffer.append`` per user turn (a turn ends at the server's
    ``input_audio_buffer.committed`` or a buffer clear), deltas per response (``response_id``;
    else per item: a user turn's transcription deltas). The entry stays where the turn or
    response started, so interleaved audio and transcript deltas are two counters, not a wall of
    alternating lines, and the log stays cheap to sync. An hour's session is a few thousand
    entries, of which the last `maxlen` stay.

    Args:
        maxlen: entries kept (the oldest are dropped; a folded entry that was dropped while its
            response still streams starts again as a new entry).
        json_limit: characters of each entry's JSON kept (the first event of a folded entry).
    """

    def __init__(self, maxlen: int = 500, json_limit: int = 2000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=maxlen)
        self.json_limit = json_limit
        self._seq = 0
        self._turn = 1
        # Open folded entries by (direction, type, group); pruned as entries are dropped, so this
        # is bounded by `maxlen` too.
        self._open: dict[tuple[str, str, str], dict[str, Any]] = {}

    def add(self, direction: str, event: dict[str, Any], now: float) -> dict[str, Any]:
        """Record one event; returns the new entry or the folded entry it counted into.

        Args:
            direction: "<" received from the server, ">" sent to it, "=" local.
            event: the wire event (redacted here).
            now: wall-clock time (epoch seconds) of the event.
        """
        kind = str(event.get("type") or "?")
        item_id = event.get("item_id")
        audio = _audio_bytes(event) if kind in AUDIO_EVENTS else 0
        group = None
        if _folds(kind):
            group = self._group(kind, event)
            key = (direction, kind, group)
            entry = self._open.get(key)
            if entry is not None and self.entries and entry["seq"] >= self.entries[0]["seq"]:
                entry["count"] += 1
                entry["time"] = now
                entry["bytes"] += audio
                return entry
        elif (direction, kind) in _TURN_ENDS:
            self._turn += 1
        self._seq += 1
        body = redact(event, audio_delta=kind in AUDIO_EVENTS)
        text = json.dumps(body, default=str)
        if len(text) > self.json_limit:
            text = text[: self.json_limit] + "…"
        entry = {
            "seq": self._seq,
            "time": now,
            "first_time": now,
            "dir": direction,
            "type": kind,
            "count": 1,
            "item_id": item_id,
            "group": group,
            "bytes": audio,
            "json": text,
        }
        if self.entries and len(self.entries) == self.entries.maxlen:
            dropped = self.entries[0]
            if dropped["group"] is not None:
                key = (dropped["dir"], dropped["type"], dropped["group"])
                if self._open.get(key) is dropped:
                    del self._open[key]
        self.entries.append(entry)
        if group is not None:
            self._open[(direction, kind, group)] = entry
        return entry

    def _group(self, kind: str, event: dict[str, Any]) -> str:
        if kind == "input_audio_buffer.append":
            return f"turn {self._turn}"
        # Deltas of a response carry its id; transcription deltas of a user turn only the item's.
        if event.get("response_id"):
            return f"response {event['response_id']}"
        return f"item {event['item_id']}" if event.get("item_id") else "no id"

    def snapshot(self) -> list[dict[str, Any]]:
        """Copies of the entries, oldest first (for the `event_log` trait)."""
        return [dict(e) for e in self.entries]


def _audio_bytes(event: dict[str, Any]) -> int:
    """Decoded size of an event's base64 audio (without decoding it)."""
    data = event.get("delta") if "delta" in event else event.get("audio")
    if not isinstance(data, str):
        return 0
    return len(data) * 3 // 4 - data[-2:].count("=")
