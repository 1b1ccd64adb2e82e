"""Which model the widget talks to: a given client, OpenAI with a key, or the offline demo.

`RealtimeWidget()` with no arguments must work the first time (issue 6): with `OPENAI_API_KEY`
set it talks to OpenAI (GA); without one it starts the embedded server in-process and says so.
The key itself stays inside the client's `RealtimeAPI`; nothing here keeps or prints it.

The embedded server (one per process, shared by the offline widgets: `_widget_server`) listens
on a loopback port that any local process or web page could find, so it requires a random key,
per server, that only the kernel knows (issue 13): the widget's client gets it the same way it
would get an OpenAI key (inside its `RealtimeAPI`, so it is never in a trait, the event log, a
repr or the saved notebook), and the server refuses every other connection with 401 (and other
web pages' handshakes with 403).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from realtime_widget.tools import kernel_main_thread_executor
from realtime_widget.widget._server import Lease, shared_servers

__all__ = [
    "LOCAL_NOTICE",
    "OFFLINE_HINT",
    "OFFLINE_NOTICE",
    "Connection",
    "caption_session",
    "connection_failure",
    "open_connection",
]

OFFLINE_NOTICE = (
    "This is the offline demo (echo brain): an embedded local server with a simple scripted "
    "model answers (no network, no API key). Install realtime_widget[local] to talk to a local "
    "model, or set OPENAI_API_KEY before creating the widget (or pass "
    "RealtimeWidget(api_key=...))."
)

OFFLINE_HINT = {
    "env": "To use the offline model instead, unset OPENAI_API_KEY (in a cell: "
    "`del os.environ['OPENAI_API_KEY']`) and create the widget again.",
    "api_key": "To use the offline model instead, create the widget without api_key= (and with "
    "OPENAI_API_KEY unset).",
    "url": "To use the offline model instead, create the widget without url= and api_key= (and "
    "with OPENAI_API_KEY unset).",
}
"""What to do to talk to the embedded server when the chosen remote one fails, by what chose it
(a key from the environment, an ``api_key=`` argument, a ``url=`` argument)."""

LOCAL_NOTICE = (
    "Offline: {summary} answer on this computer (no network, no API key). To talk to OpenAI's "
    "model instead, set OPENAI_API_KEY before creating the widget."
)


@dataclass
class Connection:
    """The client the widget is bound to and what to tell the user about it.

    Attributes:
        client: the `RealtimeClient`.
        server: the embedded `LocalRealtimeServer` the widget uses (None otherwise), shared by
            the offline widgets of the process.
        notice: text shown above the conversation ("" for none).
        label: short description of the other end, without secrets.
        fallback_hint: how to use the offline model instead, added to connection errors ("" for
            the embedded server itself, or a client the caller passed in).
        lease: the widget's `Lease` on the shared embedded server (None otherwise); released
            when the widget is closed or collected, the last release stops the server.
    """

    client: Any
    server: Any
    notice: str
    label: str
    fallback_hint: str = ""
    lease: Lease | None = None


def open_connection(
    client: Any = None,
    *,
    api_key: str | None = None,
    model: str | None = None,
    url: str | None = None,
    session_config: dict[str, Any] | None = None,
    client_options: dict[str, Any] | None = None,
) -> Connection:
    """Build (or adopt) the widget's client.

    Args:
        client: an existing `RealtimeClient`; everything else but `session_config` is ignored.
        api_key: OpenAI key; defaults to `OPENAI_API_KEY`.
        model: model name (the client's default when None).
        url: a custom Realtime endpoint (Azure, a proxy, your own server).
        session_config: session settings (seed flat keys or GA keys).
        client_options: more `RealtimeClient` keyword arguments (e.g. `dialect`, `tools`).

    Returns:
        The connection; with no key and no URL, one to the process's embedded server (started
        if none runs). Its
        client runs ``thread="main"`` tools on the IPython kernel's main thread when there is
        one (unless the client already has a main-thread executor).
    """
    connection = _open(client, api_key, model, url, session_config, client_options)
    tools = connection.client.tools
    if tools.main_thread_executor is None:
        # Inside a kernel, thread="main" tools (notebook state that is not thread-safe) run on
        # the kernel's main thread; elsewhere this is None and they use a worker thread.
        tools.main_thread_executor = kernel_main_thread_executor()
    return connection


def _open(
    client: Any,
    api_key: str | None,
    model: str | None,
    url: str | None,
    session_config: dict[str, Any] | None,
    client_options: dict[str, Any] | None,
) -> Connection:
    from realtime_widget.client import RealtimeClient

    options = dict(client_options or {})
    # The widget truncates at the browser's final played count itself (DESIGN §4).
    options.setdefault("auto_truncate", False)
    if client is not None:
        if session_config:
            client.update_session(**session_config)
        client.auto_truncate = False
        return Connection(client, None, "", _label_of(client))
    if model is not None:
        options["model"] = model
    key = api_key or os.environ.get("OPENAI_API_KEY")
    if url is not None or key:
        if url is not None:
            options["url"] = url
        made = RealtimeClient(session_config, api_key=key, **options)
        chosen_by = "url" if url is not None else "api_key" if api_key else "env"
        return Connection(made, None, "", _label_of(made), OFFLINE_HINT[chosen_by])
    # The offline widgets of this process share one embedded server (`_widget_server`).
    lease = shared_servers().lease(_local_pipeline)
    made = RealtimeClient(session_config, url=lease.server.url, api_key=lease.key, **options)
    pipeline = lease.pipeline
    if pipeline is not None:
        notice = LOCAL_NOTICE.format(summary=pipeline.summary)
        label = f"embedded server ({pipeline.summary})"
        return Connection(made, lease.server, notice, label, lease=lease)
    label = "embedded server (offline demo)"
    return Connection(made, lease.server, OFFLINE_NOTICE, label, lease=lease)


def caption_session(
    client: Any, mode: str, language: str | None, transcription_model: str | None
) -> Any:
    """The transcription or translation session of a widget in a caption mode (issue 14).

    It goes where the widget's client would (OpenAI, ``url=``, the embedded server) with the same
    key, which moves from one ``RealtimeAPI`` to the other and is kept nowhere else.

    Args:
        client: the widget's `RealtimeClient` (never connected in these modes).
        mode: ``"transcribe"`` or ``"translate"``.
        language: the speech's language (transcribe) or the target language (translate).
        transcription_model: the transcription model (``None``: the default).

    Returns:
        A `RealtimeTranscriber` or `RealtimeTranslator`, not connected yet.
    """
    from realtime_widget.api import DEFAULT_URL
    from realtime_widget.client import RealtimeTranscriber, RealtimeTranslator
    from realtime_widget.protocol.session_kinds import DEFAULT_TRANSCRIPTION_MODEL

    api = client.realtime
    parts = urlsplit(api.url)
    # The conversation model's name is not the session's: each kind names its own.
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if k != "model"])
    url: str | None = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    if url == DEFAULT_URL:
        url = None  # OpenAI: each kind knows its own endpoint there
    options: dict[str, Any] = {
        "url": url,
        "api_key": api._api_key or None,  # moved, never shown: RealtimeAPI keeps it private
        "headers": dict(api._extra_headers) or None,
    }
    model = transcription_model or DEFAULT_TRANSCRIPTION_MODEL
    if mode == "transcribe":
        return RealtimeTranscriber(model=model, language=language, **options)
    return RealtimeTranslator(str(language), transcription_model=model, **options)


def connection_failure(exc: Exception, fallback_hint: str = "") -> Exception:
    """The error a widget's ``connect()`` raises for a failed connection attempt.

    Args:
        exc: what the client raised (`RealtimeConnectionError` says the cause and what to fix).
        fallback_hint: `Connection.fallback_hint` ("" adds nothing).

    Returns:
        A `RealtimeConnectionError` with the cause, what to fix and, where it applies, how to use
        the offline model; ``exc`` itself for errors that are not about the connection (bad
        settings are the caller's to fix, and their message already says how).
    """
    from realtime_widget.api import RealtimeConnectionError

    if not isinstance(exc, RealtimeConnectionError):
        return exc
    if not fallback_hint:
        return exc
    return RealtimeConnectionError(f"{exc} {fallback_hint}", exc.status)


def _local_pipeline():
    """The local pipeline when it is installed and its models are here (nothing downloaded).

    Its models load in the background: the first turn waits for them, the cell does not.
    """
    import threading

    from realtime_widget.server.local import StageError, find_pipeline

    try:
        pipeline = find_pipeline(download=False)
    except StageError:
        return None
    threading.Thread(target=_load_quietly, args=(pipeline,), daemon=True).start()
    return pipeline


def _load_quietly(pipeline) -> None:
    import logging

    try:
        pipeline.load()
    except Exception as exc:  # the first answer reports it in the widget as a failed response
        logging.getLogger(__name__).warning("the local pipeline could not load: %s", exc)


def _label_of(client: Any) -> str:
    api = getattr(client, "realtime", None)
    url = str(getattr(api, "url", "") or "")
    model = getattr(api, "model", None)
    # Host and port only: a URL may carry a key (``user:key@``, ``?api-key=``; issue 13).
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # IPv6
    with contextlib.suppress(ValueError):  # a malformed port: the host alone
        host += f":{parts.port}" if parts.port else ""
    if "openai.com" in host and "azure" not in host:
        return f"OpenAI {model}" if model else "OpenAI"
    return f"{model} at {host}" if model else host
