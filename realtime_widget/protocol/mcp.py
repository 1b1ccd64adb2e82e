"""MCP tools in a session, as pure data: checking an ``{"type": "mcp", ...}`` tool, the items.

A Realtime session can give the model a remote Model Context Protocol server's tools (issue 12,
point 4). Unlike a function tool, the *server* runs them: it lists them (an ``mcp_list_tools``
item), calls them (``mcp_call`` items), and, when the tool's ``require_approval`` asks for it,
first adds an ``mcp_approval_request`` item and waits for the client's
``mcp_approval_response`` (a ``conversation.item.create``, then ``response.create``).

The shapes follow the ``openai`` SDK (``openai.types.realtime``: ``RealtimeToolsConfigUnion``'s
``Mcp``, ``RealtimeMcp*`` items). A tool is checked here, in the caller's cell, so a typo gives a
message naming the field and what to write, not a server ``error`` later.
"""

from __future__ import annotations

import difflib
from typing import Any

__all__ = [
    "MCP_CONNECTORS",
    "MCP_ITEM_TYPES",
    "MCP_TOOL_KEYS",
    "check_mcp_tool",
    "mcp_approval_response_item",
]

MCP_ITEM_TYPES = frozenset(
    {"mcp_list_tools", "mcp_call", "mcp_approval_request", "mcp_approval_response"}
)
"""Conversation item types of MCP tools (``openai.types.realtime.ConversationItem``)."""

MCP_CONNECTORS = frozenset(
    f"connector_{name}"
    for name in (
        "dropbox",
        "gmail",
        "googlecalendar",
        "googledrive",
        "microsoftteams",
        "outlookcalendar",
        "outlookemail",
        "sharepoint",
    )
)
"""The ``connector_id`` values the SDK's ``Mcp`` tool lists."""

MCP_TOOL_KEYS = frozenset(
    {
        "type",
        "server_label",
        "server_url",
        "connector_id",
        "tunnel_id",
        "server_description",
        "authorization",
        "headers",
        "allowed_tools",
        "allowed_callers",
        "require_approval",
        "defer_loading",
    }
)
"""The fields of the SDK's ``Mcp`` tool (``RealtimeToolsConfigUnion``)."""

_SOURCES = ("server_url", "connector_id", "tunnel_id")
_FILTER_KEYS = frozenset({"read_only", "tool_names"})
_EXAMPLE = (
    "{'type': 'mcp', 'server_label': 'docs', 'server_url': 'https://example.com/mcp', "
    "'require_approval': 'never'}"
)


def _fail(where: str, message: str) -> ValueError:
    return ValueError(f"{where}: {message}")


def _check_filter(value: Any, where: str) -> dict[str, Any]:
    """``{"read_only": bool, "tool_names": [str, ...]}`` (both optional)."""
    if not isinstance(value, dict):
        raise _fail(
            where,
            f"expected a filter like {{'tool_names': ['search']}}, got {type(value).__name__}",
        )
    for key in value:
        if key not in _FILTER_KEYS:
            raise _fail(where, f"unknown key {key!r}; a tool filter has 'tool_names', 'read_only'")
    if "read_only" in value and not isinstance(value["read_only"], bool):
        raise _fail(f"{where}.read_only", f"expected True or False, got {value['read_only']!r}")
    if "tool_names" in value:
        _check_names(value["tool_names"], f"{where}.tool_names")
    return {key: list(v) if isinstance(v, (list, tuple)) else v for key, v in value.items()}


def _check_names(value: Any, where: str) -> list[str]:
    if not isinstance(value, (list, tuple)) or not all(
        isinstance(name, str) and name for name in value
    ):
        raise _fail(where, f"expected a list of tool names (strings), got {value!r}")
    return list(value)


def _check_require_approval(value: Any, where: str) -> Any:
    if value is None or value in ("always", "never"):
        return value
    if isinstance(value, dict):
        for key in value:
            if key not in ("always", "never"):
                raise _fail(
                    where,
                    f"unknown key {key!r}; write 'always', 'never', or "
                    "{'never': {'tool_names': [...]}} (the named tools run without asking)",
                )
        return {key: _check_filter(v, f"{where}.{key}") for key, v in value.items()}
    raise _fail(
        where,
        f"expected 'always', 'never' or a filter like {{'never': {{'tool_names': ['search']}}}}, "
        f"got {value!r}",
    )


