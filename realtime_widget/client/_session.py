"""Session settings and tools: the ``update_session``/``add_tool`` side of ``RealtimeClient``.

Settings and tools are kept locally. On connect they all go in one ``session.update``; later,
each ``update_session`` sends only the settings it changed, and a change to the tool registry
sends only ``tools`` (issue 12: re-sending everything made one refused setting refuse every
later update). The server answers each ``session.update`` in order, with ``session.updated`` or
an ``error`` echoing its ``event_id``; a refused change is rolled back in ``session_config``.
Relay mode sends nothing.
"""

from __future__ import annotations

import logging
import warnings
from collections import OrderedDict
from typing import Any

from realtime_widget.client._config import SessionChange
from realtime_widget.protocol import check_mcp_tool

__all__ = ["PendingUpdates", "SessionMixin"]

logger = logging.getLogger("realtime_widget.client")

FULL = "full"
"""In :class:`PendingUpdates`: the ``session.update`` with every setting (sent on connect)."""


class PendingUpdates:
    """``session.update`` events sent and not answered yet, oldest first.

    Every ``session.update`` sent on the connection is noted (including a user's own through
    ``client.realtime.send``), so that ``session.updated`` answers the right one: the server
    answers them in order, each with ``session.updated`` or an ``error`` carrying its id.
    """

    def __init__(self) -> None:
        self._waiting: OrderedDict[str, SessionChange | str | None] = OrderedDict()

    def sent(self, event_id: str, change: SessionChange | str | None = None) -> None:
        """Note a ``session.update``; again with what it carries for one the client made
        (its :class:`SessionChange`, or :data:`FULL`); ``None``: tools only, or not ours."""
        if change is not None or event_id not in self._waiting:
            self._waiting[event_id] = change

    def accepted(self) -> None:
        """``session.updated``: the oldest waiting update was taken."""
        if self._waiting:
            self._waiting.popitem(last=False)

    def refused(self, event_id: object) -> tuple[bool, SessionChange | str | None]:
        """An ``error`` answering ``event_id``: (whether it was a waiting update, its change)."""
        if not isinstance(event_id, str) or event_id not in self._waiting:
            return False, None
        return True, self._waiting.pop(event_id)

    def clear(self) -> None:
        """A new connection: nothing is waiting any more."""
        self._waiting.clear()


