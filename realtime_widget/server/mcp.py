"""The embedded server as an MCP client: list and call the tools of a session's MCP servers (I/O).

The session's ``{"type": "mcp", "server_url": ...}`` tools are served by real MCP servers over
streamable HTTP; this module talks to them with the official ``mcp`` package (``mcp.Client`` on
its streamable-HTTP transport). What to send and what the results mean on the Realtime wire is
decided by the pure :mod:`realtime_widget.server._mcp`; here is only the talking, with:

- a timeout on every operation (a slow or hung server fails the call, not the session);
- a cap on the result's size (:data:`MAX_RESULT_BYTES` on the transport; longer text is cut to
  ``max_chars`` with a note saying so, so the model knows it saw a part);
- every failure turned into :class:`McpFailure`: the wire ``error`` object of an ``mcp_call``
  (``http_error``, ``protocol_error`` or ``tool_execution_error``) with a message naming the
  server's label and URL and saying what to check. Header values (tokens) never appear in it.

Each operation opens its own connection: anyio binds a connection's task group to the task that
opened it, so a connection shared between the tasks of a session could not be closed by the one
that cancels a call (a barge-in); a connection per operation is cancelled with its task, cleanly.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "DEFAULT_CALL_TIMEOUT",
    "DEFAULT_LIST_TIMEOUT",
    "MAX_RESULT_BYTES",
    "McpEndpoint",
    "McpFailure",
    "call_tool",
    "list_tools",
]

DEFAULT_LIST_TIMEOUT = 10.0
"""Seconds to connect to an MCP server and list its tools."""
DEFAULT_CALL_TIMEOUT = 30.0
"""Seconds a tool call may take."""
MAX_RESULT_BYTES = 4 * 1024 * 1024
"""Largest single message read from an MCP server's event stream (the transport refuses more)."""


@dataclass(frozen=True)
class McpEndpoint:
    """Where an MCP server is and how to authenticate (from the session's ``mcp`` tool).

    Attributes:
        label: the tool's ``server_label`` (names the server in messages).
        url: the ``server_url``.
        headers: HTTP headers to send (``headers`` and ``authorization`` as a bearer token);
            kept out of ``repr`` because they carry secrets.
    """

    label: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()

    def __repr__(self) -> str:
        return f"McpEndpoint(label={self.label!r}, url={self.url!r})"

    @classmethod
    def from_tool(cls, tool: dict) -> McpEndpoint:
        """The endpoint of a session's ``{"type": "mcp", ...}`` tool (with a ``server_url``)."""
        headers = dict(tool.get("headers") or {})
        if tool.get("authorization"):
            headers["Authorization"] = f"Bearer {tool['authorization']}"
        return cls(str(tool["server_label"]), str(tool["server_url"]), tuple(headers.items()))

    def where(self) -> str:
        """``MCP server 'label' at URL`` for messages (credentials in the URL left out)."""
        parts = urlsplit(self.url)
        url = self.url
        if "@" in parts.netloc:
            url = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
        return f"MCP server {self.label!r} at {url}"


class McpFailure(Exception):
    """An MCP operation failed; ``error`` is the wire error object of an ``mcp_call`` item."""

    def __init__(self, error: dict) -> None:
        super().__init__(error["message"])
        self.error = error


def _http_error(code: int, message: str) -> McpFailure:
    return McpFailure({"type": "http_error", "code": code, "message": message})


def _protocol_error(code: int, message: str) -> McpFailure:
    return McpFailure({"type": "protocol_error", "code": code, "message": message})


def _import_mcp() -> Any:
    try:
        import httpx2
        import mcp
        from mcp.client.streamable_http import streamable_http_client
    except ImportError as exc:
        raise _http_error(
            0,
            "MCP tools need the 'mcp' package in the server's Python: "
            "pip install 'realtime_widget[mcp]'.",
        ) from exc
    return mcp, httpx2, streamable_http_client


def _client(endpoint: McpEndpoint, timeout: float, statuses: list[int]) -> Any:
    mcp, httpx2, streamable_http_client = _import_mcp()

    async def note_status(response: Any) -> None:
        # The transport turns an HTTP error into a generic JSON-RPC error: keep the status.
        if response.status_code >= 400:
            statuses.append(response.status_code)

    http = httpx2.AsyncClient(
        headers=dict(endpoint.headers),
        timeout=httpx2.Timeout(timeout),
        follow_redirects=False,
        event_hooks={"response": [note_status]},
    )
    transport = streamable_http_client(
        endpoint.url, http_client=http, max_sse_event_size=MAX_RESULT_BYTES
    )
    return mcp.Client(transport, read_timeout_seconds=timeout, cache=None), http


