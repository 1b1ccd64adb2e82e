"""Session settings and tools: the ``update_session``/``add_tool`` side of ``RealtimeClient``.

Settings and tools are kept locally and sent as one ``session.update`` when connected (and on
connect); a change to the tool registry re-sends it. Relay mode sends nothing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SessionMixin"]


class SessionMixin:
    """Session settings and tool registration of ``RealtimeClient``."""

    # Provided by RealtimeClient; declared for readers and type checkers.
    realtime: Any
    tools: Any
    _config: Any
    _playback: Any
    _relay: bool

    def update_session(self, **config: Any) -> None:
        """Change session settings (seed flat keys and/or GA keys); sent at once if connected.

        Before :meth:`connect` they are stored and sent on connect.

        Raises:
            ValueError: an unknown setting or a bad value (checked here, in the caller).
        """
        self._config.update(config)
        self._playback.rate, self._playback.bytes_per_sample = self._config.output_rate
        if self.is_connected and not self._relay:
            self._soon(self._send_session_update)

    def _send_session_update(self) -> None:
        if not self.is_connected:
            return
        session = self._config.session(self.realtime.dialect, self.tools.definitions())
        self.realtime.send("session.update", {"session": session}, raw=True)

    def _on_tools_changed(self) -> None:
        if self.is_connected and not self._relay:
            self._soon(self._send_session_update)

    def add_tool(self, definition: Any, handler: Any = None, **options: Any) -> Any:
        """Register a tool (``add_tool(fn)`` or the seed's ``add_tool(definition, handler)``).

        The session is updated at once when connected. Returns the registered tool.
        """
        self._require("add tools", connected=False)
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
        """Unregister a tool; the session is updated at once when connected.

        Raises:
            KeyError: no tool of that name.
        """
        self._require("remove tools", connected=False)
        self.tools.remove(name)
