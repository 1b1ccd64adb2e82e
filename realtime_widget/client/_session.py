"""Session settings and tools: the ``update_session``/``add_tool`` side of ``RealtimeClient``.

Settings and tools are kept locally. On connect they all go in one ``session.update``; later,
each ``update_session`` sends only the settings it changed, and a change to the tool registry
sends only ``tools`` (issue 12: re-sending everything made one refused setting refuse every
later update). The server answers each ``session.update`` in order, with ``session.updated`` or
an ``error`` echoing its ``event_id``; a refused change is rolled back in ``session_config``.
Relay mode sends nothing.

:class:`SessionSettings` is the collaborator that does this. It owns the settings
(:class:`~realtime_widget.client._config.SessionConfig`) and the updates waiting for an answer
(:class:`PendingUpdates`), and is handed the tool registry, the MCP servers, the playback
tracker (whose output rate follows the settings), the transport and the client's hand-over to
the runtime loop. The public methods stay on ``RealtimeClient`` and delegate here.
"""

from __future__ import annotations

import logging
import warnings
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from realtime_widget.api import RealtimeAPI
from realtime_widget.client._config import SessionChange, SessionConfig
from realtime_widget.client._mcp import McpServers
from realtime_widget.client._playback import PlaybackTracker
from realtime_widget.protocol import check_mcp_tool
from realtime_widget.tools import ToolRegistry

__all__ = ["PendingUpdates", "SessionSettings"]

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