def check_mcp_tool(tool: Any, where: str = "tool") -> dict[str, Any]:
    """Check an MCP tool definition and return a clean copy (for ``session.tools``).

    Args:
        tool: ``{"type": "mcp", "server_label": ..., "server_url": ... | "connector_id": ...
            | "tunnel_id": ..., "require_approval": ..., ...}`` (the SDK's ``Mcp`` tool).
        where: how to name the tool in error messages (``"tools[2]"``).

    Returns:
        A copy with the same fields (lists copied), ``type`` set to ``"mcp"``.

    Raises:
        ValueError: a missing label or server, an unknown field (the closest valid one is
            named), or a value of the wrong shape; the message says what to write.
    """
    if not isinstance(tool, dict):
        raise _fail(where, f"an MCP tool is a dict like {_EXAMPLE}, got {type(tool).__name__}")
    if tool.get("type", "mcp") != "mcp":
        raise _fail(where, f"not an MCP tool (type {tool.get('type')!r}); expected type 'mcp'")
    for key in tool:
        if key not in MCP_TOOL_KEYS:
            close = difflib.get_close_matches(str(key), sorted(MCP_TOOL_KEYS), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise _fail(where, f"unknown MCP tool field {key!r}{hint}")
    label = tool.get("server_label")
    if not isinstance(label, str) or not label.strip():
        raise _fail(
            where,
            f"an MCP tool needs a 'server_label' (a short name for the server), e.g. {_EXAMPLE}",
        )
    sources = [key for key in _SOURCES if tool.get(key)]
    if not sources:
        raise _fail(
            where,
            f"MCP server {label!r} needs one of 'server_url' (e.g. 'https://example.com/mcp'), "
            "'connector_id' or 'tunnel_id'",
        )
    url = tool.get("server_url")
    if url is not None and (
        not isinstance(url, str) or not url.startswith(("http://", "https://"))
    ):
        raise _fail(f"{where}.server_url", f"expected an http(s) URL, got {url!r}")
    connector = tool.get("connector_id")
    if connector is not None and connector not in MCP_CONNECTORS:
        raise _fail(
            f"{where}.connector_id",
            f"unknown connector {connector!r}; one of {', '.join(sorted(MCP_CONNECTORS))}",
        )
    for key in ("tunnel_id", "server_description", "authorization"):
        if tool.get(key) is not None and not isinstance(tool[key], str):
            raise _fail(f"{where}.{key}", "expected a string")
    headers = tool.get("headers")
    if headers is not None and not (
        isinstance(headers, dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items())
    ):
        raise _fail(f"{where}.headers", "expected a dict of header names to string values")
    if tool.get("defer_loading") is not None and not isinstance(tool["defer_loading"], bool):
        raise _fail(f"{where}.defer_loading", "expected True or False")
    clean = {**tool, "type": "mcp"}
    allowed = tool.get("allowed_tools")
    if allowed is not None:
        clean["allowed_tools"] = (
            _check_filter(allowed, f"{where}.allowed_tools")
            if isinstance(allowed, dict)
            else _check_names(allowed, f"{where}.allowed_tools")
        )
    callers = tool.get("allowed_callers")
    if callers is not None:
        if not isinstance(callers, (list, tuple)) or not set(callers) <= {"direct", "programmatic"}:
            raise _fail(
                f"{where}.allowed_callers", "expected a list of 'direct' and/or 'programmatic'"
            )
        clean["allowed_callers"] = list(callers)
    if "require_approval" in tool:
        clean["require_approval"] = _check_require_approval(
            tool["require_approval"], f"{where}.require_approval"
        )
    if headers is not None:
        clean["headers"] = dict(headers)
    return clean


def mcp_approval_response_item(
    approval_request_id: str, approve: bool, reason: str | None = None
) -> dict[str, Any]:
    """The ``mcp_approval_response`` item answering an ``mcp_approval_request``.

    Args:
        approval_request_id: the id of the ``mcp_approval_request`` item.
        approve: whether the tool may run.
        reason: optional words for the model (why it was declined, say).
    """
    item: dict[str, Any] = {
        "type": "mcp_approval_response",
        "approval_request_id": approval_request_id,
        "approve": bool(approve),
    }
    if reason is not None:
        item["reason"] = str(reason)
    return item
