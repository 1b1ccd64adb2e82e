"""`RealtimeWidget`: a realtime voice conversation inside a notebook (anywidget; issue 6).

The browser part (js/, bundled into `static/`) captures the microphone, plays streamed audio and
shows the conversation; everything else lives here, in the kernel: the `RealtimeClient` and its
websocket, the conversation, the API key and the tools (DESIGN §1). The protocol between the two
halves is docs/widget-protocol.md; the modules doing the work are `_sync` (kernel -> browser)
and `_inbound` (browser -> kernel); `play`, `save_audio`, `record` and `replay` are done by
`_media`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import pathlib
import sys
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable
from typing import Any

import anywidget
import traitlets

from realtime_widget.client import Reply, ResponseHandle
from realtime_widget.runtime import get_runtime
from realtime_widget.widget import _media
from realtime_widget.widget._caption_settings import CaptionSettings, initial_caption_settings
from realtime_widget.widget._captions import (
    CAPTION_MODES,
    OFFLINE_CAPTIONS_NOTICE,
    CaptionSync,
    check_mode,
)
from realtime_widget.widget._clear import new_conversation
from realtime_widget.widget._events import DEFAULT_INTERRUPT_GUARD_MS
from realtime_widget.widget._inbound import Inbound
from realtime_widget.widget._items import transcript_markdown
from realtime_widget.widget._session import (
    OFFLINE_NOTICE,
    caption_session,
    connection_failure,
    open_connection,
)
from realtime_widget.widget._settings import LiveSettings
from realtime_widget.widget._sync import WidgetSync
from realtime_widget.widget._turns import TurnLog, plot_timeline

__all__ = ["RealtimeWidget"]

logger = logging.getLogger("realtime_widget.widget")

_STATIC = pathlib.Path(__file__).parent.parent / "static"
_NOT_BUILT = (
    "export default { render({ el }) { el.textContent = 'realtime_widget: the front end is not "
    "built; run `npm run build` (or `make build`) in the repository.'; } };"
)
_DEFAULT_VAD: dict[str, Any] = {
    "type": "server_vad",
    "threshold": 0.5,
    "prefix_padding_ms": 300,
    "silence_duration_ms": 500,
    "interrupt_response": True,
}
_BROWSER_KEPT = frozenset({"items_snapshot", "event_log"})
"""Saved-state traits the browser updates locally from frame patches (docs/widget-protocol.md)."""


def _asset(name: str, missing: str) -> str | pathlib.Path:
    """A front-end file's contents, or its path while anywidget's hot reload is on.

    Given a path, anywidget connects every new widget to the file's change signal with a
    callback holding the widget (for hot reload), so no widget could ever be garbage collected
    and its session and server never released (issue 13). Text has no such signal. With
    ``ANYWIDGET_HMR=1`` (front-end development) the path is kept, and widgets with it.
    """
    path = _STATIC / name
    if not path.exists():
        return missing
    if os.environ.get("ANYWIDGET_HMR") == "1":
        return path
    text = path.read_text(encoding="utf-8")
    # anywidget takes a one-line string with a file extension for a path: keep it multi-line.
    return text if "\n" in text.strip() else text + "\n/* realtime_widget */\n"


class RealtimeWidget(anywidget.AnyWidget):
    """A voice conversation with a realtime speech model, displayed in a notebook.

    With no arguments it talks to OpenAI (GA protocol) when ``OPENAI_API_KEY`` is set, and
    otherwise starts the embedded local server in-process and says in the UI that this is the
    offline demo and how to use a real model.

    Args:
        client: an existing `RealtimeClient` to bind to (the connection options are then unused).
        api_key: OpenAI API key (default: ``OPENAI_API_KEY``). Kept inside the client only: never
            in a trait, the event log, a repr or the saved notebook.
        model: model name (the client's default when None).
        url: a custom Realtime endpoint (Azure, a proxy, ``LocalRealtimeServer().url``).
        instructions: system instructions for the session.
        voice: output voice (e.g. "alloy", "marin").
        turn_detection: ``...`` (default) for server VAD with default settings (hands-free), a
            dict of VAD settings (e.g. ``{"threshold": 0.6}`` or ``{"type": "semantic_vad"}``),
            or None for push-to-talk.
        tools: functions (or tool definitions) to register, as with the ``tool`` decorator,
            and MCP tools (``{"type": "mcp", "server_label": ..., "server_url": ...}``, run by
            the server; their approval requests show as cards with Approve / Deny).
        autoconnect: connect in the background right away (the widget is live when shown).
        mode: ``"conversation"`` (default: talk with the model), ``"transcribe"`` (live
            captions: a transcription session, no model answers; ``w.captions`` exports them)
            or ``"translate"`` (live interpretation into ``language``: the translation plays
            and both transcripts show side by side).
        language: for ``"translate"``, the target language (ISO-639-1, e.g. ``"fr"``;
            required); for ``"transcribe"``, the speech's language (optional, helps accuracy).
        transcription_model: the transcription model of the caption modes (default
            ``gpt-4o-mini-transcribe``; the offline server transcribes with its own).
        interrupt_guard_ms: for this long after an answer's audio starts, server voice detection
            does not stop playback (echo of its first syllables; 0 disables the guard). See
            `interrupt_guard_ms` the attribute.
        echo_guard: in hands-free, let the browser gate residual echo of the answer out of the
            microphone (on by default; see `echo_guard` the trait). Off: everything the
            microphone hears is sent, as with headphones.
        **client_options: more `RealtimeClient` options (``dialect``, ``auto_reconnect``, ...).
    """

    _esm = _asset("widget.js", _NOT_BUILT)
    _css = _asset("widget.css", "")

    _instance_id = traitlets.Unicode().tag(sync=True)
    """A unique id of this widget: the browser keys its one controller and audio engine per widget
    by it (anywidget hands each view and `initialize` a different model proxy object)."""

    status = traitlets.Unicode("disconnected").tag(sync=True)
    """Connection status: "disconnected", "connecting", "connected", "reconnecting" or "error"."""

    items_snapshot = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Saved copy of the conversation without audio (list of item views): sent by the kernel when
    a view opens, on disconnect and on close; live changes travel as frame patches, which the
    browser also applies to its copy of this trait (so a notebook saved from the browser holds the
    current conversation) without sending it back: traffic does not grow with the conversation.
    Read `items` for the current state."""

    settings = traitlets.Dict().tag(sync=True)
    """Session settings, editable in the browser or here: ``voice``, ``instructions``,
    ``turn_detection`` (server VAD ``threshold``, ``prefix_padding_ms``,
    ``silence_duration_ms``, ``interrupt_response``: whether speech cuts the answer),
    ``text_only`` (answers in text, no audio), ``input_transcription`` (transcribe the user's
    speech), ``model`` (applies at the next connection) and ``mic_device`` (the browser's
    microphone ``deviceId``; "" for the default). Applied on connect, and at once through
    ``session.update`` when changed while connected; the voice only until the session's first
    audio (an API rule). A refused change is undone and marked in `settings_status`.
    In ``mode="transcribe"``: ``transcription_model``, ``language`` (a hint; "" to detect),
    ``prompt``, ``noise_reduction`` ("", "near_field", "far_field") and ``turn_detection``
    (``threshold``, ``prefix_padding_ms``, ``silence_duration_ms``); in ``mode="translate"``:
    ``language`` (the target), ``transcription_model`` (the source transcript's; "" for none)
    and ``noise_reduction`` (widget/_caption_settings.py)."""

    settings_status = traitlets.Dict().tag(sync=True)
    """What the settings panel shows beside the fields (kernel -> browser): ``voices`` and
    ``models`` (the choices, from the installed ``openai`` SDK), ``model`` (the connection's),
    ``voice_locked`` (why the voice cannot change now, or ""), ``refused`` (field -> the
    server's message for a refused update; the field is back to the session's value) and
    ``model_note`` (when a new model applies). The caption modes add ``transcription_models``,
    ``languages`` (``[code, name]`` of the translation targets), ``noise_reductions`` and
    ``notes`` (field -> a notice, e.g. a new session opened for a new target language)."""

    turn_stats = traitlets.List(traitlets.Dict()).tag(sync=True)
    """What the view draws on each turn (the last 100 turns): ``turn``, ``user_item_id``,
    ``assistant_item_ids``, ``latency_ms``, ``interrupted``, ``user_levels`` and
    ``assistant_levels`` (RMS 0..1 in a few bins, for the level strips). Read `turns`."""

    hands_free = traitlets.Bool(True).tag(sync=True)
    """True: server voice detection decides turns; False: push-to-talk (no turn detection)."""

    echo_guard = traitlets.Bool(True).tag(sync=True)
    """Hands-free on speakers: the browser gates residual echo of the answer out of the
    microphone before it is sent (it compares the capture with what it plays; frames where the
    user's voice dominates pass, with a hangover), so the echo canceller's leaks do not cut the
    answer while the user talking over it still does. No effect in push-to-talk. Settable."""

    response_active = traitlets.Bool(False).tag(sync=True)
    """Whether the model is generating a response (what the Stop button would cut)."""

    usage = traitlets.Dict().tag(sync=True)
    """Token usage summed over the session's responses (``input_tokens``, ``output_tokens``,
    ``total_tokens``, ``responses``, ...)."""

    event_log = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Saved copy of the last 500 event-log entries (direction, time, type, count, redacted JSON;
    audio appends and deltas folded into one counter per turn or response); kept like
    `items_snapshot`: live entries travel in frames."""

    errors = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The last 50 errors: ``{"time", "source", "code", "message"}``; ``source`` is "server",
    "connection", "browser" or "kernel" (tool failures show on their tool-call card). The same
    error again moves to the end with ``"count"`` (2, 3, ...) rather than being listed twice."""

    notice = traitlets.Unicode("").tag(sync=True)
    """Shown above the conversation (the offline-demo notice, or "")."""

    server_label = traitlets.Unicode("").tag(sync=True)
    """Who answers, without secrets (e.g. "OpenAI gpt-realtime-2")."""

    mode = traitlets.Unicode("conversation").tag(sync=True)
    """"conversation", "transcribe" (live captions) or "translate" (live translation); set by
    the constructor, shown in the widget's header."""

    language = traitlets.Unicode("").tag(sync=True)
    """The target language of the translate mode (ISO-639-1), or the speech's language given to
    the transcribe mode ("" when none)."""

    def __init__(
        self,
        client: Any = None,
        *,
        api_key: str | None = None,
        model: str | None = None,
        url: str | None = None,
        instructions: str | None = None,
        voice: str | None = None,
        turn_detection: Any = ...,
        tools: Iterable[Any] = (),
        autoconnect: bool = True,
        interrupt_guard_ms: float = DEFAULT_INTERRUPT_GUARD_MS,
        echo_guard: bool = True,
        mode: str = "conversation",
        language: str | None = None,
        transcription_model: str | None = None,
        **client_options: Any,
    ) -> None:
        # Checked first: a typo raises before any server or socket is started.
        mode, language = check_mode(mode, language, transcription_model, client is not None)
        # Push-to-talk (None) still keeps VAD values, for when Hands-free is switched on.
        vad: dict[str, Any] = dict(_DEFAULT_VAD)
        if isinstance(turn_detection, str):
            turn_detection = {"type": turn_detection}
        if isinstance(turn_detection, dict):
            kind = turn_detection.get("type", "server_vad")
            # Other detectors (semantic_vad) take other settings: use theirs as given.
            vad = {**_DEFAULT_VAD, **turn_detection} if kind == "server_vad" else turn_detection
        hands_free = turn_detection is not None
        if client is not None and turn_detection is ...:
            # Bound to the caller's client: show its turn detection, do not impose ours.
            current = (client.session_config.get("audio") or {}).get("input") or {}
            hands_free = current.get("turn_detection") is not None
            vad = current.get("turn_detection") or vad
        settings: dict[str, Any] = {"turn_detection": vad}
        if voice is not None:
            settings["voice"] = voice
        if instructions is not None:
            settings["instructions"] = instructions
        if mode in CAPTION_MODES:  # a caption session's own settings (no voice, no answers)
            settings = initial_caption_settings(mode, language, transcription_model, vad)
        connection = open_connection(
            client,
            api_key=api_key,
            model=model,
            url=url,
            client_options=client_options,
        )
        self._client = connection.client
        self._server = connection.server
        self._lease = connection.lease
        self._fallback_hint = connection.fallback_hint
        self._connect_failure: str | None = None  # why the last attempt failed (for send_text)
        self._connecting: concurrent.futures.Future | None = None  # the latest background connect
        self._owns_client = client is None  # a client passed in is the caller's to disconnect
        # The caption modes' session (None in a conversation); the client stays unconnected.
        self._captioner: Any = (
            caption_session(self._client, mode, language, transcription_model)
            if mode in CAPTION_MODES
            else None
        )
        self._caption_sync: CaptionSync | None = None
        self._caption_settings: CaptionSettings | None = None
        # Settings to push to a client that is already connected when the widget binds to it.
        self._explicit = bool(voice or instructions) or turn_detection is not ...
        self._state_lock = threading.RLock()
        self._closed = False
        super().__init__(
            _instance_id=uuid.uuid4().hex,
            settings=settings,
            hands_free=hands_free,
            echo_guard=bool(echo_guard),
            notice=(
                OFFLINE_CAPTIONS_NOTICE
                if mode in CAPTION_MODES and connection.notice == OFFLINE_NOTICE
                else connection.notice
            ),
            server_label=connection.label,
            mode=mode,
            language=language or "",
        )
        runtime = get_runtime()
        self._runtime = runtime
        # The runtime keeps the client (its socket's tasks), the client keeps the sync's
        # listeners: those reach the widget only weakly, so a widget nobody else holds can be
        # collected (ipywidgets' `__del__` then closes it: session ended, server given back).
        self._sync = WidgetSync(
            self._client, _weakly(self.send), _weakly(self._apply_traits), runtime.loop
        )
        self._sync.interrupt_guard_ms = float(interrupt_guard_ms)
        if self._captioner is not None:
            self._caption_sync = CaptionSync(self._captioner, self._sync, mode)
        for fn in tools:
            self._client.add_tool(fn)
        self._live_settings = LiveSettings(
            self._client, _weakly(self._apply_traits), self._sync.add_error
        )
        self.settings_status = self._live_settings.status()
        if self._captioner is not None:
            reopen = weakref.WeakMethod(self._reopen_captions)
            self._caption_settings = CaptionSettings(
                self._captioner,
                mode,
                settings,
                _weakly(self._apply_traits),
                self._sync.add_error,
                reconnect=lambda: (reopen() or _nothing)(),
                submit=runtime.submit,
            )
            # The session starts with the widget's settings (e.g. its turn_detection=).
            self._caption_settings.apply(dict(settings))
            self.settings_status = self._caption_settings.status()
        self._turn_log = TurnLog(self._client, _weakly(self._apply_traits))
        # Browser -> kernel. It reaches the widget only weakly (send, connect, disconnect):
        # the sync holds it, for the truncate when no view answers a `clear` frame.
        self._inbound = Inbound(
            self._client,
            self._sync,
            self._turn_log,
            self._captioner,
            send=_weakly_send(self),
            connect=_weakly(self._start_connect),
            disconnect=_weakly(self._start_disconnect),
        )
        self._sync.on_interrupt_timeout = self._inbound.truncate_at_last_reports
        self.on_msg(self._on_browser_msg)
        if autoconnect:
            self._start_connect()

    def __repr__(self) -> str:
        # Cheap and secret-free (no key, no audio, no item text).
        mode = f", mode={self.mode!r}" if self.mode != "conversation" else ""
        return (
            f"RealtimeWidget(status={self.status!r}, items={len(self._sync.views)}, "
            f"server={self.server_label!r}{mode})"
        )

    # ------------------------------------------------------------------ state
    @property
    def client(self) -> Any:
        """The bound `RealtimeClient` (events, tools, usage, lower-level control)."""
        return self._client

    @property
    def captions(self) -> Any:
        """The live captions of the transcribe and translate modes (a
        :class:`~realtime_widget.captions.Captions`: ``segments``, ``to_markdown()``,
        ``to_srt()``, ``to_records()`` for a DataFrame), or None in a conversation."""
        return self._captioner.captions if self._captioner is not None else None

    @property
    def caption_session(self) -> Any:
        """The `RealtimeTranscriber` / `RealtimeTranslator` of a caption mode (events, audio
        of the translation), or None in a conversation."""
        return self._captioner

    @property
    def server(self) -> Any:
        """The embedded `LocalRealtimeServer` this widget talks to (offline), or None. The
        offline widgets of a process share it; it stops when the last of them is closed or
        garbage collected."""
        return self._server

    @property
    def items(self) -> list[dict[str, Any]]:
        """The conversation now, without audio: a list of item views (docs/widget-protocol.md)."""
        return self._sync.item_views()

    @property
    def transcript(self) -> str:
        """The conversation as Markdown (``IPython.display.Markdown(w.transcript)``)."""
        return transcript_markdown(self.items)

    @property
    def interrupt_guard_ms(self) -> float:
        """Milliseconds after an answer's audio starts during which the user's detected speech
        does not stop playback (barge-in tolerance against echo; 0: no guard). Settable."""
        return self._sync.interrupt_guard_ms

    @interrupt_guard_ms.setter
    def interrupt_guard_ms(self, value: float) -> None:
        self._sync.interrupt_guard_ms = max(0.0, float(value))

    @property
    def played_samples(self) -> dict[str, int]:
        """Samples the browser reported played, keyed ``"item_id:content_index"`` (24 kHz)."""
        return dict(self._sync.played)

    @property
    def last_truncate(self) -> dict[str, Any] | None:
        """``item_id``, ``content_index``, ``audio_end_ms`` of the last truncate sent, or None."""
        last = self._sync.last_truncate
        return dict(last) if last else None

    def set_state(self, sync_data: dict[str, Any]) -> None:
        # The browser keeps its copy of the saved-state traits current locally (model.set without
        # save_changes); ipywidgets then sends them along with the next save_changes of another
        # trait (a settings edit). The kernel's own view is authoritative: drop them, which also
        # skips their echo back to the browser.
        sync_data = {k: v for k, v in sync_data.items() if k not in _BROWSER_KEPT}
        # Browser updates arrive on the kernel's thread while the runtime thread may be setting
        # traits: serialise the two (ipywidgets' own bookkeeping is not thread-safe).
        with self._state_lock:
            super().set_state(sync_data)

    def send_state(self, key: Any = None) -> None:
        # A notebook cell setting `hands_free` and the runtime thread syncing `status` may both
        # send state: one at a time.
        with self._state_lock:
            super().send_state(key)

    def _apply_traits(self, values: dict[str, Any]) -> None:
        with self._state_lock, self.hold_sync():
            for name, value in values.items():
                setattr(self, name, value)

    @traitlets.observe("hands_free", "settings")
    def _on_settings_change(self, change: dict[str, Any]) -> None:
        if getattr(self, "_sync", None) is None:
            return
        captions = getattr(self, "_caption_settings", None)
        if captions is not None:  # applied whether connected or not (kept for the connection)
            self._runtime.call_soon(captions.apply, dict(self.settings or {}))
        elif self._client.is_connected:
            self._runtime.call_soon(self._apply_session_settings)

    def _apply_session_settings(self) -> None:
        self._live_settings.apply(self.settings or {}, self.hands_free, _DEFAULT_VAD)

    # ------------------------------------------------------------------ connection
    async def _connect(self, raise_errors: bool = False) -> None:
        if self._captioner is not None:
            await self._connect_captions(raise_errors)
            return
        if self._client.is_connected:
            if self._explicit:
                self._apply_session_settings()
            self._sync.set_status("connected", immediate=True)
            return
        self._sync.set_status("connecting")
        self._live_settings.new_session()
        try:
            self._apply_session_settings()
            await self._client.connect_async()
        except asyncio.CancelledError:  # the caller's timeout: not connected, not an error
            self._sync.set_status("disconnected", immediate=True)
            raise
        except Exception as exc:  # shown in the widget; the message says what to fix
            error = connection_failure(exc, self._fallback_hint)
            self._connect_failure = str(error)
            # One alert per failure: a repeat of the same one counts up (`WidgetSync.add_error`).
            self._sync.add_error("connection", type(exc).__name__, str(error))
            self._sync.set_status("error", immediate=True)
            if raise_errors:  # connect()/connect_async(): the caller learns why, at once
                raise error from None
            return
        self._connect_failure = None
        self._sync.set_status("connected", immediate=True)

    async def _connect_captions(self, raise_errors: bool) -> None:
        session = self._captioner
        if session.is_connected:
            self._sync.set_status("connected", immediate=True)
            return
        self._sync.set_status("connecting")
        try:
            await session.connect_async()
        except asyncio.CancelledError:
            self._sync.set_status("disconnected", immediate=True)
            raise
        except Exception as exc:  # shown in the widget; the message says what to fix
            error = connection_failure(exc, self._fallback_hint)
            self._connect_failure = str(error)
            self._sync.add_error("connection", type(exc).__name__, str(error))
            self._sync.set_status("error", immediate=True)
            if raise_errors:
                raise error from None
            return
        self._connect_failure = None
        self._sync.set_status("connected", immediate=True)

    async def _reopen_captions(self) -> None:
        """A new caption session with the current settings (one the server fixes per session)."""
        await self._disconnect()
        await self._connect()

    async def _disconnect(self) -> None:
        self._connect_failure = None
        if self._captioner is not None:
            await self._captioner.disconnect_async()
            self._sync.set_status("disconnected", immediate=True)
            self._sync.refresh_snapshot()
            return
        await self._client.disconnect_async()
        self._sync.set_status("disconnected", immediate=True)
        self._sync.refresh_snapshot()

    def _start_connect(self) -> None:
        # Kept so that ask() right after the constructor waits for the autoconnect to finish.
        self._connecting = self._runtime.submit(self._connect())

    def _start_disconnect(self) -> None:
        self._runtime.submit(self._disconnect())

    def connect(self, timeout: float | None = 30.0) -> None:
        """Connect (blocking); a failure also appears in the widget. See `connect_async`.

        Raises:
            RealtimeConnectionError: the connection failed (key refused, unknown host, nothing
                listening...): the message says why, what to fix and, where it applies, how to
                use the offline model instead.
            TimeoutError: ``timeout`` seconds passed first.
        """
        self._runtime.run(self._connect(raise_errors=True), timeout)

    async def connect_async(self) -> None:
        """``await``-able twin of `connect` (for notebook cells).

        Raises:
            RealtimeConnectionError: as `connect`.
        """
        await self._runtime.run_async(self._connect(raise_errors=True))

    def disconnect(self, timeout: float | None = 10.0) -> None:
        """Disconnect (blocking); the conversation is kept. See `disconnect_async`."""
        self._runtime.run(self._disconnect(), timeout)

    async def disconnect_async(self) -> None:
        """``await``-able twin of `disconnect`."""
        await self._runtime.run_async(self._disconnect())

    def close(self) -> None:
        """Close the views; disconnect the client if this widget created it (a client passed in
        stays connected: it is the caller's) and give back the embedded server (the offline
        widgets of a process share one; it stops with the last of them, before this returns)."""
        if not hasattr(self, "_closed"):
            return  # the constructor refused its arguments: nothing was opened
        if self._closed:
            super().close()
            return
        self._closed = True
        if sys.is_finalizing():
            # Collected at interpreter exit (ipywidgets' __del__ closes): the runtime thread is
            # gone and the process frees everything; waiting for it would hang the exit.
            return
        try:
            self._save_state_now()
            if (
                self._owns_client
                and self._client.is_connected
                and not self._runtime.in_runtime_thread()
            ):
                self._runtime.run(self._client.disconnect_async(), 10.0)
            captioner = self._captioner
            if captioner is not None and not self._runtime.in_runtime_thread():
                if captioner.is_connected or captioner.is_reconnecting:
                    self._runtime.run(captioner.disconnect_async(), 10.0)
        finally:
            if self._caption_sync is not None:
                self._runtime.call_soon(self._caption_sync.close)
            if self._caption_settings is not None:
                self._runtime.call_soon(self._caption_settings.close)
            self._runtime.call_soon(self._sync.close)
            self._runtime.call_soon(self._live_settings.close)
            self._runtime.call_soon(self._turn_log.close)
            if self._lease is not None:
                self._lease.release(wait=not self._runtime.in_runtime_thread())
            super().close()

    def _save_state_now(self) -> None:
        # Closing: the saved-state traits get the whole conversation once more, read on the loop
        # that changes it.
        try:
            if self._runtime.in_runtime_thread():
                self._apply_traits(self._sync.saved_state() | self._turn_log.snapshot())
            else:
                saved = self._runtime.run(self._sync.saved_state_async(), 5.0)
                turns = self._runtime.run(self._turn_log.snapshot_async(), 5.0)
                self._apply_traits(saved | turns)
        except Exception:  # closing goes on: the saved copy is a convenience
            logger.exception("= saving the conversation into the widget state failed")

    # ------------------------------------------------------------------ conversation
    def send_text(self, text: str) -> None:
        """Send a user text message and ask for a response.

        While the client is reconnecting the message is held and sent, after the history replay,
        once the new session has started.

        Raises:
            RuntimeError: not connected (call `connect()` first or press Connect); after a failed
                connection attempt the message says why it failed.
        """
        self._require_connected()
        self._client.send_user_message_content([{"type": "input_text", "text": str(text)}])

    def _require_connected(self) -> None:
        if self._captioner is not None:
            raise RuntimeError(
                f"this widget is in mode={self.mode!r}: it only listens, no model answers; "
                "create RealtimeWidget() (mode='conversation') to talk with the model"
            )
        if not (self._client.is_connected or self._client.is_reconnecting):
            failure = self._connect_failure
            if failure:
                raise RuntimeError(f"not connected: the last connection attempt failed: {failure}")
            raise RuntimeError("not connected: call connect() (or press Connect) first")

    def ask(self, text: str, timeout: float = 60.0) -> Reply:
        """Send a user text message and block until the model has answered it.

        ``reply = w.ask("What is the speed of light?")``; ``print(reply)`` prints the answer.
        The question and answer also appear (and the answer plays) in the widget. Waits through
        tool calls: returns the answer given after the tools ran.

        Args:
            text: the user message.
            timeout: seconds to wait for the answer (the response goes on after a timeout).

        Returns:
            A ``Reply``: ``.text`` (the transcript of a spoken answer), ``.item`` (the assistant
            message), ``.result`` (the ``ResponseResult``); ``str(reply)`` is the text.

        Raises:
            RuntimeError: not connected (the message says why the last attempt failed), or
                called from an event callback (the runtime thread): use `ask_async` there.
            TimeoutError: no answer within ``timeout``; the message says what it waited for.
            ResponseError: the response failed, was cancelled or was lost with the session.
        """
        connecting = self._connecting
        if connecting is not None and not connecting.done():  # the autoconnect, still under way
            if self._runtime.in_runtime_thread():
                raise RuntimeError(
                    "ask() blocks, and this is the realtime runtime thread (an event callback?): "
                    "use `await w.ask_async()` instead"
                )
            concurrent.futures.wait([connecting], timeout)
        self._require_connected()
        try:
            return self._client.ask(text, timeout)
        except TimeoutError as exc:
            self._notice_ask_timeout(exc)
            raise

    async def ask_async(self, text: str, timeout: float = 60.0) -> Reply:
        """``await``-able twin of `ask` (``reply = await w.ask_async(...)`` in a cell)."""
        connecting = self._connecting
        if connecting is not None and not connecting.done():  # the autoconnect, still under way
            await asyncio.wait([asyncio.wrap_future(connecting)], timeout=timeout)
        self._require_connected()
        try:
            return await self._client.ask_async(text, timeout)
        except TimeoutError as exc:
            self._notice_ask_timeout(exc)
            raise

    def _notice_ask_timeout(self, exc: TimeoutError) -> None:
        # The cell's traceback may be scrolled away or the call made from a script: the widget
        # itself says that the answer is late and that it still may come (issue 15, bad input).
        message = f"{exc} (the answer may still arrive here)"
        self._runtime.call_soon(self._sync.add_error, "kernel", "ask_timeout", message)

    def cancel(self) -> None:
        """Stop: what the ■ Stop button does, from code. Returns at once; any thread.

        Stops playback in every view, cancels the active response (the answer is cut at what
        was heard) and cancels the running tool calls: async tools get
        ``asyncio.CancelledError``, sync tools are told through their
        :class:`~realtime_widget.CancelToken` (a tool without one runs on in its thread and its
        result is dropped). The model gets one "cancelled by the user" output per call and no
        answer is asked for; the cards say "cancelled" and ``w.client.tools.history`` records
        it. The conversation goes on with the next message.
        """
        self._runtime.call_soon(self._inbound.cancel_everything)

    def clear(self, timeout: float | None = 10.0) -> int:
        """Start a new conversation in the same session (the "New conversation" button).

        Cancels the active response first, then deletes every item on the server
        (``conversation.item.delete``) and waits until the server has confirmed each one, so the
        server's conversation, the client's `RealtimeConversation` and this widget's items,
        transcript, event log and playback are all empty; the session's settings, tools and usage
        are kept. Disconnected, the kept history (which the next connect would replay) is
        cleared. Export first (`realtime_widget.export`, or the download buttons) to keep it.

        Returns:
            How many items were deleted.

        Raises:
            TimeoutError: the server did not confirm the deletions within ``timeout`` seconds
                (the message says how many remain; calling again retries).
            RuntimeError: called from an event callback (the runtime thread): use `clear_async`.
        """
        if self._runtime.in_runtime_thread():
            raise RuntimeError(
                "clear() blocks, and this is the realtime runtime thread (an event callback?): "
                "use `await w.clear_async()` instead"
            )
        return self._runtime.run(self._clear(timeout), None)

    async def clear_async(self, timeout: float | None = 10.0) -> int:
        """``await``-able twin of `clear`."""
        return await self._runtime.run_async(self._clear(timeout))

    async def _clear(self, timeout: float | None) -> int:
        return await new_conversation(
            self._client, self._sync, self._turn_log, self._captioner, timeout
        )

    @property
    def turns(self) -> list[dict[str, Any]]:
        """One record per turn, oldest first (``pandas.DataFrame(w.turns)`` takes it): ``turn``
        (1, 2, ...), ``user_item_id``, ``assistant_item_ids``, ``started`` and ``ended`` (epoch
        seconds; ``ended`` None while answering), ``user_speech_s`` (seconds of speech, None for
        typed turns), ``latency_ms`` (end of the user's speech, commit or message -> first audio
        of the answer heard in the browser; None until heard), ``interrupted`` and
        ``tool_calls`` (names). The last 500 turns are kept."""
        return self._turn_log.records()

    def plot_timeline(self, title: str = "Session timeline") -> Any:
        """Plot who spoke when, the answers' latency, interruptions and tool calls.

        Returns:
            The matplotlib ``Figure`` (shown by Jupyter as the cell's result).

        Raises:
            ImportError: matplotlib is missing (the message says how to install it).
        """
        return plot_timeline(self._turn_log.spans(), title)

    def create_response(self, response: dict[str, Any] | None = None) -> ResponseHandle:
        """Ask for a response; returns its handle (see ``RealtimeClient.create_response``).

        ``{"conversation": "none", ...}`` asks for an out-of-band response (a summary, a
        classification) that runs beside the spoken one: it is neither shown nor played here,
        and its output is in the handle (``await handle`` or ``handle.result(timeout)``).

        Raises:
            RuntimeError: not connected (call `connect()` first or press Connect).
        """
        self._require_connected()
        return self._client.create_response(response)

    def send_image(
        self,
        image: Any,
        *,
        text: str | None = None,
        detail: str | None = None,
        respond: bool = True,
    ) -> None:
        """Send an image (optionally with a question) as a user message and ask for a response.

        The conversation view shows it as a thumbnail in the user's turn. Held while
        reconnecting, like `send_text`.

        Args:
            image: a matplotlib figure or axes, a PIL image, a numpy array (``HxW``, ``HxWx3``,
                ``HxWx4``; ``uint8`` or float in [0, 1]), PNG/JPEG bytes, a path to a PNG/JPEG
                file, or a ``data:image/png|jpeg;base64,`` URL.
            text: words sent in the same message ("what does this plot show?").
            detail: ``"auto"``, ``"low"`` or ``"high"``; ``None`` leaves it to the server.
            respond: ask for a response (default); ``False`` only adds the image.

        Raises:
            ImageError: (a ``ValueError``) not an image, not PNG/JPEG, over 8 MiB
                (``realtime_widget.images.MAX_IMAGE_BYTES``), or an unknown ``detail``: the
                message says what to do; nothing was sent.
            RuntimeError: not connected (call `connect()` first or press Connect).
        """
        if not (self._client.is_connected or self._client.is_reconnecting):
            raise RuntimeError("not connected: call connect() (or press Connect) first")
        self._client.send_image(image, text=text, detail=detail, respond=respond)

    def on(self, event: str, callback: Callable[[dict[str, Any]], Any]) -> Any:
        """Listen to a client event (``conversation.updated``, ``realtime.event``, ...).

        Callbacks run on the realtime runtime thread: keep them short, and do not touch
        notebook widgets from them without care.
        """
        return self._client.on(event, callback)

    def tool(self, fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Register a Python function as a tool: ``@w.tool`` or ``@w.tool(requires_approval=True)``.

        Re-running the defining cell replaces the tool and updates a live session.
        """
        return self._client.tools.tool(fn, **options)

    # ------------------------------------------------------------------ browser messages
    # ------------------------------------------------------------------ audio, record and replay
    def play(self, item_id: str | None = None) -> Any:
        """An ``IPython.display.Audio`` of one item (default: the last assistant item with audio).

        Raises:
            ValueError: the item has no audio.
        """
        return _media.play(self._client, self.items, item_id)

    def save_audio(self, path: str | pathlib.Path, item_id: str | None = None) -> pathlib.Path:
        """Write one item's audio, or the whole conversation's (in order), as a 24 kHz WAV file.

        Raises:
            ValueError: there is no audio to save.
        """
        return _media.save_audio(self._client, self.items, path, item_id)

    def record(self, path: str | pathlib.Path, **options: Any) -> Any:
        """Record this session (events both ways, audio included) to ``path`` as JSON Lines.

        The API key is never written. Returns the `Recorder`: ``.close()`` it to stop, or use it
        as a context manager.
        """
        # The transcribe and translate modes record their caption session (the client is idle);
        # ``Captions.from_recording(path)`` reads the captions back.
        session = self._captioner if self._captioner is not None else self._client
        return _media.record(session, path, **options)

    @classmethod
    def replay(cls, path: str | pathlib.Path, speed: float | None = 1.0, **options: Any) -> Any:
        """A widget that plays a recording back: transcript, audio and tool calls, at the
        original pace (``speed=2.0`` twice as fast, ``None`` at once), with no server and no key.
        """
        return _media.replay(cls, path, speed, **options)

    def _on_browser_msg(self, widget: Any, content: dict[str, Any], buffers: list) -> None:
        # Whatever thread ipykernel delivers on: copy the buffers and hand over (DESIGN §3).
        copied = [bytes(b) for b in buffers or []]
        self._runtime.call_soon(self._inbound.handle, content, copied)


def _weakly(method: Callable[..., Any]) -> Callable[..., None]:
    """``method`` of an object held weakly: a call after the object is gone does nothing."""
    ref = weakref.WeakMethod(method)

    def call(*args: Any) -> None:
        bound = ref()
        if bound is not None:
            bound(*args)

    return call


def _weakly_send(widget: RealtimeWidget) -> Callable[[dict[str, Any], list[bytes]], None]:
    """``widget.send``, looked up at each call (a test or extension may replace it on the
    instance), on a widget held weakly: a call after it is gone does nothing."""
    ref = weakref.ref(widget)

    def send(content: dict[str, Any], buffers: list[bytes]) -> None:
        alive = ref()
        if alive is not None:
            alive.send(content, buffers)

    return send


async def _nothing() -> None:
    """What a collected widget's reopening does."""


def _call_with(ref: weakref.ref, fn: Callable[[Any], Any]) -> None:
    widget = ref()
    if widget is not None:
        fn(widget)
