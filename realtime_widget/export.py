"""Export a conversation: Markdown transcript, plain records, a pandas DataFrame, WAV audio.

Everything here works on a ``RealtimeConversation``'s items, so one call serves every source:
a conversation, a ``RealtimeClient`` or ``ReplayClient`` (``.conversation``), a
``RealtimeWidget`` (``.client``), a list of items, or the path of a recording (replayed at once).

Pure apart from reading a recording and writing the WAV file; pandas is imported only by
:func:`to_dataframe`.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from realtime_widget.audio import SAMPLE_RATE, write_wav
from realtime_widget.images import ImageError, parse_data_url

__all__ = ["conversation_audio", "save_audio", "to_dataframe", "to_markdown", "to_records"]

RECORD_COLUMNS = (
    "id",
    "type",
    "role",
    "status",
    "text",
    "transcript",
    "name",
    "call_id",
    "arguments",
    "output",
    "audio_seconds",
    "truncated",
    "server_label",
    "error",
    "images",
)
"""The keys of each :func:`to_records` dict (and the DataFrame's columns), in order."""

_SPEAKERS = {"user": "User", "assistant": "Assistant", "system": "System"}


def _items_of(source: Any) -> list[dict[str, Any]]:
    """The items of any supported source (see the module docstring)."""
    if isinstance(source, (str, os.PathLike)):
        # The defining module, not the `recording` package, whose facade also offers the
        # widget entry points (the widget imports this module: issue 16, point 2). Deferred:
        # replaying loads the client, which exporting a conversation does not need.
        from realtime_widget.recording._replay import replay_conversation

        return replay_conversation(source, speed=None).get_items()
    if isinstance(source, (list, tuple)):
        return list(source)
    for attribute in ("get_items", "conversation", "client"):
        if hasattr(source, attribute):
            break
    else:
        raise TypeError(
            f"cannot export {type(source).__name__}: pass a RealtimeConversation, a client, a "
            "widget, a list of items or the path of a recording"
        )
    if hasattr(source, "get_items"):
        return source.get_items()
    if hasattr(source, "conversation"):
        return source.conversation.get_items()
    return source.client.conversation.get_items()


def _formatted(item: dict[str, Any]) -> dict[str, Any]:
    return item.get("formatted") or {}


def _audio(item: dict[str, Any]) -> np.ndarray | None:
    audio = _formatted(item).get("audio")
    if audio is None or not len(audio):
        return None
    return np.asarray(audio, dtype=np.int16)


def _wire_transcript(item: dict[str, Any]) -> str:
    return "".join(
        str(part.get("transcript") or "")
        for part in item.get("content") or []
        if isinstance(part, dict)
    )


def _is_truncated(item: dict[str, Any], truncated: set[str]) -> bool:
    if item.get("id") in truncated:
        return True
    # conversation.item.truncated clears the reducer's transcript (seed rule) while the wire
    # item still carries what the model said: that gap is the truncation.
    return (
        item.get("role") == "assistant"
        and not _formatted(item).get("transcript")
        and bool(_wire_transcript(item))
        and _audio(item) is not None
    )


def _message_words(item: dict[str, Any]) -> str:
    formatted = _formatted(item)
    words = formatted.get("text") or formatted.get("transcript") or _wire_transcript(item)
    if not words:
        for part in item.get("content") or []:
            if isinstance(part, dict):
                words += str(part.get("text") or "")
    return str(words).strip()


def _image_urls(item: dict[str, Any]) -> list[str | None]:
    """The data URLs of a message's images (``None`` for one whose data is gone)."""
    images = _formatted(item).get("images")
    if images is None:  # items straight from the wire
        images = [p for p in item.get("content") or [] if isinstance(p, dict)]
        images = [p for p in images if p.get("type") == "input_image"]
    return [i.get("image_url") if isinstance(i, dict) else None for i in images]


def _image_label(url: str | None) -> str:
    if not url:
        return "image"
    try:
        return f"image: {parse_data_url(url)[0]}"
    except ImageError:
        return "image: unreadable"


def _md_images(item: dict[str, Any], mode: str) -> str:
    """Markdown for a message's images: embedded data URLs, or ``*[image: PNG 64x48]*``."""
    out = []
    for url in _image_urls(item):
        label = _image_label(url)
        out.append(f"![{label}]({url})" if mode == "embed" and url else f"*[{label}]*")
    return " ".join(out)


def _seconds(item: dict[str, Any]) -> float:
    audio = _audio(item)
    return 0.0 if audio is None else round(len(audio) / SAMPLE_RATE, 3)


def to_markdown(
    source: Any,
    *,
    truncated: Iterable[str] = (),
    title: str | None = None,
    images: str = "embed",
) -> str:
    """The conversation as Markdown: one paragraph per turn, a compact line per tool call.

    Speakers are labelled (``**User:**``, ``**Assistant:**``); audio without words shows its
    length; a tool call reads ``**Tool:** `name(arguments)` → `output```; an assistant turn cut
    by the user is marked ``*(truncated)*`` and a cancelled one ``*(interrupted)*``. A user's
    images follow their words, embedded (``![image: PNG 640x480](data:image/png;base64,...)``,
    which Jupyter and most viewers render) or as ``*[image: PNG 640x480]*`` placeholders.

    Args:
        source: a conversation, client, widget, list of items or recording path.
        truncated: ids of items known to be truncated (they are also detected from the items).
        title: a ``# title`` line on top.
        images: ``"embed"`` (default) or ``"placeholder"`` (short text; for plain-text use).

    Raises:
        ValueError: another ``images`` value.

    Returns:
        The Markdown text (``IPython.display.Markdown(to_markdown(w))`` renders it).
    """
    if images not in ("embed", "placeholder"):
        raise ValueError(f"images must be 'embed' or 'placeholder', not {images!r}")
    items = _items_of(source)
    cut = set(truncated)
    outputs = {
        i.get("call_id"): i.get("output") for i in items if i.get("type") == "function_call_output"
    }
    calls = {i.get("call_id") for i in items if i.get("type") == "function_call"}
    lines = [f"# {title}"] if title else []
    for item in items:
        render = _MARKDOWN.get(str(item.get("type")))
        line = render(item, outputs, calls, cut) if render else None
        if line and item.get("type") == "message" and _image_urls(item):
            line = f"{line.rstrip()} {_md_images(item, images)}"
        if line:
            lines.append(line)
    return "\n\n".join(lines) + "\n"


def _md_message(item: dict, outputs: dict, calls: set, cut: set) -> str:
    speaker = _SPEAKERS.get(str(item.get("role")), str(item.get("role") or "Unknown").title())
    words = _message_words(item)
    if not words and _audio(item) is not None:
        words = f"*[{_seconds(item):.1f} s of audio]*"
    marks = ""
    if _is_truncated(item, cut):
        marks += f" *(truncated: {_seconds(item):.1f} s heard)*"
    elif item.get("status") == "incomplete":
        marks += " *(interrupted)*"
    return f"**{speaker}:** {words}{marks}"


def _md_function_call(item: dict, outputs: dict, calls: set, cut: set) -> str:
    line = f"**Tool:** `{item.get('name')}({item.get('arguments') or ''})`"
    output = outputs.get(item.get("call_id"))
    return line + (f" → `{output}`" if output is not None else " *(no output)*")


def _md_function_call_output(item: dict, outputs: dict, calls: set, cut: set) -> str | None:
    if item.get("call_id") in calls:
        return None  # shown on its call's line
    return f"**Tool output** ({item.get('call_id')}): `{item.get('output')}`"


def _mcp_error_text(item: dict) -> str | None:
    error = item.get("error")
    if error is None:
        return None
    return str(error.get("message") or error) if isinstance(error, dict) else str(error)


def _md_mcp_list_tools(item: dict, outputs: dict, calls: set, cut: set) -> str:
    label = item.get("server_label")
    if item.get("status") == "failed":
        return f"**MCP server** {label}: *(could not list its tools)*"
    names = [str(t.get("name")) for t in item.get("tools") or [] if isinstance(t, dict)]
    return f"**MCP server** {label}: tools {', '.join(f'`{n}`' for n in names) or '*(none)*'}"


def _md_mcp_call(item: dict, outputs: dict, calls: set, cut: set) -> str:
    call = f"{item.get('name')}({item.get('arguments') or ''})"
    line = f"**MCP tool** {item.get('server_label')}: `{call}`"
    error = _mcp_error_text(item)
    if error is not None:
        return line + f" → *failed: {error}*"
    if item.get("output") is not None:
        return line + f" → `{item['output']}`"
    return line + (" *(running)*" if item.get("status") == "in_progress" else " *(no output)*")


def _md_mcp_approval_request(item: dict, outputs: dict, calls: set, cut: set) -> str:
    line = (
        f"**Approval asked** for {item.get('server_label')}: "
        f"`{item.get('name')}({item.get('arguments') or ''})`"
    )
    decision = (_formatted(item).get("mcp") or {}).get("decision")
    if decision is None:
        return line + " *(waiting)*"
    verdict = "approved" if decision.get("approve") else "denied"
    reason = f" ({decision['reason']})" if decision.get("reason") else ""
    return f"{line} → {verdict}{reason}"


def _md_mcp_approval_response(item: dict, outputs: dict, calls: set, cut: set) -> str | None:
    if _formatted(item):
        return None  # shown on its request's line (the reducer marked the request)
    verdict = "approved" if item.get("approve") else "denied"
    return f"**Approval** {item.get('approval_request_id')}: {verdict}"


# item type -> Markdown renderer (unknown types are left out).
_MARKDOWN: dict[str, Callable[[dict, dict, set, set], str | None]] = {
    "message": _md_message,
    "function_call": _md_function_call,
    "function_call_output": _md_function_call_output,
    "mcp_list_tools": _md_mcp_list_tools,
    "mcp_call": _md_mcp_call,
    "mcp_approval_request": _md_mcp_approval_request,
    "mcp_approval_response": _md_mcp_approval_response,
}


def to_records(source: Any, *, truncated: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The items as plain dicts (JSON-ready: no numpy; audio summarised by its duration).

    Each dict has the keys of :data:`RECORD_COLUMNS`; fields an item type lacks are ``None``;
    ``images`` counts a message's images (their data stays in the items).

    Args:
        source: a conversation, client, widget, list of items or recording path.
        truncated: ids of items known to be truncated (they are also detected from the items).
    """
    cut = set(truncated)
    records = []
    for item in _items_of(source):
        formatted = _formatted(item)
        is_message = item.get("type") == "message"
        records.append(
            {
                "id": item.get("id"),
                "type": item.get("type"),
                "role": item.get("role"),
                "status": item.get("status"),
                "text": formatted.get("text") if is_message else None,
                "transcript": formatted.get("transcript") if is_message else None,
                "name": item.get("name"),
                "call_id": item.get("call_id"),
                "arguments": item.get("arguments"),
                "output": item.get("output"),
                "audio_seconds": _seconds(item),
                "truncated": _is_truncated(item, cut) if is_message else False,
                "server_label": item.get("server_label"),
                "error": _mcp_error_text(item),
                "images": len(_image_urls(item)) if is_message else 0,
            }
        )
    return records


def to_dataframe(source: Any, *, truncated: Iterable[str] = ()) -> Any:
    """The items as a pandas DataFrame (one row per item, :data:`RECORD_COLUMNS`).

    Raises:
        ImportError: pandas is not installed (the message says how to install it).
    """
    try:
        import pandas as pd
    except ImportError:
        raise ImportError(
            "to_dataframe needs pandas: pip install pandas (or realtime_widget[pandas]); "
            "to_records() gives the same rows as plain dicts"
        ) from None
    return pd.DataFrame(to_records(source, truncated=truncated), columns=list(RECORD_COLUMNS))


def conversation_audio(source: Any, item_id: str | None = None, *, gap_ms: int = 0) -> np.ndarray:
    """Audio of one item, or of the whole conversation (user and assistant, in order), as int16.

    Args:
        source: a conversation, client, widget, list of items or recording path.
        item_id: one item's id; ``None`` for every message with audio.
        gap_ms: silence inserted between turns of the whole conversation.

    Raises:
        KeyError: no item ``item_id``.
        ValueError: there is no audio (the message says where to look).
    """
    items = _items_of(source)
    if item_id is not None:
        item = next((i for i in items if i.get("id") == item_id), None)
        if item is None:
            raise KeyError(f"no item {item_id!r}; ids are in to_records(...)['id']")
        audio = _audio(item)
        if audio is None:
            raise ValueError(f"item {item_id!r} has no audio; pick one with audio_seconds > 0")
        return audio
    parts = [a for a in (_audio(i) for i in items if i.get("type") == "message") if a is not None]
    if not parts:
        raise ValueError("the conversation has no audio (text-only turns?)")
    gap = np.zeros(int(SAMPLE_RATE * gap_ms / 1000), dtype=np.int16)
    joined: list[np.ndarray] = []
    for n, part in enumerate(parts):
        if n and len(gap):
            joined.append(gap)
        joined.append(part)
    return np.concatenate(joined)


def save_audio(
    source: Any, path: str | os.PathLike[str], item_id: str | None = None, *, gap_ms: int = 0
) -> pathlib.Path:
    """Write :func:`conversation_audio` to a 24 kHz mono PCM16 WAV file; returns its path.

    Raises:
        KeyError: no item ``item_id``.
        ValueError: there is no audio.
    """
    write_wav(os.fspath(path), conversation_audio(source, item_id, gap_ms=gap_ms), SAMPLE_RATE)
    return pathlib.Path(path)
