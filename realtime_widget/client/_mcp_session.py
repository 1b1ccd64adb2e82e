"""MCP tools on ``RealtimeClient``: registering them, answering approvals, reporting failures.

The state lives in :class:`~realtime_widget.client._mcp.McpServers` (``client._mcp``); this
mixin is the client's glue: the public methods (``approve_mcp``, ``deny_mcp``,
``mcp_approval_requests``, ``mcp_tools``) and the server-event hook the event mixin calls for
MCP items and events.

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

from realtime_widget.protocol import MCP_ITEM_TYPES, mcp_approval_response_item

__all__ = ["McpMixin"]

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


class McpMixin:
    """The MCP side of ``RealtimeClient`` (see the module docstring)."""

    # Provided by RealtimeClient; declared for readers and type checkers.
    realtime: Any
    conversation: Any
    _mcp: Any
    _relay: bool
    _responses: Any
    dispatch: Callable[[str, Any], None]
    _soon_or_hold: Callable[..., None]

    @property
    def mcp_tools(self) -> list[dict[str, Any]]:
        """The MCP tools sent in ``session.tools`` (copies, in the order added)."""
        return self._mcp.definitions()

    @property
    def mcp_approval_requests(self) -> list[dict[str, Any]]:
        """MCP approval requests waiting for :meth:`approve_mcp` (``id``, ``server_label``,
        ``name``, ``arguments``), oldest first."""
        return self._mcp.pending()

    def approve_mcp(
        self,
        request_id: str,
        approve: bool = True,
        reason: str | None = None,
        *,
        always: bool = False,
    ) -> None:
        """Answer an MCP approval request: the tool runs (or not) and the model goes on.

        Sends a ``conversation.item.create`` of an ``mcp_approval_response`` item, then asks
        for a response (queued while another one runs). Requests arrive as the
        ``mcp.approval_request`` event (``item`` is the request: ``id``, ``server_label``,
        ``name``, ``arguments``) and are listed in :attr:`mcp_approval_requests`.

        Args:
            request_id: the ``id`` of the ``mcp_approval_request`` item.
            approve: ``False`` declines (see :meth:`deny_mcp`).
            reason: optional words for the model, e.g. why it was declined.
            always: with ``approve``, also approve later calls of the same tool on the same
                server without asking (as ``add_tool(..., auto_approve=[name])``).

        Raises:
            ValueError: no such request is waiting (unknown id, or answered already).
            RuntimeError: not connected.
        """
        if not self.is_connected and not self.is_reconnecting:  # type: ignore[attr-defined]
            raise RuntimeError("cannot answer MCP approvals: not connected; call connect() first")
        request = self._mcp.answer(request_id, approve)
        if always and approve:
            self._mcp.auto_approve(request["server_label"], [request["name"]])
        self._soon_or_hold(self._send_mcp_approval, request_id, bool(approve), reason)

    def deny_mcp(self, request_id: str, reason: str | None = None) -> None:
        """Decline an MCP approval request (``approve_mcp(request_id, False, reason)``)."""
        self.approve_mcp(request_id, False, reason)

    def _send_mcp_approval(self, request_id: str, approve: bool, reason: str | None) -> None:
        item = mcp_approval_response_item(request_id, approve, reason)
        self.realtime.send("conversation.item.create", {"item": item})
        self._responses.request(None)

    # ------------------------------------------------------------------ server events
    def _on_mcp_event(self, kind: str, event: dict, result: dict) -> None:
        """Called for every server event after the reducer (cheap when not MCP)."""
        failed, self._mcp_list_failure = self._mcp_list_failure, None
        if failed is not None:
            # A failed listing: a server that explains it (the embedded one) sends an `error`
            # with the same code right after `mcp_list_tools.failed`; that one reached the
            # listeners already. Otherwise (the wire only says "failed"), the client says it.
            error = event.get("error") if kind == "error" else None
            if not (isinstance(error, dict) and error.get("code") == "mcp_list_tools_failed"):
                self._mcp_list_failed(failed)
        if kind == "mcp_list_tools.failed":
            self._mcp_list_failure = event  # reported on the next event, or in a moment
            with contextlib.suppress(RuntimeError):  # no loop: a test driving the parts
                asyncio.get_running_loop().call_later(_LIST_ERROR_WAIT, self._mcp_list_timeout)
            return
        item = result.get("item")
        if kind not in _ITEM_EVENTS or not isinstance(item, dict):
            return
        item_type = item.get("type")
        if item_type not in MCP_ITEM_TYPES:
            return
        if item_type == "mcp_approval_request":
            self._mcp_request_seen(item)
        elif item_type == "mcp_approval_response":
            # Answered elsewhere (another client, a raw event): not pending any more.
            request_id = item.get("approval_request_id")
            if isinstance(request_id, str) and self._mcp.is_pending(request_id):
                self._mcp.answer(request_id, bool(item.get("approve")))
        elif item_type == "mcp_call" and kind != "conversation.item.added":
            self._mcp_call_settled(item)

    def _mcp_list_timeout(self) -> None:
        failed, self._mcp_list_failure = self._mcp_list_failure, None
        if failed is not None:
            self._mcp_list_failed(failed)

    def _mcp_request_seen(self, item: dict) -> None:
        if not self._mcp.on_request(item):
            return
        label, name = item.get("server_label") or "", item.get("name") or ""
        auto = self._mcp.is_auto_approved(label, name)
        logger.info("< MCP approval request %s for %s.%s", item.get("id"), label, name)
        self.dispatch(
            "mcp.approval_request",
            {"type": "mcp.approval_request", "item": item, "auto_approved": auto},
        )
        if auto and not self._relay:
            self._mcp.answer(item["id"], True)
            self._send_mcp_approval(item["id"], True, None)

    def _mcp_call_settled(self, item: dict) -> None:
        error = (item.get("formatted") or {}).get("error") or item.get("error")
        if error is None or item.get("id") in self._mcp_reported:
            return
        self._mcp_reported.add(item.get("id"))
        message = error.get("message") if isinstance(error, dict) else str(error)
        message = str(message or "no message").rstrip(". ")
        label, name = item.get("server_label") or "?", item.get("name") or "?"
        self._mcp_error(
            "mcp_call_failed",
            f"MCP tool {name!r} of server {label!r} failed: {message}. The model was told; "
            "the session goes on.",
            item,
            error,
        )

    def _mcp_list_failed(self, event: dict) -> None:
        item = self.conversation.get_item(event.get("item_id") or "") or {}
        label = item.get("server_label") or "?"
        self._mcp_error(
            "mcp_list_tools_failed",
            f"MCP server {label!r} could not be reached or could not list its tools, so the "
            "model cannot use them; check its server_url (and authorization/headers), then "
            "add the tool again (client.add_tool) to retry. The session goes on.",
            item,
            None,
        )

    def _mcp_error(self, code: str, message: str, item: dict, error: Any) -> None:
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
        self.dispatch("error", {"type": "error", "source": "mcp", "error": body})