class SessionSettings:
    """The session settings and tools of one client, and the ``session.update`` events for them.

    Args:
        config: the settings (seed flat keys and GA keys merged, GA shape).
        tools: the function tools' registry.
        mcp: the MCP tools (run by the server).
        playback: the playback tracker, whose output rate follows ``audio.output.format``.
        api: the transport (``send``, ``dialect``, ``is_connected``).
        relay: relay mode: nothing is sent on the user's behalf.
        hand_over: runs ``fn(*args)`` on the runtime loop (the client's ``_soon``).
    """

    def __init__(
        self,
        config: SessionConfig,
        tools: ToolRegistry,
        mcp: McpServers,
        playback: PlaybackTracker,
        api: RealtimeAPI,
        relay: bool,
        hand_over: Callable[..., None],
    ) -> None:
        self.config = config
        self._tools = tools
        self._mcp = mcp
        self._playback = playback
        self._api = api
        self._relay = relay
        self._hand_over = hand_over
        self._updates = PendingUpdates()  # session.update events the server has not answered

    def _live(self) -> bool:
        return self._api.is_connected and not self._relay

    # ------------------------------------------------------------------ the user's changes
    def update(self, config: dict[str, Any] | None, settings: dict[str, Any]) -> None:
        """``RealtimeClient.update_session``: check (in the caller), store, send the change.

        Raises:
            TypeError: ``config`` is not a dict.
            ValueError: an unknown setting or a bad value.
        """
        if config is not None and not isinstance(config, dict):
            raise TypeError(f"update_session takes a dict of settings, got {type(config).__name__}")
        merged = {**(config or {}), **settings}
        tools = merged.pop("tools", None)
        if tools is not None:
            self._check_session_tools(tools)
        change = self.config.update(merged)
        self._sync_output_rate()
        if tools is not None:
            self._mcp.replace([t for t in tools if t.get("type") == "mcp"])
        if change and self._live():
            self._hand_over(self.send, change)
        if tools is not None and self._live():
            self._hand_over(self.send_tools)

    def _check_session_tools(self, tools: Any) -> None:
        """``update_session(tools=...)``: MCP tools checked, unregistered functions warned."""
        if not isinstance(tools, (list, tuple)) or not all(isinstance(t, dict) for t in tools):
            raise ValueError("tools: expected a list of tool definitions (dicts)")
        for i, tool in enumerate(tools):
            if tool.get("type") == "mcp":
                check_mcp_tool(tool, f"tools[{i}]")
            elif tool.get("name") not in self._tools:
                warnings.warn(
                    f"tools[{i}]: function tool {tool.get('name')!r} has no handler and was left "
                    "out; register it with client.add_tool(definition, handler) (or "
                    "@client.tool) so the client can run it",
                    UserWarning,
                    stacklevel=4,  # the user's update_session() line: above it, client, update
                )

    def add_tool(self, definition: Any, handler: Any, options: dict[str, Any]) -> Any:
        """``RealtimeClient.add_tool`` after its relay check: a function tool or an MCP tool."""
        if isinstance(definition, dict) and definition.get("type") == "mcp":
            auto_approve = options.pop("auto_approve", ())
            if handler is not None or options:
                extra = ["handler"] * (handler is not None) + sorted(options)
                raise TypeError(
                    f"add_tool(mcp_tool): the server runs MCP tools, so {', '.join(extra)} "
                    "cannot apply; the only option is auto_approve=[tool names]"
                )
            clean = self._mcp.add(definition, auto_approve)
            self.on_tools_changed()
            return clean
        return self._tools.add(definition, handler, **options)

    def remove_tool(self, name: str) -> None:
        """``RealtimeClient.remove_tool`` after its relay check.

        Raises:
            KeyError: no tool (or MCP server label) of that name.
        """
        if name in self._mcp and name not in self._tools:
            self._mcp.remove(name)
            self.on_tools_changed()
            return
        try:
            self._tools.remove(name)
        except KeyError:
            if self._mcp.labels:
                raise KeyError(
                    f"no tool named {name!r}; registered tools: {list(self._tools)}, "
                    f"MCP servers: {self._mcp.labels}"
                ) from None
            raise

    def on_tools_changed(self) -> None:
        """The registry (or the MCP tools) changed: the live session gets the new ``tools``."""
        if self._live():
            self._hand_over(self.send_tools)

    def reset(self) -> None:
        """Back to the constructor's settings (the client's ``reset``)."""
        self.config.reset()

    # ------------------------------------------------------------------ sending (on the loop)
    def new_session(self) -> None:
        """A new connection: nothing waits for an answer; every setting and the tools go out."""
        self._updates.clear()
        if not self._relay:
            self.send()

    def send(self, change: SessionChange | None = None) -> None:
        """Send every setting and the tools (``change=None``, on connect) or only ``change``."""
        if not self._api.is_connected:
            return  # kept in the config: connect() sends it
        tools = self.definitions() if change is None else None
        session = self.config.session(self._api.dialect, tools, change)
        if session is not None:
            sent = self._api.send("session.update", {"session": session}, raw=True)
            self._updates.sent(sent["event_id"], FULL if change is None else change)

    def send_tools(self) -> None:
        """A ``session.update`` carrying only ``tools``."""
        if self._api.is_connected:
            tools = self.definitions()
            session = self.config.session(self._api.dialect, tools, SessionChange({}))
            self._api.send("session.update", {"session": session}, raw=True)

    def definitions(self) -> list[dict[str, Any]]:
        """``session.tools``: the registry's function tools, then the MCP tools."""
        return self._tools.definitions() + self._mcp.definitions()

    def _sync_output_rate(self) -> None:
        self._playback.rate, self._playback.bytes_per_sample = self.config.output_rate

    # ------------------------------------------------------------------ events
    def on_client_event(self, event: dict) -> None:
        """A client event went out: a ``session.update`` (ours or the user's raw one) is noted,
        so that answers are matched in order."""
        if event.get("type") == "session.update":
            self._updates.sent(event.get("event_id", ""))

    def on_session_updated(self) -> None:
        """``session.updated``: the oldest waiting update was taken."""
        self._updates.accepted()

    def _on_session_updated(self, event: dict, result: dict) -> None:
        self.on_session_updated()

    def on_error(self, event: dict) -> dict:
        """An ``error``: if it answers a ``session.update``, roll its change back.

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
            name = self.config.rollback_param(error.get("param"))
            restored = [name] if name else []
            if name:
                self.send()
        else:
            restored = self.config.rollback(change)
        self._sync_output_rate()
        logger.warning(
            "= session.update refused (%s: %s); rolled back %s",
            error.get("param") or error.get("code"),
            error.get("message"),
            ", ".join(restored) or "nothing (changed again since)",
        )
        return {**event, "rolled_back": restored}
