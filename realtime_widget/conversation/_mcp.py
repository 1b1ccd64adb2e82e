"""MCP items in the conversation reducer: ``McpEvents``, a collaborator of ``RealtimeConversation``
handed the conversation's items by id (issue 12).

The server runs MCP tools itself, so the conversation only records what it reports (shapes:
``openai.types.realtime.RealtimeMcp*``). Rules (each tested in tests/conversation/test_mcp.py):

1. Every MCP item gets ``formatted["mcp"]``, a display-ready summary with its ``server_label``;
   ``mcp_call`` and ``mcp_approval_request`` also get ``formatted["tool"]`` (``type: "mcp"``,
   ``server_label``, ``name``, ``arguments``) like a function call, and an ``mcp_call`` gets
   ``formatted["output"]`` and ``formatted["error"]`` (the SDK's error object, or ``None``).
2. MCP items carry no ``status`` on the wire; the reducer keeps one for display and for the
   client's replay: ``mcp_list_tools`` is ``in_progress`` until ``mcp_list_tools.completed``
   / ``.failed`` (or its ``conversation.item.done``); ``mcp_call`` is ``in_progress`` until
   ``response.mcp_call.completed`` / ``.failed`` and settled by ``response.output_item.done`` /
   ``conversation.item.done`` (``failed`` when it carries an ``error``); approval items are
   ``completed`` at once. An item the server announces already settled (history a client
   created) keeps that state.
3. ``response.mcp_call_arguments.delta`` appends to the arguments, ``.done`` replaces them with
   the whole string (repairing lost deltas).
4. An ``mcp_approval_response`` marks its request: the request's ``formatted["mcp"]`` gets
   ``decision`` (``{"approve", "reason"}``), ``None`` while undecided.
"""

from __future__ import annotations

from typing import Any

__all__ = ["McpEvents"]

Result = dict[str, Any]

_SETTLED = frozenset({"completed", "failed", "incomplete"})


def _tool_summary(tool: Any) -> dict[str, Any] | None:
    if not isinstance(tool, dict) or not isinstance(tool.get("name"), str):
        return None
    return {"name": tool["name"], "description": tool.get("description") or ""}


def _mcp_summary(item: dict[str, Any], previous: dict[str, Any] | None) -> dict[str, Any]:
    """``formatted["mcp"]`` of an MCP item, from its wire fields (keeping a known decision)."""
    kind = item.get("type")
    summary: dict[str, Any] = {"server_label": item.get("server_label") or ""}
    if kind == "mcp_list_tools":
        tools = [_tool_summary(t) for t in item.get("tools") or ()]
        summary["tools"] = [t for t in tools if t is not None]
    elif kind == "mcp_approval_request":
        summary["decision"] = (previous or {}).get("decision")
    elif kind == "mcp_approval_response":
        summary["approval_request_id"] = item.get("approval_request_id")
        summary["approve"] = bool(item.get("approve"))
        summary["reason"] = item.get("reason")
    return summary


class McpEvents:
    """The MCP handlers of ``RealtimeConversation`` (see the rules above).

    Args:
        items: the conversation's items by id (an approval response marks its request there).
    """

    __slots__ = ("_items",)

    def __init__(self, items: dict[str, dict[str, Any]]) -> None:
        self._items = items

    def format(self, item: dict[str, Any], *, announced: bool) -> None:
        """Fill ``formatted`` from an MCP item's wire fields (rules 1, 2 and 4)."""
        formatted = item["formatted"]
        kind = item.get("type")
        formatted["mcp"] = _mcp_summary(item, formatted.get("mcp"))
        if kind in ("mcp_call", "mcp_approval_request"):
            tool = formatted.get("tool") or {}
            arguments = item.get("arguments")
            formatted["tool"] = {
                "type": "mcp",
                "server_label": item.get("server_label") or "",
                "name": item.get("name") or tool.get("name") or "",
                "arguments": arguments if isinstance(arguments, str) else tool.get("arguments", ""),
            }
        if kind == "mcp_call":
            formatted["output"] = item.get("output")
            formatted["error"] = item.get("error")
            settled = item.get("output") is not None or item.get("error") is not None
            if settled or not announced:
                item["status"] = "failed" if item.get("error") is not None else "completed"
            elif item.get("status") not in _SETTLED:
                item["status"] = "in_progress"
        elif kind == "mcp_list_tools":
            if not announced or formatted["mcp"]["tools"]:
                if item.get("status") != "failed":
                    item["status"] = "completed"
            elif item.get("status") not in _SETTLED:
                item["status"] = "in_progress"
        else:
            item["status"] = "completed"
        if kind == "mcp_approval_response":
            request = self._items.get(item.get("approval_request_id"))  # type: ignore[arg-type]
            if request is not None and request.get("type") == "mcp_approval_request":
                request["formatted"]["mcp"]["decision"] = {
                    "approve": bool(item.get("approve")),
                    "reason": item.get("reason"),
                }

    def _set_mcp_status(self, event: dict[str, Any], kind: str, status: str) -> Result:
        item = self._items.get(event.get("item_id"))  # type: ignore[arg-type]
        if item is None or item.get("type") != kind:
            return {}
        if not (status == "in_progress" and item.get("status") in _SETTLED):
            item["status"] = status  # a late in_progress never reopens a settled item
        return {"item": item}

    def on_mcp_list_tools_in_progress(self, event: dict[str, Any], _input: Any = None) -> Result:
        return self._set_mcp_status(event, "mcp_list_tools", "in_progress")

    def on_mcp_list_tools_completed(self, event: dict[str, Any], _input: Any = None) -> Result:
        return self._set_mcp_status(event, "mcp_list_tools", "completed")

    def on_mcp_list_tools_failed(self, event: dict[str, Any], _input: Any = None) -> Result:
        return self._set_mcp_status(event, "mcp_list_tools", "failed")

    def on_response_mcp_call_in_progress(self, event: dict[str, Any], _input: Any = None):
        return self._set_mcp_status(event, "mcp_call", "in_progress")

    def on_response_mcp_call_completed(self, event: dict[str, Any], _input: Any = None):
        return self._set_mcp_status(event, "mcp_call", "completed")

    def on_response_mcp_call_failed(self, event: dict[str, Any], _input: Any = None):
        return self._set_mcp_status(event, "mcp_call", "failed")

    def on_response_mcp_call_arguments_delta(self, event: dict[str, Any], _input: Any = None):
        item = self._items.get(event.get("item_id"))  # type: ignore[arg-type]
        if item is None or item.get("type") != "mcp_call" or not isinstance(event["delta"], str):
            return {}
        delta = event["delta"]
        item["arguments"] = (item.get("arguments") or "") + delta
        item["formatted"]["tool"]["arguments"] = item["arguments"]
        return {"item": item, "delta": {"arguments": delta}}

    def on_response_mcp_call_arguments_done(self, event: dict[str, Any], _input: Any = None):
        item = self._items.get(event.get("item_id"))  # type: ignore[arg-type]
        if item is None or item.get("type") != "mcp_call":
            return {}
        if isinstance(event.get("arguments"), str):
            item["arguments"] = event["arguments"]
            item["formatted"]["tool"]["arguments"] = event["arguments"]
        return {"item": item}
