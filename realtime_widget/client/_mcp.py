"""MCP servers of a client's session and the approvals they ask for (issue 12, point 4).

An MCP tool (``{"type": "mcp", "server_label": ..., "server_url": ...}``) is run by the
*server*: the client only lists it in ``session.tools`` and answers the
``mcp_approval_request`` items the server adds before a call that needs approval, with an
``mcp_approval_response`` item and a ``response.create`` (OpenAI's documented flow).

:class:`McpServers` owns that state: the tools by label (kept across reconnects, so the new
session gets them with the rest of the settings), the tool names the user approves without
being asked, and the approval requests seen and not answered yet. It does no I/O; the client
sends what it decides.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from realtime_widget.protocol import check_mcp_tool

__all__ = ["MAX_PENDING_APPROVALS", "McpServers"]

MAX_PENDING_APPROVALS = 256
"""Unanswered approval requests remembered (the oldest are forgotten: memory stays bounded)."""


class McpServers:
    """MCP tools by ``server_label``, auto-approved tool names and pending approval requests.

    Thread-safe: the user's cell adds tools and answers requests while the runtime loop records
    the requests the server sends.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tools: dict[str, dict[str, Any]] = {}
        self._auto: dict[str, set[str] | bool] = {}
        self._pending: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._answered: OrderedDict[str, bool] = OrderedDict()

    def __repr__(self) -> str:  # labels only: authorization and headers hold secrets
        return f"<McpServers {sorted(self._tools)}>"

    def __contains__(self, label: object) -> bool:
        return label in self._tools

    def __len__(self) -> int:
        return len(self._tools)

    # ------------------------------------------------------------------ tools
    def add(self, definition: Any, auto_approve: Iterable[str] | bool = ()) -> dict[str, Any]:
        """Check and register an MCP tool, replacing one of the same ``server_label``.

        Args:
            definition: the SDK's ``Mcp`` tool dict.
            auto_approve: tool names of this server to approve without asking (``True``: all).

        Returns:
            The clean definition sent in ``session.tools``.

        Raises:
            ValueError: a malformed definition (see ``protocol.check_mcp_tool``).
            TypeError: ``auto_approve`` is neither a bool nor tool names.
        """
        clean = check_mcp_tool(definition)
        auto = _auto_names(auto_approve)
        with self._lock:
            self._tools[clean["server_label"]] = clean
            self._auto[clean["server_label"]] = auto
        return clean

    def replace(self, definitions: Iterable[Any]) -> None:
        """Make these the session's MCP tools (``update_session(tools=[...])``), checked first."""
        clean = [check_mcp_tool(d, f"tools[{i}]") for i, d in enumerate(definitions)]
        with self._lock:
            kept = {label: self._auto.get(label, set()) for label in self._tools}
            self._tools = {tool["server_label"]: tool for tool in clean}
            self._auto = {label: kept.get(label, set()) for label in self._tools}

    def remove(self, label: str) -> bool:
        """Unregister the MCP tool of ``label``; False if there is none."""
        with self._lock:
            self._auto.pop(label, None)
            return self._tools.pop(label, None) is not None

    def definitions(self) -> list[dict[str, Any]]:
        """The MCP tools for ``session.tools`` (copies)."""
        with self._lock:
            return [
                {k: (list(v) if isinstance(v, list) else v) for k, v in tool.items()}
                for tool in self._tools.values()
            ]

    @property
    def labels(self) -> list[str]:
        """The server labels, in the order they were added."""
        with self._lock:
            return list(self._tools)

    # ------------------------------------------------------------------ approvals
    def auto_approve(self, label: str, names: Iterable[str] | bool) -> None:
        """Approve these tools of ``label`` without asking from now on (``True``: all)."""
        auto = _auto_names(names)
        with self._lock:
            current = self._auto.get(label, set())
            if auto is True or current is True:
                self._auto[label] = True
            else:
                self._auto[label] = set(current) | set(auto or ())

    def is_auto_approved(self, label: str, name: str) -> bool:
        """Whether a call of ``name`` on ``label`` is approved without asking the user."""
        with self._lock:
            auto = self._auto.get(label, set())
        return auto is True or (isinstance(auto, set) and name in auto)

    def on_request(self, item: dict[str, Any]) -> bool:
        """An ``mcp_approval_request`` item the server added; False if seen already."""
        request_id = item.get("id")
        if not isinstance(request_id, str):
            return False
        with self._lock:
            if request_id in self._pending or request_id in self._answered:
                return False
            self._pending[request_id] = {
                "id": request_id,
                "server_label": item.get("server_label"),
                "name": item.get("name"),
                "arguments": item.get("arguments"),
            }
            while len(self._pending) > MAX_PENDING_APPROVALS:
                self._pending.popitem(last=False)
        return True

    def answer(self, request_id: str, approve: bool) -> dict[str, Any]:
        """Take a pending request out to answer it.

        Returns:
            The request (``id``, ``server_label``, ``name``, ``arguments``).

        Raises:
            ValueError: no such request, or it was answered already (the message lists the
                pending ones).
        """
        with self._lock:
            request = self._pending.pop(request_id, None)
            if request is not None:
                self._answered[request_id] = bool(approve)
                while len(self._answered) > 4 * MAX_PENDING_APPROVALS:
                    self._answered.popitem(last=False)
                return request
            if request_id in self._answered:
                verb = "approved" if self._answered[request_id] else "denied"
                raise ValueError(f"MCP approval request {request_id!r} was already {verb}")
            pending = list(self._pending) or "none"
        raise ValueError(
            f"no MCP approval request {request_id!r} is waiting; pending requests: {pending} "
            "(listen to the client's 'mcp.approval_request' event for their ids)"
        )

    def pending(self) -> list[dict[str, Any]]:
        """Approval requests waiting for an answer, oldest first (copies)."""
        with self._lock:
            return [dict(request) for request in self._pending.values()]

    def is_pending(self, request_id: str) -> bool:
        """Whether ``request_id`` waits for an answer."""
        with self._lock:
            return request_id in self._pending

    def clear_approvals(self) -> None:
        """Forget requests (``reset``); tools and auto-approvals stay."""
        with self._lock:
            self._pending.clear()
            self._answered.clear()


def _auto_names(names: Iterable[str] | bool) -> set[str] | bool:
    if isinstance(names, bool):
        return names or set()
    if isinstance(names, str):
        return {names}  # one name, not its letters
    try:
        result = set(names)
    except TypeError:
        raise TypeError(
            f"auto_approve takes tool names (a list of strings) or True, got {names!r}"
        ) from None
    if not all(isinstance(name, str) for name in result):
        raise TypeError(f"auto_approve takes tool names (strings), got {sorted(map(str, result))}")
    return result
