"""`RealtimeClient`: the seed client's orchestration, in Python, GA-first (issue 4)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Coroutine
from typing import Any

from realtime_widget.api import RealtimeAPI
from realtime_widget.api._wire import public_url
from realtime_widget.audio import as_pcm16, encode_base64
from realtime_widget.client._ask import Reply, follow_answer
from realtime_widget.client._carryover import Carryover
from realtime_widget.client._config import SessionConfig
from realtime_widget.client._connection import Connection
from realtime_widget.client._errors import ServerErrors
from realtime_widget.client._events import ServerEvents
from realtime_widget.client._handles import MAX_OUTSTANDING, ResponseHandle
from realtime_widget.client._interruption import Interruption
from realtime_widget.client._items import ItemAnnouncements
from realtime_widget.client._lifecycle import ConnectionLifecycle
from realtime_widget.client._mcp import McpServers
from realtime_widget.client._mcp_approvals import McpApprovals
from realtime_widget.client._outputs import ToolOutputs
from realtime_widget.client._playback import PlaybackTracker
from realtime_widget.client._requests import ResponseRequests
from realtime_widget.client._session import SessionSettings
from realtime_widget.client._tool_calls import ToolCalls
from realtime_widget.client._usage import UsageMeter
from realtime_widget.client._waiting import next_item, session_created
from realtime_widget.conversation import RealtimeConversation
from realtime_widget.events import RealtimeEventHandler
from realtime_widget.images import image_part
from realtime_widget.tools import ToolRegistry

__all__ = ["RealtimeClient"]

logger = logging.getLogger("realtime_widget.client")

_APPEND_CHUNK = 24000 * 10  # samples per input_audio_buffer.append: far under the 15 MiB cap


class RealtimeClient(RealtimeEventHandler):
    """A realtime conversation: session settings, responses, tools, interruption, reconnect.

    The seed TypeScript client's ``RealtimeClient`` in Python naming, speaking GA by default.

    Threading (DESIGN §3): the websocket and all state live on the shared runtime loop
    (``get_runtime()``); every public method may be called from any thread.

    - Methods that wait block the calling thread (with a ``timeout``) and each has an
      ``await``-able twin ending in ``_async`` for notebook cells and other loops:
      ``connect``/``connect_async``, ``disconnect``/``disconnect_async``,
      ``wait_for_session_created``, ``wait_for_next_item``, ``wait_for_next_completed_item``.
      Called on the runtime thread (in an event callback) a blocking method raises RuntimeError:
      await its twin there.
    - The other methods (``send_user_message_content``, ``append_input_audio``,
      ``create_response``, ``cancel_response``, ``interrupt``, ``report_played``,
      ``update_session``, ``add_tool``, ``delete_item``, ...) check their arguments, hand the
      work to the loop and return at once; work handed over keeps the caller's order.
    - Callbacks registered with :meth:`on` run on the runtime thread; keep them short.

    Events: ``conversation.updated`` (``item``, ``delta``), ``conversation.item.appended``,
    ``conversation.item.completed`` (each once per item), ``conversation.interrupted``,
    ``realtime.event`` (``time``, ``source``, ``event``: every event both ways),
    ``response.finished`` (``handle``, ``response_id``, ``out_of_band``, ``status``: every
    response as it ends, see :meth:`on_response`),
    ``tool_calls.cancelled`` (``call_ids``: see :meth:`cancel_tools`),
    ``usage.updated``, ``rate_limits.updated`` (the server's event, also kept in
    :attr:`rate_limits`), ``reconnecting``, ``reconnected``, ``error`` (server errors and local
    ones, ``"source": "local"``; a refused ``session.update`` adds ``rolled_back``, see
    :meth:`update_session`; MCP failures, ``"source": "mcp"``), ``close`` (``code``,
    ``reason``, ``error``) and ``mcp.approval_request`` (``item``, ``auto_approved``: answer
    with :meth:`approve_mcp`). Raw server events, MCP ones included, reach
    ``realtime.event`` listeners (or ``client.realtime.on("server.<type>", ...)``).

    MCP tools (``add_tool({"type": "mcp", "server_label": ..., "server_url": ...})``) are run
    by the server; the client lists them in ``session.tools`` (also after a reconnect) and
    answers their approval requests (:meth:`approve_mcp`, :meth:`deny_mcp`, or
    ``add_tool(..., auto_approve=[names])``).

    Differences from the seed, on purpose: :meth:`disconnect` keeps the conversation (the seed
    clears it; call :meth:`reset` for that); :meth:`reset` keeps listeners and tools; at most one
    ``response.create`` is in flight (others queue); tools run only for completed calls and
    every call gets exactly one output; truncation cuts at what was heard; usage adds up in
    :attr:`usage`; a dropped session reconnects and replays the history (``auto_reconnect``).

    Args:
        session_config: initial settings (seed flat keys and/or GA keys), over the defaults.
        relay: relay mode (the seed's): events are tracked but nothing is sent on the user's
            behalf (no session.update, no tools, no messages).
        tools: a shared ``ToolRegistry`` (a new one by default).
        auto_reconnect: reopen a dropped session and replay its history.
        max_reconnect_attempts: attempts before giving up (then ``error`` and ``close``). They
            count until a reconnected session proves healthy (see ``healthy_after``), so a
            server that accepts, says ``session.created`` and closes is not retried forever.
        reconnect_delay: first backoff delay in seconds (doubles, capped at 8 s).
        tool_timeout: seconds before a tool call is answered with a timeout error.
        auto_truncate: on server VAD ``speech_started``, truncate the assistant audio being
            played at the last reported position (when ``interrupt_response`` is on).
        response_timeout: seconds a response (or a ``response.create``) may go without any
            ``response.*`` event before the client gives up on it and sends the next request
            (a broken server that never sends ``response.done``); ``None``: wait forever.
        healthy_after: seconds a session must stay up to count as healthy when no response has
            completed in it yet (``None``: only a completed response counts).
        max_audio_seconds: audio kept in items, in seconds (``None``: all). Beyond it the
            oldest items lose their audio, never their text or transcripts, so memory stays
            flat over a long session.
        **api_params: :class:`~realtime_widget.api.RealtimeAPI` options (``url``, ``model``,
            ``api_key``, ``dialect``, ``headers``, ``azure_endpoint``, ``debug``, ...).
    """

    def __init__(
        self,
        session_config: dict[str, Any] | None = None,
        relay: bool = False,
        *,
        tools: ToolRegistry | None = None,
        auto_reconnect: bool = True,
        max_reconnect_attempts: int = 5,
        reconnect_delay: float = 0.5,
        tool_timeout: float | None = None,
        auto_truncate: bool = True,
        max_audio_seconds: float | None = None,
        healthy_after: float | None = 10.0,
        response_timeout: float | None = 60.0,
        **api_params: Any,
    ) -> None:
        super().__init__()
        self.realtime = self._new_api(api_params)
        self._runtime = self.realtime.runtime
        self.conversation = RealtimeConversation(frequency=24000)
        config = SessionConfig(session_config)
        self._relay = bool(relay)
        self.tools = tools if tools is not None else ToolRegistry()
        self._mcp = McpServers()  # MCP tools (run by the server) and their approvals
        self.healthy_after = healthy_after
        self.response_timeout = response_timeout
        self.reconnect_delay = reconnect_delay
        self.auto_truncate = auto_truncate
        self.max_audio_seconds = max_audio_seconds
        # Collaborators, each owning its state and handed what it uses (issue 16).
        self._requests = ResponseRequests(
            self.realtime,
            self.conversation,
            manual_turns=lambda: not self.get_turn_detection_type(),
            in_runtime_thread=self._runtime.in_runtime_thread,
            hand_over=self._soon,
            hold_or_hand_over=self._soon_or_hold,
            dispatch=self.dispatch,
            report=self._local_error,
            timeout=lambda: self.response_timeout,
        )
        self._responses = self._requests.sequencer  # read by the collaborators below
        self._handles = self._requests.handles
        self._watchdog = self._requests.watchdog
        self._outputs = ToolOutputs()  # tool outputs until the server acknowledges them
        self._tool_calls = ToolCalls(
            self.tools, self._deliver_tool_output, self._request_after_tools, tool_timeout
        )
        self._playback = PlaybackTracker(*config.output_rate)
        self._settings = SessionSettings(
            config, self.tools, self._mcp, self._playback, self.realtime, self._relay, self._soon
        )
        self._interruption = Interruption(
            self._playback,
            self._responses,
            self.conversation.get_item,
            self.realtime.send,
            self.dispatch,
            truncate_on_speech=self._truncates_on_speech,
        )
        self._mcp_approvals = McpApprovals(
            self._mcp,
            self.conversation.get_item,
            self.realtime.send,
            self._responses.request,
            self.dispatch,
            self._relay,
            self._soon_or_hold,
        )
        self._meter = UsageMeter(self.dispatch)  # token usage and rate limits
        self._carryover = Carryover(
            self.realtime.send,
            self.conversation,
            self._outputs,
            self._tool_calls,
            self._mcp,
            self._responses,
            self._handles,
            self._relay,
            self._run_held,
        )
        self._items = ItemAnnouncements(
            self.conversation,
            self.dispatch,
            self._carryover.on_item_announced,
            lambda: self.max_audio_seconds,
        )
        self._connection = Connection(
            self.realtime,
            ConnectionLifecycle(auto_reconnect, max_reconnect_attempts),
            dispatch=self.dispatch,
            report=self._local_error,
            opened=self._on_opened,
            lost=self._on_lost,
            ended=self._on_ended,
            healthy_after=lambda: self.healthy_after,
            reconnect_delay=lambda: self.reconnect_delay,
        )
        self._events = ServerEvents(
            self.conversation,
            self.dispatch,
            self._local_error,
            owners={
                "connection": self._connection,
                "carryover": self._carryover,
                "settings": self._settings,
                "outputs": self._outputs,
                "items": self._items,
                "interruption": self._interruption,
                "requests": self._requests,
                "tools": None if self._relay else self._tool_calls,  # relay: tools never run
                "usage": self._meter,
                "errors": ServerErrors(
                    self._outputs, self._settings, self._requests, self.dispatch
                ),
            },
            replayed=self._carryover.replayed,
            claim=self._requests.claim,
            observe=self._mcp_approvals.on_event,
            on_client_event=self._settings.on_client_event,
        )
        self._unsubscribe_tools = self.tools.on_change(self._settings.on_tools_changed)
        self.realtime.on("client.*", self._on_client_event)
        self.realtime.on("server.*", self._on_server_event)
        self.realtime.on("error", self._on_api_error)
        self.realtime.on("close", self._connection.on_close)

    def _new_api(self, api_params: dict[str, Any]) -> RealtimeAPI:
        """The transport the collaborators are handed (``ReplayClient`` plays a file instead)."""
        return RealtimeAPI(**api_params)

    def __repr__(self) -> str:
        state = "connected" if self.is_connected else "disconnected"
        return (
            f"<RealtimeClient {public_url(self.realtime.url)!r} dialect={self.realtime.dialect} "
            f"{state} "
            f"items={len(self.conversation.get_items())}>"
        )

    # ------------------------------------------------------------------ properties
    @property
    def api(self) -> RealtimeAPI:
        """The underlying :class:`RealtimeAPI` (also ``realtime``, the seed's name)."""
        return self.realtime

    @property
    def is_connected(self) -> bool:
        """Whether the websocket is open."""
        return self.realtime.is_connected

    @property
    def session(self) -> dict[str, Any] | None:
        """The session as the server last described it (``session.created``/``.updated``)."""
        return self._connection.session

    @property
    def is_reconnecting(self) -> bool:
        """Whether a dropped session is being reopened; messages, audio and response requests
        made meanwhile are held and sent once it is back (dropped if it gives up)."""
        return self._connection.is_reconnecting

    @property
    def auto_reconnect(self) -> bool:
        """Whether a dropped session is reopened and its history replayed (settable)."""
        return self._connection.lifecycle.auto_reconnect

    @auto_reconnect.setter
    def auto_reconnect(self, value: bool) -> None:
        self._connection.lifecycle.auto_reconnect = bool(value)

    @property
    def max_reconnect_attempts(self) -> int:
        """Reconnect attempts between two healthy sessions before giving up (settable)."""
        return self._connection.lifecycle.max_attempts

    @max_reconnect_attempts.setter
    def max_reconnect_attempts(self, value: int) -> None:
        self._connection.lifecycle.max_attempts = int(value)

    @property
    def is_relay(self) -> bool:
        """Whether the client is in relay mode (sends nothing on the user's behalf)."""
        return self._relay

    @property
    def session_config(self) -> dict[str, Any]:
        """A copy of the merged settings (GA shape), without tools."""
        return self._settings.config.to_dict()

    @property
    def usage(self) -> dict[str, Any]:
        """Token usage summed over every ``response.done`` (and ``responses``, their count)."""
        return self._meter.usage

    @property
    def rate_limits(self) -> list[dict[str, Any]]:
        """The rate limits of the latest ``rate_limits.updated`` (``[]`` before the first)."""
        return self._meter.rate_limits

    @property
    def response_active(self) -> bool:
        """Whether an in-band response is being generated (or requested); out-of-band ones
        (``conversation: "none"``) run beside it and do not count."""
        return self._responses.is_active

    def get_turn_detection_type(self) -> str | None:
        """``"server_vad"``, ``"semantic_vad"`` or ``None`` (manual turns)."""
        turn_detection = self._settings.config.turn_detection
        return turn_detection.get("type") if turn_detection else None

    def _truncates_on_speech(self) -> bool:
        """Whether server VAD's ``speech_started`` cuts the playing item at what was heard."""
        turn_detection = self._settings.config.turn_detection or {}
        return bool(self.auto_truncate and turn_detection.get("interrupt_response", True))

    # ------------------------------------------------------------------ plumbing
    def _blocking(self, name: str, coro: Coroutine[Any, Any, Any], timeout: float | None) -> Any:
        if self._runtime.in_runtime_thread():
            coro.close()
            raise RuntimeError(
                f"{name}() blocks, and this is the realtime runtime thread (an event callback?): "
                f"use `await client.{name}_async()` instead"
            )
        return self._runtime.run(coro, timeout)

    def _soon(self, fn: Any, *args: Any) -> None:
        """Run ``fn(*args)`` on the runtime loop (now, if this is the loop), errors reported."""
        self._on_loop(fn, args, False)

    def _soon_or_hold(self, fn: Any, *args: Any) -> None:
        """``_soon`` for what the user says (messages, audio, response requests): made during a
        reconnect, it waits and is sent, in order, once the new session has started (everything
        else needs the socket and fails instead)."""
        self._on_loop(fn, args, True)

    def _on_loop(self, fn: Any, args: tuple, hold: bool) -> None:
        if self._runtime.in_runtime_thread():
            self._guarded(fn, args, hold)
        else:
            self._runtime.call_soon(self._guarded, fn, args, hold)

    def _guarded(self, fn: Any, args: tuple, hold: bool) -> None:
        if hold and (
            (self.is_reconnecting and not self.is_connected)
            or (self._carryover.holding and not self._connection.session_created)
        ):
            # Said during a reconnect: sent, in order, once the new session has started.
            self._carryover.hold(fn, args)
            return
        try:
            fn(*args)
        except Exception as exc:  # raised on the loop, after the caller returned: report it
            logger.exception("= %s failed", getattr(fn, "__name__", fn))
            self._local_error("client_failed", f"{getattr(fn, '__name__', fn)}: {exc}")

    def _run_held(self, fn: Any, args: tuple) -> None:
        self._guarded(fn, args, True)

    def _local_error(self, code: str, message: str) -> None:
        error = {"type": "client_error", "code": code, "message": message}
        self.dispatch("error", {"type": "error", "source": "local", "error": error})

    def _require(self, action: str, *, connected: bool = True, hold: bool = False) -> None:
        if self._relay:
            raise RuntimeError(f"cannot {action} in relay mode (relay=True sends nothing itself)")
        if connected and not self.is_connected and not (hold and self.is_reconnecting):
            if self._connection.failure:  # say why, not only "not connected" (issue 13)
                raise RuntimeError(
                    f"cannot {action}: not connected; the last connect() failed: "
                    f"{self._connection.failure}"
                )
            raise RuntimeError(f"cannot {action}: not connected; call connect() first")

    # ------------------------------------------------------------------ connection
    def connect(self, timeout: float | None = 30.0) -> None:
        """Connect and send the session settings (blocking; see :meth:`connect_async`).

        A conversation kept from an earlier connection (:meth:`disconnect` keeps it) is replayed
        into the new session as text and tool call items, so the model remembers it; call
        :meth:`reset` first to start afresh.

        Raises:
            RealtimeConnectionError: the handshake was refused (the message says what to fix).
        """
        self._blocking("connect", self._connect(), timeout)

    async def connect_async(self) -> None:
        """Connect and send the session settings (``await``-able twin of :meth:`connect`)."""
        await self._runtime.run_async(self._connect())

    async def _connect(self) -> None:
        await self._connection.connect()

    def _start_session(self) -> None:
        """A new server session: reset per-session state and send the settings first."""
        self._requests.new_session()
        self.conversation.input_audio.clear()  # session audio time restarts at 0
        self._settings.new_session()

    def _on_opened(self, reconnected: bool) -> int:
        """A session was opened: start it; seed it with what the last one left (the history
        kept by ``disconnect()``, or what a drop cut off). Returns the items replayed."""
        self._start_session()
        if reconnected or self._carryover.has_history():
            return self._carryover.replay()
        return 0

    def _on_lost(self, reconnecting: bool) -> None:
        """The session was lost; with ``reconnecting``, what it still had to answer is asked
        again in the next one (in-band requests keep their handles)."""
        self._watchdog.stop()
        if reconnecting:
            self._carryover.owe(self._responses.owed())
        self._handles.on_session_lost(keep_queued=reconnecting)
        self._responses.reset()
        self._outputs.on_session_lost()
        self._tool_calls.on_session_lost()
        self._items.mark_unfinished_items()

    def _on_ended(self) -> int:
        """The session ended for good: held sends and queued requests end with it (held tool
        outputs stay, for a later connect()). Returns how many held sends were dropped."""
        dropped = self._carryover.end()
        self._handles.on_session_lost(keep_queued=False)
        return dropped

    def disconnect(self, timeout: float | None = 10.0) -> None:
        """Close the connection; the conversation history is kept (the seed clears it).

        Stops any reconnection in progress. Use :meth:`reset` to also clear the history.
        """
        self._blocking("disconnect", self._disconnect(), timeout)

    async def disconnect_async(self) -> None:
        """``await``-able twin of :meth:`disconnect`."""
        await self._runtime.run_async(self._disconnect())

    async def _disconnect(self) -> None:
        await self._connection.disconnect()

    def reset(self, timeout: float | None = 10.0) -> None:
        """Disconnect and clear the conversation, usage and settings (back to the constructor's).

        Unlike the seed, listeners and tools are kept (a widget stays wired to the client).
        """
        self._blocking("reset", self._reset(), timeout)

    async def reset_async(self) -> None:
        """``await``-able twin of :meth:`reset`."""
        await self._runtime.run_async(self._reset())

    async def _reset(self) -> None:
        await self._disconnect()
        self.conversation.clear()
        self._settings.reset()
        self._tool_calls.clear()
        self._mcp.clear_approvals()
        self._outputs.clear()
        self._playback.clear()
        self._forget_session_state()

    def _forget_session_state(self) -> None:
        """A conversation starts afresh: what the collaborators kept about the old one goes."""
        self._items.reset()
        self._carryover.reset()
        self._mcp_approvals.reset()
        self._meter.reset()
        self._watchdog.stop()

    # ------------------------------------------------------------------ settings and tools
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
        self._settings.update(config, settings)

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
        return self._settings.add_tool(definition, handler, options)

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
        self._settings.remove_tool(name)

    # ------------------------------------------------------------------ MCP tools
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
        if not self.is_connected and not self.is_reconnecting:
            raise RuntimeError("cannot answer MCP approvals: not connected; call connect() first")
        self._mcp_approvals.answer(request_id, approve, reason, always)

    def deny_mcp(self, request_id: str, reason: str | None = None) -> None:
        """Decline an MCP approval request (``approve_mcp(request_id, False, reason)``)."""
        self.approve_mcp(request_id, False, reason)

    # ------------------------------------------------------------------ interruption
    def report_played(self, item_id: str, content_index: int, samples: int) -> None:
        """Record playback progress: ``samples`` (cumulative, output rate) of that part heard."""
        self._soon(self._interruption.report_played, item_id, int(content_index), int(samples))

    def cancel_response(self, id: str | None = None, sample_count: int = 0) -> dict | None:
        """Cancel the active response and truncate assistant item ``id`` at what was heard.

        Cuts at ``min(sample_count, samples received)``, at 0 ms when ``sample_count`` is 0 (the
        seed's default: nothing was heard); skips the truncate when the item is unknown or has
        no audio, or when it was already cut there. Sends ``response.cancel`` only if a
        response is active. Without ``id`` it only cancels.

        Returns:
            The item, or ``None`` (no ``id``, or an unknown one).

        Raises:
            ValueError: ``id`` names an item that is not an assistant message.
        """
        self._require("cancel responses")
        item = self.conversation.get_item(id) if id else None
        if item is not None and (item.get("type") != "message" or item.get("role") != "assistant"):
            raise ValueError(f"item {id!r} is not an assistant message; only those can be cut")
        self._soon(self._interruption.cancel, id, int(sample_count))
        return item

    def interrupt(self) -> None:
        """Barge-in: cancel the active response and cut the playing item at what was heard.

        Uses the counts given to :meth:`report_played`; dispatches ``conversation.interrupted``.
        """
        self._require("interrupt")
        self._soon(self._interruption.interrupt)

    # ------------------------------------------------------------------ waiting
    def wait_for_session_created(self, timeout: float | None = 30.0) -> dict | None:
        """Block until ``session.created`` has arrived; returns the session (``None`` on timeout).

        Raises:
            RuntimeError: not connected.
        """
        if not self.is_connected:
            raise RuntimeError("not connected; call connect() first")
        return self._blocking(
            "wait_for_session_created", self._wait_for_session_created(timeout), None
        )

    async def wait_for_session_created_async(self, timeout: float | None = 30.0) -> dict | None:
        """``await``-able twin of :meth:`wait_for_session_created`."""
        if not self.is_connected:
            raise RuntimeError("not connected; call connect() first")
        return await self._runtime.run_async(self._wait_for_session_created(timeout))

    def _wait_for_session_created(self, timeout: float | None) -> Coroutine[Any, Any, dict | None]:
        return session_created(
            self.realtime, lambda: self.session, lambda: self._connection.session_created, timeout
        )

    def wait_for_next_item(self, timeout: float | None = None) -> dict | None:
        """Block until the next ``conversation.item.appended``; its item (``None`` on timeout)."""
        return self._blocking("wait_for_next_item", next_item(self, "appended", timeout), None)

    async def wait_for_next_item_async(self, timeout: float | None = None) -> dict | None:
        """``await``-able twin of :meth:`wait_for_next_item`."""
        return await self._runtime.run_async(next_item(self, "appended", timeout))

    def wait_for_next_completed_item(self, timeout: float | None = None) -> dict | None:
        """Block until the next ``conversation.item.completed``; its item (``None`` on timeout)."""
        return self._blocking(
            "wait_for_next_completed_item", next_item(self, "completed", timeout), None
        )

    async def wait_for_next_completed_item_async(self, timeout: float | None = None) -> dict | None:
        """``await``-able twin of :meth:`wait_for_next_completed_item`."""
        return await self._runtime.run_async(next_item(self, "completed", timeout))

    # ------------------------------------------------------------------ conversation
    def delete_item(self, item_id: str) -> None:
        """Ask the server to delete an item (``conversation.item.delete``); also in relay mode,
        as in the seed (it is the user's own request, not one made on their behalf).

        Raises:
            RuntimeError: not connected.
        """
        if not self.is_connected:
            raise RuntimeError("cannot delete items: not connected; call connect() first")
        self.realtime.send("conversation.item.delete", {"item_id": item_id})

    def send_user_message_content(self, content: list[dict] | str) -> None:
        """Send a user message and ask for a response (the seed's behaviour).

        Args:
            content: content parts (``{"type": "input_text", "text": ...}``,
                ``{"type": "input_audio", "audio": int16 array | bytes | base64 str}``,
                ``{"type": "input_image", "image_url": anything ``send_image`` takes}``), or a
                string for a single text part. Empty content only asks for a response.

        Raises:
            ImageError: an ``input_image`` part that is not a usable image (nothing is sent).
        """
        self._require("send messages", hold=True)
        if isinstance(content, str):
            content = [{"type": "input_text", "text": content}]
        parts = []
        for part in content:
            part = dict(part)
            if part.get("type") == "input_audio" and not isinstance(part.get("audio"), str):
                part["audio"] = encode_base64(part["audio"])
            elif part.get("type") == "input_image":
                # A figure, array, bytes or path as image_url is encoded (and checked) here.
                part = image_part(part.get("image_url"), part.get("detail"))
            parts.append(part)
        self._soon_or_hold(self._send_user_message, parts)

    def send_image(
        self,
        image: Any,
        *,
        text: str | None = None,
        detail: str | None = None,
        respond: bool = True,
    ) -> None:
        """Send an image as a user message (optionally with a question) and ask for a response.

        The image is checked and encoded here, in the caller's thread, so a bad one raises at
        once and nothing is sent: the session is untouched.

        Args:
            image: a matplotlib figure or axes, a PIL image, a numpy array (``HxW``, ``HxWx3``,
                ``HxWx4``; ``uint8`` or float in [0, 1]), PNG/JPEG bytes, a path to a PNG/JPEG
                file, or a ``data:image/png|jpeg;base64,`` URL (see ``realtime_widget.images``).
            text: words sent in the same message, before the image ("what does this plot
                show?").
            detail: ``"auto"``, ``"low"`` or ``"high"``; ``None`` leaves it to the server.
            respond: ask for a response (default); ``False`` only adds the image to the
                conversation, for a later question by voice or text.

        Raises:
            ImageError: (a ``ValueError``) not an image, not PNG/JPEG, over
                ``realtime_widget.images.MAX_IMAGE_BYTES`` (8 MiB), or an unknown ``detail``;
                the message says what to do.
            RuntimeError: not connected.
        """
        part = image_part(image, detail)
        self._require("send images", hold=True)
        parts = [{"type": "input_text", "text": text}] if text else []
        self._soon_or_hold(self._send_user_message, [*parts, part], respond)

    def _send_user_message(self, parts: list[dict], respond: bool = True) -> None:
        if parts:
            item = {"type": "message", "role": "user", "content": parts}
            self._carryover.message_sent(item)  # until the server announces it (see replay)
            self.realtime.send("conversation.item.create", {"item": item})
        if respond:  # ask() asks itself, with a handle
            self._requests.create_in_band(None)

    def append_input_audio(self, audio: Any) -> None:
        """Append microphone audio (int16 array or PCM16 little-endian bytes, 24 kHz mono).

        Raises:
            ValueError: float samples (convert with ``float_to_pcm16``), odd bytes, not mono.
        """
        self._require("append input audio", hold=True)
        samples = as_pcm16(audio).copy()  # the caller may reuse its buffer
        if len(samples):
            self._soon_or_hold(self._append_input_audio, samples)

    def _append_input_audio(self, samples: Any) -> None:
        for start in range(0, len(samples), _APPEND_CHUNK):
            chunk = samples[start : start + _APPEND_CHUNK]
            self.realtime.send("input_audio_buffer.append", {"audio": encode_base64(chunk)})
        self.conversation.append_input_audio(samples)

    def create_response(self, response: dict[str, Any] | None = None) -> ResponseHandle:
        """Ask for a response and return a handle on it.

        In-band responses (the default conversation) are queued while another one runs (one in
        flight at a time); with manual turns, input audio appended since the last commit is
        committed first (or cleared when under 100 ms, which the server would refuse).

        Out-of-band responses (``{"conversation": "none", ...}``) are sent at once, even while an
        in-band response runs, and never hold up the in-band queue: the server runs them in
        parallel, their items stay out of the conversation (and out of the widget), and their
        output is only in the handle (or :meth:`on_response`). Give them ``input`` (items, or
        ``{"type": "item_reference", "id": ...}``) to choose what they read (default: the whole
        conversation) and ``metadata`` to recognise them. The client does not run tools for
        them: their function calls are in the result's ``items``.

        Args:
            response: per-response settings (GA ``response`` object), e.g. ``{"instructions":
                ...}``; ``None`` uses the session's.

        Returns:
            A :class:`~realtime_widget.client.ResponseHandle`: ``await handle`` or
            ``handle.result(timeout)`` gives the text, audio, items, usage, status and
            metadata. A failed, cancelled or refused response raises ``ResponseError`` there,
            as does one lost with its session (a reconnect re-sends in-band requests not yet
            answered, with the same handle; out-of-band ones are not re-sent). Ignoring the
            handle is fine.

        Raises:
            RuntimeError: not connected, relay mode, or :data:`MAX_OUTSTANDING` responses
                already wait (await some first).
            TypeError: ``response`` is not a dict.
        """
        self._require("create responses", hold=True)
        if response is not None and not isinstance(response, dict):
            raise TypeError(f"response must be a dict of response settings, not {response!r}")
        params = copy.deepcopy(response) if response is not None else None
        return self._requests.create(params, MAX_OUTSTANDING)

    def ask(self, text: str, timeout: float = 60.0) -> Reply:
        """Send a user text message and block until the model has answered it.

        Waits through tool calls: when the response only calls tools, the client runs them and
        asks again, and ``ask`` returns the answer given after them. The answer also appears in
        the conversation as usual. ``await client.ask_async(...)`` is the twin for event loops.

        Args:
            text: the user message.
            timeout: seconds to wait for the answer (the response goes on after a timeout).

        Returns:
            A :class:`~realtime_widget.client.Reply`: ``.text`` (the transcript of a spoken
            answer), ``.item`` (the assistant message), ``.result`` (the ``ResponseResult``);
            ``str(reply)`` is the text.

        Raises:
            RuntimeError: not connected (says why the last ``connect()`` failed), relay mode,
                or called on the runtime thread (an event callback: use ``ask_async`` there).
            TimeoutError: no answer within ``timeout``; the message says what it waited for.
            ResponseError: the response failed, was cancelled, refused, or lost with the session.
        """
        self._require("ask", hold=True)
        return self._blocking("ask", self._ask(str(text), timeout), None)

    async def ask_async(self, text: str, timeout: float = 60.0) -> Reply:
        """``await``-able twin of :meth:`ask` (from any event loop, e.g. a notebook cell)."""
        self._require("ask", hold=True)
        return await self._runtime.run_async(self._ask(str(text), timeout))

    async def _ask(self, text: str, timeout: float) -> Reply:
        def say(parts: list[dict]) -> None:  # ask() asks for the response itself, with a handle
            self._guarded(self._send_user_message, (parts, False), True)

        return await follow_answer(
            self, say, self.create_response, self.conversation.get_item, text, timeout
        )

    def cancel_tools(self, reason: str = "cancelled by the user") -> None:
        """Cancel the tool calls that are running (or waiting for approval). Any thread.

        Each cancelled call is answered once, with an output saying it was cancelled by the
        user (held and replayed if the connection is down, like any output); a result the tool
        returns later is dropped. Async tools get ``asyncio.CancelledError``; sync tools are told
        through their :class:`~realtime_widget.tools.CancelToken` if they take one, and
        otherwise run on in their thread. No response is asked for after a cancellation: the
        model reads it with the next turn. Dispatches ``tool_calls.cancelled`` (``call_ids``)
        when calls were cancelled; :attr:`tools` ``.history`` records them as ``cancelled``.

        Args:
            reason: kept on each call's token (``token.reason``).
        """
        self._soon(self._cancel_tools, reason)

    def cancel(self) -> None:
        """Stop what the model is doing: the active response and the running tool calls.

        :meth:`interrupt` (cancel the active response, cut the playing item at what was heard)
        plus :meth:`cancel_tools`. What a Stop button does.

        Raises:
            RuntimeError: relay mode.
        """
        self._require("cancel", connected=False)
        self._soon(self._cancel)

    def _cancel(self) -> None:
        if self.is_connected:
            self._interruption.interrupt()
        self._cancel_tools("cancelled by the user")

    def _cancel_tools(self, reason: str) -> None:
        call_ids = self._tool_calls.cancel(reason)
        if call_ids:
            self.dispatch(
                "tool_calls.cancelled", {"type": "tool_calls.cancelled", "call_ids": call_ids}
            )

    def on_response(self, callback: Any) -> Any:
        """Call ``callback(event)`` as each response ends (in-band, out-of-band, server VAD).

        The event is ``{"type": "response.finished", "handle": ResponseHandle, "response_id",
        "out_of_band", "status"}``; ``event["handle"].result()`` does not block there.

        Returns:
            ``callback``, for :meth:`off` (``client.off("response.finished", callback)``).
        """
        return self.on("response.finished", callback)

    def _deliver_tool_output(self, call_id: str, output: str) -> bool:
        """Send a tool's output, or hold it: kept until the server acknowledges it (issue 13)."""
        # A tool's error may quote the key (an exception about a request it made): the model
        # would read it and the transcript would keep it (DESIGN §5).
        output = self.realtime.redact_text(output, key_only=True)
        if not self._outputs.add(call_id, output) or not self.is_connected:
            return False  # the next session's replay sends it, right after its call
        item = {"type": "function_call_output", "call_id": call_id, "output": output}
        event = self.realtime.send("conversation.item.create", {"item": item})
        self._outputs.sent(call_id, event["event_id"])
        return True

    def _request_after_tools(self) -> None:
        """The response after a batch of tool outputs; owed to the next session if dropped."""
        if self.is_connected:
            self._responses.request(None)
        else:
            self._carryover.owe([None])

    # ------------------------------------------------------------------ transport events
    def _on_client_event(self, event: dict) -> None:
        self._events.on_client_event(event)

    def _on_server_event(self, event: dict) -> None:
        self._events.on_server_event(event)

    def _on_api_error(self, event: dict) -> None:
        if event.get("source") == "local":  # server errors arrive through server.*
            self.dispatch("error", event)

    def close(self) -> None:
        """Disconnect and detach from the tool registry (the client is not used again)."""
        if self.is_connected:
            self.disconnect()
        self._unsubscribe_tools()
