"""MCP tools on ``RealtimeClient``: answering approvals and reporting failures (issue 12).

The tools and the requests waiting for an answer live in
:class:`~realtime_widget.client._mcp.McpServers` (pure, thread-safe). :class:`McpApprovals` is
the collaborator that acts on them: it answers approval requests (the user's, or by itself for
auto-approved tools), and turns failed calls and listings into one ``error`` each. It owns only
what that needs (the failures already reported, a listing failure not reported yet) and is
handed the rest: the servers, a way to look items up, ``send``, the response sequencer's
``request``, ``dispatch``, and the client's hand-over to the runtime loop.

Approval (OpenAI's documented flow, also the embedded server's): the server adds an
``mcp_approval_request`` item and ends the response; the client answers with a
``conversation.item.create`` of an ``mcp_approval_response`` item, then ``response.create`` so
the model goes on (queued behind a response still running, like every request).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from realtime_widget.client._mcp import McpServers
from realtime_widget.protocol import MCP_ITEM_TYPES, mcp_approval_response_item

__all__ = ["McpApprovals"]

logger = logging.getLogger("realtime_widget.client")

_LIST_ERROR_WAIT = 0.5  # seconds to wait for the server's own `error` about a failed listing

# Events after which an MCP item is final enough to act on (announced, or settled).
_ITEM_EVENTS = frozenset(
    {
        "conversation.item.added",
        "conversation.item.created",
        "conversation.item.done",
        "response.output_item.done",
    }
)


class McpApprovals:
    """Answers MCP approval requests and reports MCP failures for one client.

    Args:
        servers: the session's MCP tools, auto-approved names and pending requests.
        get_item: the conversation's item of an id, or ``None``.
        send: ``RealtimeAPI.send`` (``type``, payload).
        request_response: asks the response sequencer for one ``response.create``.
        dispatch: emits the client's events (``mcp.approval_request``, ``error``).
        relay: relay mode: requests are announced, never answered by the client itself.
        hand_over: runs ``fn(*args)`` on the runtime loop, held while reconnecting (the
            client's ``_soon_or_hold``), for answers given from the user's thread.
    """

    def __init__(
        self,
        servers: McpServers,
        get_item: Callable[[str], dict | None],
        send: Callable[..., Any],
        request_response: Callable[[], None],
        dispatch: Callable[[str, Any], None],
        relay: bool,
        hand_over: Callable[..., None],
    ) -> None:
        self._servers = servers
        self._get_item = get_item
        self._send = send
        self._request_response = request_response
        self._dispatch = dispatch
        self._relay = relay
        self._hand_over = hand_over
        self._reported: set[str] = set()  # failed MCP calls already reported as `error`
        self._list_failure: dict | None = None  # mcp_list_tools.failed not yet reported

    def reset(self) -> None:
        """Forget the failures reported (a cleared conversation)."""
        self._reported.clear()
        self._list_failure = None

    # ------------------------------------------------------------------ the user's answers
    def answer(self, request_id: str, approve: bool, reason: str | None, always: bool) -> None:
        """Check and answer a request (any thread); the answer is sent on the loop.

        Raises:
            ValueError: no such request is waiting (unknown id, or answered already).
        """
        request = self._servers.answer(request_id, approve)
        if always and approve:
            self._servers.auto_approve(request["server_label"], [request["name"]])
        self._hand_over(self.send_approval, request_id, bool(approve), reason)

    def send_approval(self, request_id: str, approve: bool, reason: str | None) -> None:
        """The ``mcp_approval_response`` item, then a request for the response that goes on."""
        item = mcp_approval_response_item(request_id, approve, reason)
        self._send("conversation.item.create", {"item": item})
        self._request_response()

    # ------------------------------------------------------------------ server events
    def on_event(self, kind: str, event: dict, result: dict) -> None:
        """Called for every server event after the reducer (cheap when not MCP)."""
        failed, self._list_failure = self._list_failure, None
        if failed is not None:
            # A failed listing: a server that explains it (the embedded one) sends an `error`
            # with the same code right after `mcp_list_tools.failed`; that one reached the
            # listeners already. Otherwise (the wire only says "failed"), the client says it.
            error = event.get("error") if kind == "error" else None
            if not (isinstance(error, dict) and error.get("code") == "mcp_list_tools_failed"):
                self._list_failed(failed)
        if kind == "mcp_list_tools.failed":
            self._list_failure = event  # reported on the next event, or in a moment
            with contextlib.suppress(RuntimeError):  # no loop: a test driving the parts
                asyncio.get_running_loop().call_later(_LIST_ERROR_WAIT, self._list_timeout)
            return
        item = result.get("item")
        if kind not in _ITEM_EVENTS or not isinstance(item, dict):
            return
        item_type = item.get("type")
        if item_type not in MCP_ITEM_TYPES:
            return
        if item_type == "mcp_approval_request":
            self._request_seen(item)
        elif item_type == "mcp_approval_response":
            # Answered elsewhere (another client, a raw event): not pending any more.
            request_id = item.get("approval_request_id")
            if isinstance(request_id, str) and self._servers.is_pending(request_id):
                self._servers.answer(request_id, bool(item.get("approve")))
        elif item_type == "mcp_call" and kind != "conversation.item.added":
            self._call_settled(item)

    def _list_timeout(self) -> None:
        failed, self._list_failure = self._list_failure, None
        if failed is not None:
            self._list_failed(failed)

    def _request_seen(self, item: dict) -> None:
        if not self._servers.on_request(item):
            return
        label, name = item.get("server_label") or "", item.get("name") or ""
        auto = self._servers.is_auto_approved(label, name)
        logger.info("< MCP approval request %s for %s.%s", item.get("id"), label, name)
        self._dispatch(
            "mcp.approval_request",
            {"type": "mcp.approval_request", "item": item, "auto_approved": auto},
        )
        if auto and not self._relay:
            self._servers.answer(item["id"], True)
            self.send_approval(item["id"], True, None)

    def _call_settled(self, item: dict) -> None:
        error = (item.get("formatted") or {}).get("error") or item.get("error")
        if error is None or item.get("id") in self._reported:
            return
        self._reported.add(item.get("id"))
        message = error.get("message") if isinstance(error, dict) else str(error)
        message = str(message or "no message").rstrip(". ")
        label, name = item.get("server_label") or "?", item.get("name") or "?"
        self._error(
            "mcp_call_failed",
            f"MCP tool {name!r} of server {label!r} failed: {message}. The model was told; "
            "the session goes on.",
            item,
            error,
        )

    def _list_failed(self, event: dict) -> None:
        item = self._get_item(event.get("item_id") or "") or {}
        label = item.get("server_label") or "?"
        self._error(
            "mcp_list_tools_failed",
            f"MCP server {label!r} could not be reached or could not list its tools, so the "
            "model cannot use them; check its server_url (and authorization/headers), then "
            "add the tool again (client.add_tool) to retry. The session goes on.",
            item,
            None,
        )

    def _error(self, code: str, message: str, item: dict, error: Any) -> None:
        logger.warning("< %s: %s", code, message)
        body: dict[str, Any] = {
            "type": "mcp_error",
            "code": code,
            "message": message,
            "item_id": item.get("id"),
            "server_label": item.get("server_label"),
        }
        if error is not None:
            body["mcp_error"] = error
        self._dispatch("error", {"type": "error", "source": "mcp", "error": body})
