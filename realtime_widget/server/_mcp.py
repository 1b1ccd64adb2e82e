"""MCP tools of a session, the pure part: which servers, their tools, approvals, wire events.

The I/O layer (``app.py`` with :mod:`realtime_widget.server.mcp`) does the talking to MCP
servers; this module decides what the Realtime wire says about it, and holds the session's view:

- ``session.update`` with ``{"type": "mcp", ...}`` tools → :meth:`McpTools.configure`: each new or
  changed server gets an ``mcp_list_tools`` item (``conversation.item.added`` with no tools yet,
  ``mcp_list_tools.in_progress``) and a :class:`ListJob` for the I/O layer; its answer
  (:meth:`McpTools.listed`) gives ``mcp_list_tools.completed`` and ``conversation.item.done``
  with the tools (``allowed_tools`` applied), or ``mcp_list_tools.failed`` and an ``error``
  naming the server. ``connector_id``/``tunnel_id`` servers (OpenAI-hosted) cannot be reached
  offline: they fail at once, saying so.
- Brains see each listed tool as a function tool (:meth:`McpTools.brain_tools`, with its
  ``server_label``); a brain's call to one is routed here (:meth:`McpTools.route`) and becomes an
  ``mcp_call`` (or, when ``require_approval`` says so, an ``mcp_approval_request``) in the
  response (``_response.py``).
- An ``mcp_approval_response`` item answers a request; the next response runs the approved calls
  first (:meth:`McpTools.take_approvals`), and a refused one is left for the brain to read.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from realtime_widget.server._items import Conversation, Record

__all__ = [
    "MAX_ROUNDS",
    "ApprovedCall",
    "ListJob",
    "McpRoute",
    "McpServer",
    "McpTools",
    "allowed",
    "needs_approval",
]

MAX_ROUNDS = 8
"""MCP calls answered, then the brain asked again, at most this many times in one response."""


@dataclass(frozen=True)
class McpRoute:
    """Where a brain's call goes: an MCP server, and whether the user must approve it first."""

    server_label: str
    approval: bool


@dataclass(frozen=True)
class ListJob:
    """Tools to list off the event loop: a server's tool config and its ``mcp_list_tools`` item."""

    item_id: str
    tool: dict = field(repr=False)  # carries authorization/headers

    @property
    def server_label(self) -> str:
        return str(self.tool["server_label"])


@dataclass
class McpServer:
    """One ``{"type": "mcp"}`` tool of the session and what listing it gave."""

    tool: dict = field(repr=False)
    item_id: str
    status: str = "in_progress"  # -> "completed" or "failed"
    tools: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class ApprovedCall:
    """A call the user approved (``mcp_approval_response``), run first by the next response."""

    server_label: str
    name: str
    arguments: str
    approval_request_id: str


def _matches(spec: object, tool: dict) -> bool:
    """Whether a listed tool matches a filter ``{"tool_names": [...], "read_only": bool}``."""
    if not isinstance(spec, dict):
        return False
    names = spec.get("tool_names")
    if isinstance(names, list) and tool.get("name") in names:
        return True
    if spec.get("read_only") is True:
        hints = tool.get("annotations") or {}
        return bool(hints.get("readOnlyHint") or hints.get("read_only_hint"))
    return False


def allowed(config: dict, tool: dict) -> bool:
    """Whether ``allowed_tools`` (a list of names or a filter) lets the brain see ``tool``."""
    rule = config.get("allowed_tools")
    if rule is None:
        return True
    if isinstance(rule, list):
        return tool.get("name") in rule
    return _matches(rule, tool)


def needs_approval(config: dict, tool: dict) -> bool:
    """Whether ``require_approval`` asks the user before calling ``tool``.

    ``"never"`` and ``"always"`` say it all; a filter object approves what its ``never`` part
    matches and asks for the rest, like OpenAI, whose default is to ask.
    """
    rule = config.get("require_approval", "always")
    if rule in ("always", None):
        return True
    if rule == "never":
        return False
    if isinstance(rule, dict):
        if _matches(rule.get("never"), tool):
            return False
        return True
    return True


def _same_source(a: dict, b: dict) -> bool:
    keys = ("server_url", "connector_id", "tunnel_id", "headers", "authorization", "allowed_tools")
    return all(a.get(k) == b.get(k) for k in keys)


