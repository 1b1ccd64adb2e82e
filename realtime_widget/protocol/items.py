"""Content-type conversion of conversation items and content parts between dialects.

Only assistant content differs: beta ``text`` / ``audio`` are GA ``output_text`` /
``output_audio``. User and system content (``input_text``, ``input_audio``) keeps its name. Each
function returns the *same object* when nothing needs to change, so callers can tell cheaply, and
never raises: malformed data comes back untouched.
"""

from __future__ import annotations

from typing import Any

from realtime_widget.protocol.aliases import BETA_TO_GA_CONTENT_TYPES, GA_TO_BETA_CONTENT_TYPES


def _convert_content(content: Any, table: dict[str, str]) -> Any:
    if not isinstance(content, list):
        return content
    changed = False
    out = []
    for part in content:
        new = convert_part(part, table)
        changed = changed or new is not part
        out.append(new)
    return out if changed else content


def convert_part(part: Any, table: dict[str, str]) -> Any:
    """Rename a content part's ``type`` through ``table`` (a copy if renamed, else ``part``)."""
    if isinstance(part, dict):
        ptype = part.get("type")
        if isinstance(ptype, str) and ptype in table:
            return {**part, "type": table[ptype]}
    return part


def convert_item(item: Any, table: dict[str, str]) -> Any:
    """Rename an assistant message's content types through ``table``; other items pass."""
    if not isinstance(item, dict) or item.get("role") != "assistant":
        return item
    content = _convert_content(item.get("content"), table)
    if content is item.get("content"):
        return item
    return {**item, "content": content}


def convert_items(items: Any, table: dict[str, str]) -> Any:
    """``convert_item`` over a list (same list back when nothing changed)."""
    if not isinstance(items, list):
        return items
    out = [convert_item(item, table) for item in items]
    return out if any(a is not b for a, b in zip(out, items, strict=True)) else items


def item_to_ga(item: Any) -> Any:
    """A beta item with GA content types (``text``/``audio`` -> ``output_text``/``_audio``)."""
    return convert_item(item, BETA_TO_GA_CONTENT_TYPES)


def item_to_beta(item: Any) -> Any:
    """A GA item with beta content types (``output_text``/``_audio`` -> ``text``/``audio``)."""
    return convert_item(item, GA_TO_BETA_CONTENT_TYPES)