class SessionMixin:
    """Session settings and tool registration of ``RealtimeClient``."""

    # Provided by RealtimeClient; declared for readers and type checkers.
    realtime: Any
    tools: Any
    _mcp: Any
    _config: Any
    _playback: Any
    _relay: bool
    _updates: PendingUpdates

    def update_session(self, config: dict[str, Any] | None = None, /, **settings: Any) -> None:
        """Change session settings (seed flat keys and/or GA keys).

        Takes a dict (the seed's ``updateSession(config)``), keywords, or both (keywords win).
        ``tools``: its MCP tools (``{"type": "mcp", ...}``) become the session's MCP tools
        (replacing those added before); function tools come from the tool registry
        (:meth:`add_tool` with a handler), so a function definition given here without one is
        left out, with a warning.
        When connected, a ``session.update`` carrying only the settings that changed is sent at
        once (nothing, if none did). Before :meth:`connect` they are stored and sent on connect.
        If the server refuses the update (an ``error`` answering it, naming the setting), the
        change is rolled back in :attr:`session_config`: later updates do not carry it again.
        The ``error`` event then has ``rolled_back``, the dotted names of the settings undone.

        Args:
            config: settings as a dict.
            **settings: settings as keywords.

        Raises:
            TypeError: ``config`` is not a dict.
            ValueError: an unknown setting or a bad value (checked here, in the caller).
        """
        if config is not None and not isinstance(config, dict):
            raise TypeError(f"update_session takes a dict of settings, got {type(config).__name__}")
        merged = {**(config or {}), **settings}
        tools = merged.pop("tools", None)
        if tools is not None:
            self._check_session_tools(tools)
        change = self._config.update(merged)
        self._sync_output_rate()
        if tools is not None:
            self._mcp.replace([t for t in tools if t.get("type") == "mcp"])
        if change and self.is_connected and not self._relay:
            self._soon(self._send_session_update, change)
        if tools is not None and self.is_connected and not self._relay:
            self._soon(self._send_tools_update)

    def _check_session_tools(self, tools: Any) -> None:
        """``update_session(tools=...)``: MCP tools checked, unregistered functions warned."""
        if not isinstance(tools, (list, tuple)) or not all(isinstance(t, dict) for t in tools):
            raise ValueError("tools: expected a list of tool definitions (dicts)")
        for i, tool in enumerate(tools):
            if tool.get("type") == "mcp":
                check_mcp_tool(tool, f"tools[{i}]")
            elif tool.get("name") not in self.tools:
                warnings.warn(
                    f"tools[{i}]: function tool {tool.get('name')!r} has no handler and was left "
                    "out; register it with client.add_tool(definition, handler) (or "
                    "@client.tool) so the client can run it",
                    UserWarning,
                    stacklevel=3,
                )

    def _sync_output_rate(self) -> None:
        self._playback.rate, self._playback.bytes_per_sample = self._config.output_rate

    def _send_session_update(self, change: SessionChange | None = None) -> None:
        """Send every setting and the tools (``change=None``, on connect) or only ``change``."""
        if not self.is_connected:
            return  # kept in the config: connect() sends it
        tools = self._tool_definitions() if change is None else None
        session = self._config.session(self.realtime.dialect, tools, change)
        if session is not None:
            sent = self.realtime.send("session.update", {"session": session}, raw=True)
            self._updates.sent(sent["event_id"], FULL if change is None else change)

    def _send_tools_update(self) -> None:
        if self.is_connected:
            tools = self._tool_definitions()
            session = self._config.session(self.realtime.dialect, tools, SessionChange({}))
            self.realtime.send("session.update", {"session": session}, raw=True)

    def _tool_definitions(self) -> list[dict[str, Any]]:
        """``session.tools``: the registry's function tools, then the MCP tools."""
        return self.tools.definitions() + self._mcp.definitions()

    def _on_tools_changed(self) -> None:
        if self.is_connected and not self._relay:
            self._soon(self._send_tools_update)

    def _on_session_update_refused(self, event: dict) -> dict:
        """An ``error`` answering a ``session.update``: roll its change back.

        Returns:
            The event for ``error`` listeners, with ``rolled_back`` when settings were undone.
        """
        error = event.get("error") or {}
        found, change = self._updates.refused(error.get("event_id"))
        if not found or change is None:
            return event
        if not isinstance(change, SessionChange):
            # The full update of a new session: the server took none of it. Put the setting it
            # named back to its default and send the rest again (each retry undoes one of our
            # settings, so this ends).
            name = self._config.rollback_param(error.get("param"))
            restored = [name] if name else []
            if name:
                self._send_session_update()
        else:
            restored = self._config.rollback(change)
        self._sync_output_rate()
        logger.warning(
            "= session.update refused (%s: %s); rolled back %s",
            error.get("param") or error.get("code"),
            error.get("message"),
            ", ".join(restored) or "nothing (changed again since)",
        )
        return {**event, "rolled_back": restored}

    def add_tool(self, definition: Any, handler: Any = None, **options: Any) -> Any:
        """Register a tool (``add_tool(fn)`` or the seed's ``add_tool(definition, handler)``),
        or an MCP server's tools (``add_tool({"type": "mcp", ...})``).

        The session is updated at once when connected. Returns the registered tool (for an MCP
        tool, its checked definition).

        An MCP tool is the SDK's ``Mcp`` tool: ``server_label`` (required), one of
        ``server_url`` / ``connector_id`` / ``tunnel_id``, and optionally ``require_approval``
        (``"always"`` -- the API's default --, ``"never"``, or ``{"never": {"tool_names":
        [...]}}``), ``allowed_tools``, ``headers``, ``authorization``, ``server_description``.
        The server runs its tools; a second one with the same label replaces the first. The
        one option, ``auto_approve``, names tools (or ``True``: all) whose approval requests
        the client answers "yes" by itself.

        Raises:
            ValueError: a malformed MCP tool (the message names the field and what to write).
            ToolDefinitionError: a function tool that cannot be one.
        """
        self._require("add tools", connected=False)
        if isinstance(definition, dict) and definition.get("type") == "mcp":
            auto_approve = options.pop("auto_approve", ())
            if handler is not None or options:
                extra = ["handler"] * (handler is not None) + sorted(options)
                raise TypeError(
                    f"add_tool(mcp_tool): the server runs MCP tools, so {', '.join(extra)} "
                    "cannot apply; the only option is auto_approve=[tool names]"
                )
            clean = self._mcp.add(definition, auto_approve)
            self._on_tools_changed()
            return clean
        return self.tools.add(definition, handler, **options)

    def tool(self, fn: Any = None, /, **options: Any) -> Any:
        """Decorator registering a function as a tool, bare (``@client.tool``) or with options
        (``@client.tool(timeout=5, requires_approval=True)``); see `ToolRegistry.tool`.

        Redefining a function of the same name (re-running its cell) replaces the tool and
        updates the live session.
        """
        return self.tools.tool(fn, **options)

    def approve(self, call_id: str) -> bool:
        """Approve a pending tool call that asked for approval; False if none is waiting."""
        return self.tools.approve(call_id)

    def deny(self, call_id: str, reason: str | None = None) -> bool:
        """Decline a pending tool call; the model is told the user declined."""
        return self.tools.deny(call_id, reason)

    def remove_tool(self, name: str) -> None:
        """Unregister a tool, or an MCP tool by its ``server_label``; the session is updated at
        once when connected.

        Raises:
            KeyError: no tool (or MCP server label) of that name.
        """
        self._require("remove tools", connected=False)
        if name in self._mcp and name not in self.tools:
            self._mcp.remove(name)
            self._on_tools_changed()
            return
        try:
            self.tools.remove(name)
        except KeyError:
            if self._mcp.labels:
                raise KeyError(
                    f"no tool named {name!r}; registered tools: {list(self.tools)}, "
                    f"MCP servers: {self._mcp.labels}"
                ) from None
            raise