class McpTools:
    """The session's MCP servers, their listed tools and the approvals answered.

    Args:
        new_id: id factory (``generate_id``).
    """

    def __init__(self, new_id: Callable[[str], str]) -> None:
        self._new_id = new_id
        self.servers: dict[str, McpServer] = {}
        """By ``server_label``."""
        self.list_jobs: deque[ListJob] = deque()
        """Listings for the I/O layer to run, oldest first."""
        self._answered: set[str] = set()  # approval request ids already acted on

    @property
    def listing(self) -> bool:
        """Whether some server's tools are still being listed (responses wait for them)."""
        return any(server.status == "in_progress" for server in self.servers.values())

    # -- session.update ---------------------------------------------------------------------
    def configure(self, tools: Sequence[dict], conversation: Conversation) -> list[dict]:
        """Take the session's tools after a ``session.update``; return the events to send now.

        Servers whose source is unchanged keep their tools; new or changed ones are listed again;
        servers no longer configured are forgotten.
        """
        configs = [t for t in tools if isinstance(t, dict) and t.get("type") == "mcp"]
        events: list[dict] = []
        wanted = {str(t["server_label"]): t for t in configs}
        for label in list(self.servers):
            if label not in wanted:
                del self.servers[label]
        for label, tool in wanted.items():
            known = self.servers.get(label)
            if known is not None and _same_source(known.tool, tool):
                known.tool = copy.deepcopy(tool)  # require_approval may change without relisting
                continue
            item = {"id": self._new_id("item_"), "type": "mcp_list_tools",
                    "server_label": label, "tools": []}  # fmt: skip
            self.servers[label] = McpServer(copy.deepcopy(tool), item["id"])
            previous = conversation.add(Record(item))
            events += [
                {
                    "type": "conversation.item.added",
                    "previous_item_id": previous,
                    "item": copy.deepcopy(item),
                },
                {"type": "mcp_list_tools.in_progress", "item_id": item["id"]},
            ]
            if tool.get("server_url"):
                self.list_jobs.append(ListJob(item["id"], copy.deepcopy(tool)))
                continue
            hosted = "connector_id" if tool.get("connector_id") else "tunnel_id"
            events += self.listed(
                item["id"],
                None,
                f"MCP server {label!r} uses {hosted} {tool.get(hosted)!r}: OpenAI-hosted "
                "connectors and tunnels cannot be reached by the local server (offline). Give "
                "the tool a server_url of an MCP server you run instead.",
                conversation,
                param="session.tools",
            )
        return events

    def listed(
        self,
        item_id: str,
        tools: list[dict] | None,
        error: str | None,
        conversation: Conversation,
        param: str | None = None,
    ) -> list[dict]:
        """Record a listing's result (``tools``, or ``None`` and ``error``); return its events."""
        server = next((s for s in self.servers.values() if s.item_id == item_id), None)
        if server is None:
            return []  # reconfigured meanwhile: a newer listing speaks for this server
        events: list[dict] = []
        record = conversation.get(item_id) if item_id in conversation else None
        if tools is None:
            server.status, server.tools = "failed", []
            if record is not None:
                events.append(
                    {"type": "conversation.item.done", "item": copy.deepcopy(record.item)}
                )
            return [
                *events,
                {"type": "mcp_list_tools.failed", "item_id": item_id},
                {
                    "type": "error",
                    "error": {
                        "type": "invalid_request_error",
                        "code": "mcp_list_tools_failed",
                        "message": error
                        or f"Listing the tools of {server.tool['server_label']!r} failed.",
                        "param": param,
                        "event_id": None,
                    },
                },
            ]
        kept = [t for t in tools if allowed(server.tool, t)]
        server.status, server.tools = "completed", kept
        events.append({"type": "mcp_list_tools.completed", "item_id": item_id})
        if record is not None:
            record.item["tools"] = copy.deepcopy(kept)
            events.append({"type": "conversation.item.done", "item": copy.deepcopy(record.item)})
        return events

    # -- what brains see and call -------------------------------------------------------------
    def brain_tools(self, configured: Sequence[dict], choice: object = "auto") -> list[dict]:
        """The listed tools of the servers in ``configured`` as function tools for a brain.

        Each is ``{"type": "function", "name", "description", "parameters", "server_label"}``.
        An MCP ``tool_choice`` (``{"type": "mcp", "server_label", "name"}``) keeps only its tools.
        """
        labels = [
            str(t.get("server_label"))
            for t in configured
            if isinstance(t, dict) and t.get("type") == "mcp"
        ]
        out = []
        for label in labels:
            server = self.servers.get(label)
            if server is None:
                continue
            for tool in server.tools:
                if isinstance(choice, dict) and choice.get("type") == "mcp":
                    if choice.get("server_label") != label:
                        continue
                    if choice.get("name") and choice["name"] != tool["name"]:
                        continue
                out.append(
                    {
                        "type": "function",
                        "name": tool["name"],
                        "description": tool.get("description") or "",
                        "parameters": tool.get("input_schema") or {"type": "object"},
                        "server_label": label,
                    }
                )
        return out

    def route(self, name: str, server_label: str | None = None) -> McpRoute | None:
        """The MCP server that serves tool ``name`` (first listed wins), or ``None``."""
        for label, server in self.servers.items():
            if server_label is not None and label != server_label:
                continue
            for tool in server.tools:
                if tool["name"] == name:
                    return McpRoute(label, needs_approval(server.tool, tool))
        return None

    # -- approvals ----------------------------------------------------------------------------
    def take_approvals(self, conversation: Conversation) -> list[ApprovedCall]:
        """Approved calls not run yet (in order); refused ones are marked answered too."""
        requests = {}
        out: list[ApprovedCall] = []
        records = conversation.records()
        # A call already made for a request (e.g. history replayed after a reconnect) is not
        # made again.
        self._answered.update(
            str(r.item.get("approval_request_id"))
            for r in records
            if r.item.get("type") == "mcp_call" and r.item.get("approval_request_id")
        )
        for record in records:
            item = record.item
            if item.get("type") == "mcp_approval_request":
                requests[item["id"]] = item
            elif item.get("type") == "mcp_approval_response":
                wanted = item.get("approval_request_id")
                request = requests.get(wanted)
                if request is None or wanted in self._answered:
                    continue
                self._answered.add(wanted)
                if item.get("approve") is True:
                    out.append(
                        ApprovedCall(
                            request["server_label"], request["name"], request["arguments"], wanted
                        )
                    )
        return out

    def endpoint_tool(self, server_label: str) -> dict | None:
        """The configured tool of a server (for the I/O layer's call), or ``None``."""
        server = self.servers.get(server_label)
        return None if server is None else server.tool
