"""Reconnecting: backoff, and the history replayed into the new session (DESIGN §6).

A Realtime session cannot be resumed: it ends at 60 minutes (close code 1001) or when the network
drops. The client opens a new session and seeds it with the conversation so far, as items the
server accepts from a client: user and system text (audio turns as their transcript), assistant
text and transcripts as ``output_text`` (GA; the API converts to beta's ``text``), and function
call / output pairs. Item ids are kept, so the client's own history does not grow duplicates.
Tool outputs the old session never acknowledged follow their call (see ``_outputs``).

MCP items are replayed as MCP items (the SDK's ``conversation.item.create`` takes all four
kinds): settled ``mcp_call`` items with their output or error, and approval requests that were
answered (with their answer) or still wait for one (so :meth:`approve_mcp` can answer them in
the new session). ``mcp_list_tools`` items are not: the new session lists the servers of its
``session.tools`` again itself.

User images (``input_image`` parts) are replayed with their message, newest first within
:data:`REPLAY_IMAGE_BYTES` of data URLs (four images at the 8 MiB cap; dozens of plots): an older
image beyond it is replaced by a short text note saying it was not replayed, so a long session
with many images reconnects with a bounded history instead of tens of megabytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

__all__ = ["REPLAY_IMAGE_BYTES", "backoff_delay", "history_items"]

REPLAY_IMAGE_BYTES = 32 * 1024 * 1024
"""Data-URL characters of images replayed after a reconnect (the newest images win)."""
IMAGE_NOT_REPLAYED = "[an image shared earlier, not replayed after the reconnect]"

_TEXT_TYPES = frozenset({"input_text", "output_text", "text"})
_AUDIO_TYPES = frozenset({"input_audio", "output_audio", "audio"})


def backoff_delay(attempt: int, base: float = 0.5, cap: float = 8.0) -> float:
    """Seconds to wait before reconnect ``attempt`` (1, 2, ...): 0.5, 1, 2, 4, 8, 8, ..."""
    return min(cap, base * 2 ** max(0, attempt - 1))


def _message_text(item: dict) -> str:
    """The words of a message: its text parts, else the transcripts of its audio parts."""
    parts: list[str] = []
    for part in item.get("content") or []:
        kind = part.get("type")
        if kind in _TEXT_TYPES and part.get("text"):
            parts.append(part["text"])
        elif kind in _AUDIO_TYPES and part.get("transcript"):
            parts.append(part["transcript"])
    if parts:
        return "".join(parts)
    formatted = item.get("formatted") or {}
    return formatted.get("text") or formatted.get("transcript") or ""


def _mcp_call(item: dict, requests: set[str]) -> dict | None:
    if item.get("status") not in ("completed", "failed"):
        return None  # cut by the drop: it never ran to the end
    entry = {
        "id": item.get("id"),
        "type": "mcp_call",
        "server_label": item.get("server_label") or "",
        "name": item.get("name") or "",
        "arguments": item.get("arguments") or "{}",
        "output": item.get("output"),
    }
    if item.get("error") is not None:
        entry["error"] = item["error"]
    if item.get("approval_request_id") in requests:
        entry["approval_request_id"] = item["approval_request_id"]
    return entry


def _mcp_history(items: list[dict], pending_approvals: Iterable[str]) -> dict[str, dict]:
    """The replayed form of each MCP item to keep, by id."""
    answers = {
        i.get("approval_request_id"): i for i in items if i.get("type") == "mcp_approval_response"
    }
    requests = {
        i["id"]
        for i in items
        if i.get("type") == "mcp_approval_request"
        and isinstance(i.get("id"), str)
        and (i["id"] in answers or i["id"] in set(pending_approvals))
    }
    kept: dict[str, dict] = {}
    for item in items:
        kind, item_id = item.get("type"), item.get("id")
        if kind == "mcp_call":
            entry = _mcp_call(item, requests)
        elif kind == "mcp_approval_request" and item_id in requests:
            entry = {
                "id": item_id,
                "type": kind,
                "server_label": item.get("server_label") or "",
                "name": item.get("name") or "",
                "arguments": item.get("arguments") or "{}",
            }
        elif kind == "mcp_approval_response" and item.get("approval_request_id") in requests:
            entry = {
                "id": item_id,
                "type": kind,
                "approval_request_id": item["approval_request_id"],
                "approve": bool(item.get("approve")),
            }
            if item.get("reason") is not None:
                entry["reason"] = item["reason"]
        else:
            entry = None
        if entry is not None and isinstance(item_id, str):
            kept[item_id] = entry
    return kept


def _images(item: dict) -> list[dict]:
    return [
        p
        for p in item.get("content") or []
        if isinstance(p, dict) and p.get("type") == "input_image" and p.get("image_url")
    ]


def _replayed_images(items: list[dict], budget: int) -> set[int]:
    """``id()`` of the image parts that fit ``budget``, newest first."""
    kept: set[int] = set()
    for item in reversed(items):
        if item.get("type") != "message" or item.get("role") != "user":
            continue
        for part in reversed(_images(item)):
            size = len(part["image_url"])
            if size <= budget:
                budget -= size
                kept.add(id(part))
            else:
                budget = 0  # keep the replayed images a contiguous newest run
    return kept


def _image_parts(item: dict, kept: set[int]) -> list[dict]:
    parts = []
    for part in _images(item):
        if id(part) in kept:
            image = {"type": "input_image", "image_url": part["image_url"]}
            if part.get("detail"):
                image["detail"] = part["detail"]
            parts.append(image)
        else:
            parts.append({"type": "input_text", "text": IMAGE_NOT_REPLAYED})
    return parts


def history_items(
    items: Iterable[dict],
    keep_calls: Iterable[str] = (),
    outputs: Mapping[str, str] | None = None,
    *,
    pending_approvals: Iterable[str] = (),
    image_bytes: int = REPLAY_IMAGE_BYTES,
) -> list[dict]:
    """The ``item`` payloads of ``conversation.item.create`` events that replay ``items``.

    Args:
        items: the conversation's items, oldest first.
        keep_calls: call ids of function calls to replay even without an output yet (a tool
            still running when the connection dropped answers them in the new session).
        outputs: tool outputs the old session never acknowledged, by call id: each is replayed
            right after the call it answers (issue 13: a result is never lost to a drop).
        pending_approvals: ids of MCP approval requests still waiting for the user's answer.
        image_bytes: data-URL characters of user images to replay, newest first; older images
            become a text note (see the module docstring).

    Returns:
        GA item dicts; messages without words or images (silence, untranscribed audio) are left
        out, and so are function calls without an output and outputs without their call.
    """
    items = list(items)
    kept = _replayed_images(items, image_bytes)
    outputs = dict(outputs or {})
    pending = set(keep_calls) | outputs.keys()
    answered = {i.get("call_id") for i in items if i.get("type") == "function_call_output"}
    called = {i.get("call_id") for i in items if i.get("type") == "function_call"}
    mcp = _mcp_history(items, pending_approvals)
    replay: list[dict] = []
    for item in items:
        kind = item.get("type")
        if item.get("id") in mcp:
            replay.append(mcp[item["id"]])
        elif kind == "message":
            text = _message_text(item)
            role = item.get("role")
            part_type = "output_text" if role == "assistant" else "input_text"
            content = [{"type": part_type, "text": text}] if text else []
            if role == "user":
                content += _image_parts(item, kept)
            if not content or role not in ("user", "assistant", "system"):
                continue
            replay.append(
                {"id": item.get("id"), "type": "message", "role": role, "content": content}
            )
        elif kind == "function_call":
            call_id = item.get("call_id")
            if call_id in answered or call_id in pending:
                replay.append(
                    {
                        "id": item.get("id"),
                        "type": "function_call",
                        "call_id": call_id,
                        "name": item.get("name"),
                        "arguments": item.get("arguments") or "{}",
                    }
                )
                if call_id in outputs and call_id not in answered:
                    replay.append(
                        {
                            "id": None,  # the server names it (and announces it: acknowledged)
                            "type": "function_call_output",
                            "call_id": call_id,
                            "output": outputs[call_id],
                        }
                    )
        elif kind == "function_call_output" and item.get("call_id") in called:
            replay.append(
                {
                    "id": item.get("id"),
                    "type": "function_call_output",
                    "call_id": item.get("call_id"),
                    "output": item.get("output") or "",
                }
            )
    for entry in replay:
        if not entry["id"]:
            del entry["id"]
    return replay
