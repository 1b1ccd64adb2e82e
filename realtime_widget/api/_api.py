"""`RealtimeAPI`: one websocket to a Realtime server (DESIGN §2, §3, §6).

The socket and everything it dispatches live on the shared runtime loop
(:mod:`realtime_widget.runtime`).
Reading follows websockets' own connection layout: frames are read by one task, parsed,
normalised to GA names once (``normalize_server_event``) and dispatched; writes go through one
queue drained by a writer task, so events leave in the order they were sent from any thread.

Events dispatched (all on the runtime thread):

- ``<type>``, ``server.<type>`` and ``server.*`` for every server event (GA names); when the
  wire name differs (a beta server's ``response.audio.delta``), ``<wire type>`` and
  ``server.<wire type>`` fire too, with the event as received, so seed code listening for the
  names it sees on the wire keeps working (``server.*`` still fires once, in GA);
- ``<type>``, ``client.<type>`` and ``client.*`` for every event sent (as built, GA shape);
- ``error`` with ``"source": "local"`` when a frame cannot be used (not JSON, not an object, a
  binary frame) or a handler failed — the receive loop carries on;
- ``close`` with ``code``, ``reason`` and ``error`` (True unless we closed it ourselves).

The API key is never logged, put in a repr, an exception message or an event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from realtime_widget.api._wire import (
    DEFAULT_URL,
    REFUSAL_HINTS,
    build_url,
    public_url,
    trim_event,
    url_secrets,
)
from realtime_widget.events import RealtimeEventHandler
from realtime_widget.protocol import (
    DEFAULT_MODEL,
    generate_id,
    normalize_server_event,
    to_beta_client_event,
    warn_if_deprecated,
)
from realtime_widget.protocol.redaction import (
    SECRET_PATTERN,
    RedactingLogger,
    redact_query_secrets,
)
from realtime_widget.runtime import Runtime, get_runtime

__all__ = ["DEFAULT_MODEL", "DEFAULT_URL", "RealtimeAPI", "RealtimeConnectionError"]

logger = logging.getLogger(__name__)

# OpenAI accepts client events up to 15 MiB; server audio deltas are far smaller, but a long
# session.created/updated with many tools or a big response.done must not trip the limit.
DEFAULT_MAX_SIZE = 16 * 1024 * 1024


class RealtimeConnectionError(ConnectionError):
    """The websocket could not be opened; the message says what to fix.

    Attributes:
        status: the HTTP status of a refused handshake, or ``None`` (unreachable, timeout).
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RealtimeAPI(RealtimeEventHandler):
    """One websocket to an OpenAI Realtime (or compatible) server.

    ``connect()``/``disconnect()`` block the calling thread until done (with ``timeout``); their
    ``await``-able twins ``connect_async()``/``disconnect_async()`` work from any event loop, e.g.
    a notebook cell. Blocking calls from the runtime thread (inside an event callback) raise
    RuntimeError: await the twin there. ``send()`` returns at once from any thread. Callbacks
    registered with :meth:`on` run on the runtime thread.

    Args:
        url: websocket URL (``ws``/``wss``; ``http``/``https`` are mapped). Defaults to OpenAI.
            An Azure host (``*.openai.azure.com``) switches to ``api-key`` authentication.
        model: the ``model`` query parameter, added unless ``url`` already carries one
            (default :data:`~realtime_widget.protocol.DEFAULT_MODEL`). A model OpenAI announced
            for shutdown warns once (``DeprecatedModelWarning``) and is still used.
        api_key: the key; defaults to ``OPENAI_API_KEY`` (``AZURE_OPENAI_API_KEY`` for Azure).
        dialect: ``"ga"`` (default) or ``"beta"``: beta converts outbound events with
            ``to_beta_client_event`` and adds the ``OpenAI-Beta: realtime=v1`` header.
        headers: extra handshake headers.
        azure_endpoint: ``https://<resource>.openai.azure.com``; with ``azure_deployment`` (or
            ``model``) builds the GA Azure URL ``.../openai/v1/realtime?model=<deployment>``.
        azure_deployment: the Azure deployment name.
        ping_interval: seconds between keepalive pings (``None`` disables them).
        ping_timeout: seconds to wait for a pong before treating the connection as dropped.
        open_timeout: seconds allowed for the handshake.
        close_timeout: seconds to wait for the server's close frame before dropping the TCP
            connection; on a dead network (keepalive timed out) this is dead air before the
            reconnect, so it is short (websockets' default is 10 s).
        max_size: largest inbound frame in bytes.
        debug: log every event at INFO (audio payloads redacted) instead of DEBUG.
        runtime: the runtime hosting the socket (tests); defaults to the shared one.
    """

    def __init__(
        self,
        *,
        url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        dialect: str = "ga",
        headers: dict[str, str] | None = None,
        azure_endpoint: str | None = None,
        azure_deployment: str | None = None,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        open_timeout: float | None = 10.0,
        close_timeout: float | None = 2.0,
        max_size: int | None = DEFAULT_MAX_SIZE,
        debug: bool = False,
        runtime: Runtime | None = None,
    ) -> None:
        super().__init__()
        if dialect not in ("ga", "beta"):
            raise ValueError(f"dialect must be 'ga' or 'beta', got {dialect!r}")
        self.dialect = dialect
        if model is not None:
            warn_if_deprecated(model)
        self.model = model or azure_deployment or DEFAULT_MODEL
        self.url, self.is_azure = build_url(url, self.model, azure_endpoint, azure_deployment)
        env = "AZURE_OPENAI_API_KEY" if self.is_azure else "OPENAI_API_KEY"
        self._api_key = api_key or os.environ.get(env) or os.environ.get("OPENAI_API_KEY") or ""
        self._extra_headers = dict(headers or {})
        self._options = {
            "ping_interval": ping_interval,
            "ping_timeout": ping_timeout,
            "open_timeout": open_timeout,
            "close_timeout": close_timeout,
            "max_size": max_size,
        }
        self.debug = debug
        self._runtime = runtime or get_runtime()
        self._ws: ClientConnection | None = None
        self._outbox: asyncio.Queue[str | None] | None = None
        self._tasks: list[asyncio.Task[Any]] = []
        self._closing = False
        wire: Any = logging.getLogger(f"{__name__}.wire")
        for secret in url_secrets(self.url):  # a key in the URL: the logged request line has it
            wire = RedactingLogger(wire, secret)
        self._wire_logger = RedactingLogger(wire, self._api_key, drop_frames=True)

    def __repr__(self) -> str:
        state = "connected" if self.is_connected else "disconnected"
        return f"<RealtimeAPI {public_url(self.url)!r} dialect={self.dialect} {state}>"

    # ------------------------------------------------------------------ state
    @property
    def is_connected(self) -> bool:
        """True between a successful handshake and the connection's end."""
        return self._ws is not None

    @property
    def has_api_key(self) -> bool:
        """Whether a key will be sent (the key itself is never exposed)."""
        return bool(self._api_key)

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self._api_key:
            if self.is_azure:
                headers["api-key"] = self._api_key
            else:
                headers["Authorization"] = f"Bearer {self._api_key}"
        if self.dialect == "beta":
            headers["OpenAI-Beta"] = "realtime=v1"
        headers.update(self._extra_headers)
        return headers

    def _redact(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "[redacted]")
        for secret in url_secrets(self.url):
            text = text.replace(secret, "[redacted]")
        return SECRET_PATTERN.sub("[redacted]", text)

    def redact_text(self, text: str, *, key_only: bool = False) -> str:
        """``text`` with this connection's key replaced by ``[redacted]``, for what people see.

        Args:
            text: e.g. a failing tool's traceback shown in the widget.
            key_only: replace only the key itself (for text that goes on to the model, where
                key-shaped words such as ``assess_result`` must survive); by default credentials
                in URLs and key-shaped strings (``sk-...``) are replaced too.

        Returns:
            The text without the secrets.
        """
        if key_only:
            return text.replace(self._api_key, "[redacted]") if self._api_key else text
        return redact_query_secrets(self._redact(text))

    # ------------------------------------------------------------------ connect / disconnect
    def connect(self, timeout: float | None = None) -> None:
        """Open the websocket, blocking until the handshake is done.

        Raises:
            RealtimeConnectionError: the handshake was refused or the server is unreachable.
            RuntimeError: when called on the runtime thread (use :meth:`connect_async`).
        """
        self._check_blocking("connect")
        self._runtime.run(self._connect(), timeout)

    @property
    def runtime(self) -> Runtime:
        """The `Runtime` whose loop runs this connection's I/O (a client on this API shares it)."""
        return self._runtime

    async def connect_async(self) -> None:
        """Open the websocket (``await``-able twin of :meth:`connect`)."""
        await self._runtime.run_async(self._connect())

    def disconnect(self, timeout: float | None = 10.0) -> None:
        """Close the websocket after the events already sent have left; blocking."""
        self._check_blocking("disconnect")
        self._runtime.run(self._disconnect(), timeout)

    async def disconnect_async(self) -> None:
        """Close the websocket (``await``-able twin of :meth:`disconnect`)."""
        await self._runtime.run_async(self._disconnect())

    def _check_blocking(self, name: str) -> None:
        if self._runtime.in_runtime_thread():
            raise RuntimeError(
                f"{name}() blocks, and this is the realtime runtime thread (an event callback?): "
                f"use `await {name}_async()` instead"
            )

    async def _connect(self) -> None:
        if self._ws is not None:
            return
        try:
            ws = await connect(
                self.url,
                additional_headers=self._headers(),
                logger=self._wire_logger,
                compression=None,
                **self._options,
            )
        except InvalidStatus as exc:
            raise self._refused(exc) from None
        except InvalidURI:
            raise RealtimeConnectionError(
                f"invalid Realtime URL {public_url(self.url)!r}: use ws(s):// or "
                "http(s)://host/path"
            ) from None
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            raise RealtimeConnectionError(
                f"could not reach {public_url(self.url)!r} "
                f"({self._redact(str(exc)) or type(exc).__name__}): "
                "check the URL and that the server is running and reachable"
            ) from None
        self._ws, self._closing = ws, False
        self._outbox = asyncio.Queue()
        self._tasks = [
            asyncio.create_task(self._receive_loop(ws)),
            asyncio.create_task(self._write_loop(ws, self._outbox)),
        ]
        self._log("=", {"type": "connected", "url": public_url(self.url), "dialect": self.dialect})

    def _refused(self, exc: InvalidStatus) -> RealtimeConnectionError:
        status = exc.response.status_code
        hint = REFUSAL_HINTS.get(
            status, "the server refused the websocket upgrade: check URL and key"
        )
        detail = ""
        with contextlib.suppress(Exception):
            body = json.loads(exc.response.body or b"{}")
            detail = str(body.get("error", {}).get("message", ""))[:300]
        message = f"connection to {public_url(self.url)!r} refused with HTTP {status}: {hint}"
        if detail:
            message += f" (server said: {self._redact(detail)})"
        return RealtimeConnectionError(message, status)

    async def _disconnect(self) -> None:
        ws = self._ws
        if ws is None:
            return
        self._closing = True
        receiver, writer = self._tasks
        if self._outbox is not None:
            self._outbox.put_nowait(None)  # the writer stops after flushing what was queued
        with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError, ConnectionClosed):
            await asyncio.wait_for(writer, timeout=5.0)
        await ws.close()
        with contextlib.suppress(asyncio.CancelledError):
            await receiver  # dispatches ``close``

    # ------------------------------------------------------------------ sending
    def send(self, event_name: str, data: dict | None = None, *, raw: bool = False) -> dict:
        """Send a client event; returns at once with the event (``event_id`` filled in).

        The event is dispatched as ``client.<type>`` and ``client.*`` on the runtime thread and
        written after every event sent before it. In the beta dialect it goes on the wire through
        ``to_beta_client_event`` unless ``raw`` is set (already in the connection's dialect).

        Args:
            event_name: the client event type, e.g. ``"response.create"``.
            data: the event's other fields.
            raw: skip dialect conversion.

        Returns:
            The event dict as built (GA shape).

        Raises:
            RuntimeError: not connected (call ``connect()`` first).
            TypeError: ``data`` is not a dict.
        """
        if not self.is_connected:
            raise RuntimeError("RealtimeAPI is not connected: call connect() first")
        if data is not None and not isinstance(data, dict):
            raise TypeError(f"data must be a dict, got {type(data).__name__}")
        event = {"event_id": generate_id("evt_"), "type": event_name, **(data or {})}
        if self._runtime.in_runtime_thread():
            self._send_now(event, raw)
        else:
            self._runtime.call_soon(self._send_now, event, raw)
        return event

    def _send_now(self, event: dict, raw: bool) -> None:
        if self._outbox is None or self._closing:
            logger.warning("= dropped %s: the connection closed before it was sent", event["type"])
            return
        wire = event if raw or self.dialect == "ga" else to_beta_client_event(event)
        self._outbox.put_nowait(json.dumps(wire, separators=(",", ":")))
        self._log(">", event)
        self._dispatch_all(("client.", "client.*"), event)

    async def _write_loop(self, ws: ClientConnection, outbox: asyncio.Queue[str | None]) -> None:
        while (text := await outbox.get()) is not None:
            try:
                await ws.send(text)
            except ConnectionClosed:
                return

    # ------------------------------------------------------------------ receiving
    async def _receive_loop(self, ws: ClientConnection) -> None:
        error = True
        try:
            async for message in ws:
                self._receive(message)
            error = not self._closing and ws.close_code not in (1000, None)
        except ConnectionClosed:
            error = not self._closing
        except Exception:  # transport failure: report it as a close with error
            logger.exception("= receive loop failed")
        finally:
            await self._finish(ws, error)

    def _receive(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            self._local_error("binary_frame", "server sent a binary frame; events are JSON text")
            return
        try:
            event = json.loads(message)
        except ValueError as exc:
            self._local_error(
                "malformed_frame", f"server sent invalid JSON ({exc}): {message[:80]!r}"
            )
            return
        except RecursionError:  # their fault: one hostile frame must not end the receive loop
            self._local_error(
                "malformed_frame", f"server sent JSON nested too deeply to parse: {message[:80]!r}"
            )
            return
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            self._local_error(
                "malformed_frame", f"server event is not an object with a type: {message[:80]!r}"
            )
            return
        ga = normalize_server_event(event)
        self._log("<", ga)
        self._dispatch_all(("server.", "server.*"), ga)
        wire_type = event["type"]
        if ga["type"] != wire_type:  # a beta name: its listeners get the event as received
            self._dispatch_each((wire_type, "server." + wire_type), event)

    def _dispatch_all(self, prefixes: tuple[str, str], event: dict) -> None:
        name = event["type"]
        self._dispatch_each((name, prefixes[0] + name, prefixes[1]), event)

    def _dispatch_each(self, targets: tuple[str, ...], event: dict) -> None:
        # The event handler already isolates raising callbacks; this guard covers the rest.
        name = event["type"]
        for target in targets:
            try:
                self.dispatch(target, event)
            except Exception as exc:
                logger.exception("= handler for %s failed", target)
                if name != "error":
                    self._local_error("handler_failed", f"handler for {target} raised {exc!r}")

    def _local_error(self, code: str, message: str) -> None:
        logger.warning("= %s: %s", code, message)
        event = {
            "type": "error",
            "source": "local",
            "error": {"type": "client_error", "code": code, "message": message},
        }
        with contextlib.suppress(Exception):
            self.dispatch("error", event)

    async def _finish(self, ws: ClientConnection, error: bool) -> None:
        if self._ws is not ws:
            return
        self._ws = None
        if self._outbox is not None:
            self._outbox.put_nowait(None)
        self._outbox = None
        code, reason = ws.close_code, ws.close_reason or ""
        self._log("=", {"type": "closed", "code": code, "reason": reason, "error": error})
        with contextlib.suppress(Exception):
            self.dispatch(
                "close", {"type": "close", "code": code, "reason": reason, "error": error}
            )

    # ------------------------------------------------------------------ logging
    def _log(self, direction: str, event: dict) -> None:
        level = logging.INFO if self.debug else logging.DEBUG
        if not logger.isEnabledFor(level):
            return  # json.dumps of every audio delta is not free
        logger.log(level, "%s %s %s", direction, time.strftime("%H:%M:%S"), trim_event(event))