def _explain(
    exc: BaseException, endpoint: McpEndpoint, doing: str, timeout: float, statuses: list[int]
) -> McpFailure:
    """Turn whatever the transport raised into a failure that says what to check."""
    if isinstance(exc, McpFailure):
        return exc
    # anyio wraps errors of the transport's task group in exception groups: use the first leaf.
    while getattr(exc, "exceptions", None):
        exc = exc.exceptions[0]  # type: ignore[attr-defined]
    name = type(exc).__name__
    where = endpoint.where()
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)) or "Timeout" in name:
        return _http_error(
            504,
            f"{where} did not answer {doing} within {timeout:g} s; check that it is running "
            "and not overloaded, or raise the server's mcp_timeout.",
        )
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if status is None and statuses:
        status = statuses[-1]
    if isinstance(status, int):
        hint = " (check the tool's authorization/headers)" if status in (401, 403) else ""
        return _http_error(status, f"{where} answered HTTP {status} to {doing}{hint}.")
    if "Connect" in name or isinstance(exc, (ConnectionError, OSError)):
        return _http_error(
            502,
            f"Could not connect to {where} for {doing}: {exc or name}. Check server_url "
            "and that the MCP server is running.",
        )
    error = getattr(exc, "error", None)  # mcp.MCPError carries the JSON-RPC error
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return _protocol_error(code, f"{where} refused {doing}: {getattr(error, 'message', exc)}")
    return _protocol_error(-32603, f"{where} failed during {doing}: {name}: {exc}")


async def _with_client(
    endpoint: McpEndpoint, timeout: float, doing: str, operation: Callable[[Any], Awaitable[Any]]
) -> Any:
    """Connect, run one operation, disconnect; all within ``timeout`` seconds."""
    statuses: list[int] = []

    async def run() -> Any:
        client, http = _client(endpoint, timeout, statuses)
        async with http, client:
            return await operation(client)

    try:
        return await asyncio.wait_for(run(), timeout)
    except Exception as exc:  # CancelledError (a barge-in, a closed session) passes through
        raise _explain(exc, endpoint, doing, timeout, statuses) from None


async def list_tools(endpoint: McpEndpoint, timeout: float = DEFAULT_LIST_TIMEOUT) -> list[dict]:
    """The server's tools as the Realtime ``mcp_list_tools`` item lists them.

    Returns:
        ``[{"name", "input_schema", "description", "annotations"}]`` (the last two may be None).

    Raises:
        McpFailure: unreachable, refused, timed out or not speaking MCP.
    """
    result = await _with_client(endpoint, timeout, "tools/list", lambda c: c.list_tools())
    tools = []
    for tool in result.tools:
        annotations = tool.annotations.model_dump(exclude_none=True) if tool.annotations else None
        tools.append(
            {
                "name": tool.name,
                "input_schema": dict(tool.input_schema or {"type": "object"}),
                "description": tool.description,
                "annotations": annotations,
            }
        )
    return tools


def _result_text(result: Any) -> str:
    """A tool result as text: its text blocks, else its structured content as JSON."""
    texts = [block.text for block in result.content if getattr(block, "type", "") == "text"]
    if texts:
        return "\n".join(texts)
    if result.structured_content is not None:
        return json.dumps(result.structured_content)
    kinds = sorted({getattr(block, "type", "?") for block in result.content})
    return f"[{', '.join(kinds)} content]" if kinds else ""


async def call_tool(
    endpoint: McpEndpoint,
    name: str,
    arguments: dict,
    timeout: float = DEFAULT_CALL_TIMEOUT,
    max_chars: int = 64 * 1024,
) -> str:
    """Call one tool and return its output text (cut to ``max_chars`` with a note).

    Raises:
        McpFailure: the call failed; a tool that reports an error gives a
            ``tool_execution_error`` with the tool's own message.
    """
    result = await _with_client(
        endpoint, timeout, f"the call to {name!r}", lambda c: c.call_tool(name, arguments)
    )
    text = _result_text(result)
    if result.is_error:
        raise McpFailure(
            {
                "type": "tool_execution_error",
                "message": f"{name!r} on MCP server {endpoint.label!r} failed: {text[:2000]}",
            }
        )
    if len(text) > max_chars:
        text = (
            text[:max_chars] + f"\n[cut: the result was {len(text)} characters; only the first "
            f"{max_chars} are kept]"
        )
    return text
