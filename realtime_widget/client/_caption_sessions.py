"""`RealtimeTranscriber` and `RealtimeTranslator`: the captions-only session kinds (issue 14).

They have ``RealtimeClient``'s habits without being one (a transcription session has no
responses, tools or conversation to replay; a translation session does not even speak the
Realtime conversation protocol): the same transport (:class:`~realtime_widget.api.RealtimeAPI`),
the same connection rules (``RealtimeClient``'s own collaborator
:class:`~realtime_widget.client._connection.Connection` over ``ConnectionLifecycle``), events
through :class:`~realtime_widget.events.RealtimeEventHandler` (``realtime.event`` as
``RealtimeClient`` sends it, so ``Recorder`` records them), blocking
waits with ``_async`` twins, and no key anywhere but inside the ``RealtimeAPI``. What they share
with each other is :class:`CaptionSession` and :class:`CaptionOptions` (the keywords both take,
their defaults, and the transport they open); each kind only says how its session is configured
and how its audio is sent.

Reconnect: a new session is opened with the same settings. Its audio time starts at 0 again, so
the captions' ``time_offset`` moves on by the audio sent before; audio appended while the socket
is down is held (at most ``hold_seconds``, the oldest dropped beyond it, said in an ``error``)
and sent once the new session is open.
"""

from __future__ import annotations

import datetime
import logging
from collections import deque
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from realtime_widget.api import RealtimeAPI
from realtime_widget.api._wire import DEFAULT_URL, public_url
from realtime_widget.audio import SAMPLE_RATE, as_pcm16, decode_base64, encode_base64
from realtime_widget.captions import Captions, CaptionSegment
from realtime_widget.client._connection import Connection
from realtime_widget.client._lifecycle import ConnectionLifecycle
from realtime_widget.events import RealtimeEventHandler
from realtime_widget.protocol.session_kinds import (
    DEFAULT_TRANSCRIPTION_MODEL,
    DEFAULT_TRANSLATION_MODEL,
    check_language,
    transcription_session,
    translation_session,
    translation_url,
)
from realtime_widget.runtime import Runtime, get_runtime

__all__ = ["CaptionOptions", "CaptionSession", "RealtimeTranscriber", "RealtimeTranslator"]

logger = logging.getLogger("realtime_widget.client")

_APPEND_CHUNK = SAMPLE_RATE * 10  # samples per append event: far under the 15 MiB frame cap


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


@dataclass(frozen=True)
class CaptionOptions:
    """The keywords both caption session kinds take, with their defaults (one place for them).

    ``RealtimeTranscriber`` and ``RealtimeTranslator`` keep their own explicit signatures (the
    public API), with these defaults, and hand one of these to :class:`CaptionSession`, which
    opens the transport from it and keeps nothing of it: the key stays inside the
    ``RealtimeAPI`` (and out of this object's repr).

    Args:
        api_key: the key (default ``OPENAI_API_KEY``).
        auto_reconnect: reopen a dropped session with the same settings.
        max_reconnect_attempts: attempts between two healthy sessions before giving up.
        reconnect_delay: first backoff delay in seconds.
        healthy_after: seconds a session must stay up to count as healthy.
        max_segments: caption segments kept (oldest dropped).
        hold_seconds: audio held while reconnecting.
        runtime: the runtime loop (tests); the shared one by default.
        api_params: more :class:`~realtime_widget.api.RealtimeAPI` options (``headers``,
            ``azure_endpoint``, ``debug``, ...).
    """

    api_key: str | None = field(default=None, repr=False)
    auto_reconnect: bool = True
    max_reconnect_attempts: int = 5
    reconnect_delay: float = 0.5
    healthy_after: float | None = 10.0
    max_segments: int = 2000
    hold_seconds: float = 30.0
    runtime: Runtime | None = None
    api_params: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def transport(self, url: str, **fixed: Any) -> tuple[Runtime, RealtimeAPI]:
        """The runtime and a new ``RealtimeAPI`` to ``url`` (``fixed``: the kind's own options,
        e.g. the translation ``model``)."""
        runtime = self.runtime or get_runtime()
        api = RealtimeAPI(
            url=url, api_key=self.api_key, runtime=runtime, **fixed, **self.api_params
        )
        return runtime, api


_DEFAULT = CaptionOptions  # the subclasses' signatures read their defaults here


def _off_as_null(
    session: dict[str, Any], changed: dict[str, Any], paths: dict[str, tuple[str, ...]]
) -> dict[str, Any]:
    """``session`` with the settings ``changed`` to ``None`` sent as explicit nulls.

    The builders leave an unset option out, which is right for a new session but means "keep
    it" in a ``session.update``: turning noise reduction (or a translation's source transcript)
    off mid-session needs the field present and null.
    """
    for name, path in paths.items():
        if name in changed and changed[name] is None:
            node = session
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = None
    return session


class CaptionSession(RealtimeEventHandler):
    """What the transcription and translation sessions share (see the subclasses).

    Events (listen with :meth:`on`; callbacks run on the runtime thread): ``caption.updated``
    (``segment``: a :class:`~realtime_widget.captions.CaptionSegment` copy, ``event``: the
    server event), ``caption.completed`` (``segment``, once per segment when its words are
    final), ``session.created`` / ``session.updated`` (``session``), ``realtime.event``
    (``time``, ``source``, ``event``: every event both ways, as ``RealtimeClient`` sends it),
    ``error`` (server errors, and local ones with ``"source": "local"``), ``reconnecting``,
    ``reconnected``, ``close``.
    """

    _KIND = "session"
    _APPEND_EVENT = "input_audio_buffer.append"

    def __init__(self, options: CaptionOptions, url: str, **fixed: Any) -> None:
        """Open the transport to ``url`` with ``options`` (``fixed``: the kind's own
        ``RealtimeAPI`` options)."""
        super().__init__()
        runtime, api = options.transport(url, **fixed)
        self._runtime = runtime
        self.realtime = api
        self.captions = Captions(options.max_segments)
        """The caption segments so far (bounded; export with ``to_markdown``/``to_srt``/
        ``to_records``)."""
        self.session: dict[str, Any] | None = None
        """The session as the server last described it (``session.created``/``.updated``)."""
        self._session_created = False
        self._hold_samples = int(options.hold_seconds * SAMPLE_RATE)
        self._held: deque[np.ndarray] = deque()
        self._held_count = 0
        self._dropped_samples = 0
        self._sent_samples = 0  # this session's audio: where its time 0 is in the captions
        self.reconnect_delay = options.reconnect_delay
        """First backoff delay in seconds before reopening a dropped session (settable)."""
        self.healthy_after = options.healthy_after
        """Seconds a session must stay up to count as healthy (settable)."""
        self._connection = Connection(
            api,
            ConnectionLifecycle(options.auto_reconnect, options.max_reconnect_attempts),
            dispatch=self.dispatch,
            report=self._local_error,
            opened=self._on_open,
            lost=self._on_lost,
            ended=self._on_ended,
            healthy_after=lambda: self.healthy_after,
            reconnect_delay=lambda: self.reconnect_delay,
        )
        api.on("close", self._connection.on_close)
        api.on("client.*", self._on_client_event)
        api.on("server.*", self._on_server_event)
        api.on("error", self._on_api_error)

    def __repr__(self) -> str:
        state = "connected" if self.is_connected else "disconnected"
        return (
            f"<{type(self).__name__} {public_url(self.realtime.url)!r} {state} "
            f"segments={len(self.captions)}>"
        )

    # ------------------------------------------------------------------ state
    @property
    def is_connected(self) -> bool:
        """Whether the websocket is open."""
        return self.realtime.is_connected

    @property
    def is_reconnecting(self) -> bool:
        """Whether a dropped session is being reopened (audio appended meanwhile is held)."""
        return self._connection.is_reconnecting

    @property
    def auto_reconnect(self) -> bool:
        """Whether a dropped session is reopened with the same settings (settable)."""
        return self._connection.lifecycle.auto_reconnect

    @auto_reconnect.setter
    def auto_reconnect(self, value: bool) -> None:
        self._connection.lifecycle.auto_reconnect = bool(value)

    @property
    def segments(self) -> list[CaptionSegment]:
        """Copies of the caption segments, oldest first (``captions.segments``)."""
        return self.captions.segments

    def to_markdown(self, title: str = "Captions") -> str:
        """The captions as Markdown (see :meth:`Captions.to_markdown`)."""
        return self.captions.to_markdown(title)

    def to_srt(self, **options: Any) -> str:
        """The captions as SubRip subtitles (see :meth:`Captions.to_srt`)."""
        return self.captions.to_srt(**options)

    def to_records(self) -> list[dict[str, Any]]:
        """One dict per segment, for ``pandas.DataFrame`` (see :meth:`Captions.to_records`)."""
        return self.captions.to_records()

    # ------------------------------------------------------------------ connecting
    def connect(self, timeout: float | None = 30.0) -> None:
        """Open the session and send its settings (blocking; see :meth:`connect_async`).

        Raises:
            RealtimeConnectionError: the handshake was refused (the message says what to fix).
            RuntimeError: called on the runtime thread (an event callback: await the twin).
        """
        self._blocking("connect", self._connection.connect(), timeout)

    async def connect_async(self) -> None:
        """``await``-able twin of :meth:`connect`."""
        await self._runtime.run_async(self._connection.connect())

    def disconnect(self, timeout: float | None = 10.0) -> None:
        """Close the session; the captions are kept (the last one is made final)."""
        self._blocking("disconnect", self._disconnect(), timeout)

    async def disconnect_async(self) -> None:
        """``await``-able twin of :meth:`disconnect`."""
        await self._runtime.run_async(self._disconnect())

    async def _disconnect(self) -> None:
        await self._connection.disconnect()
        self._report(self.captions.finish())

    def close(self) -> None:
        """Disconnect (the session is not used again)."""
        if self.is_connected or self.is_reconnecting:
            self.disconnect()

    # ------------------------------------------------------------------ waiting
    def wait_for_session_created(self, timeout: float | None = 30.0) -> dict | None:
        """Block until ``session.created``; the session (``None`` on timeout).

        Raises:
            RuntimeError: not connected.
        """
        self._require("wait for the session")
        return self._blocking(
            "wait_for_session_created", self._wait_for_session_created(timeout), None
        )

    async def wait_for_session_created_async(self, timeout: float | None = 30.0) -> dict | None:
        """``await``-able twin of :meth:`wait_for_session_created`."""
        self._require("wait for the session")
        return await self._runtime.run_async(self._wait_for_session_created(timeout))

    async def _wait_for_session_created(self, timeout: float | None) -> dict | None:
        if not self._session_created:
            if await self.wait_for_next("session.created", timeout) is None:
                return None
        return self.session

    def wait_for_next_caption(self, timeout: float | None = None) -> CaptionSegment | None:
        """Block until the next segment is final; the segment (``None`` on timeout)."""
        return self._blocking("wait_for_next_caption", self._next_caption(timeout), None)

    async def wait_for_next_caption_async(
        self, timeout: float | None = None
    ) -> CaptionSegment | None:
        """``await``-able twin of :meth:`wait_for_next_caption`."""
        return await self._runtime.run_async(self._next_caption(timeout))

    async def _next_caption(self, timeout: float | None) -> CaptionSegment | None:
        event = await self.wait_for_next("caption.completed", timeout)
        return event["segment"] if event else None

    # ------------------------------------------------------------------ audio in
    def append_input_audio(self, audio: Any) -> None:
        """Send microphone audio (int16 array or PCM16 little-endian bytes, 24 kHz mono).

        Returns at once. While a dropped session is being reopened the audio is held (at most
        ``hold_seconds``) and sent when it is back.

        Raises:
            ValueError: float samples (convert with ``float_to_pcm16``), odd bytes, not mono.
            RuntimeError: not connected (and not reconnecting).
        """
        samples = as_pcm16(audio).copy()  # the caller may reuse its buffer
        self._require("append input audio", hold=True)
        if len(samples):
            self._soon(self._append, samples)

    def _append(self, samples: np.ndarray) -> None:
        if not self.is_connected:
            if self.is_reconnecting:
                self._hold(samples)
            return
        for start in range(0, len(samples), _APPEND_CHUNK):
            chunk = samples[start : start + _APPEND_CHUNK]
            self.realtime.send(self._APPEND_EVENT, {"audio": encode_base64(chunk)})
        self._sent_samples += len(samples)

    def _hold(self, samples: np.ndarray) -> None:
        self._held.append(samples)
        self._held_count += len(samples)
        # The oldest audio goes first, to the sample: what is kept is the latest hold_seconds.
        while self._held_count > self._hold_samples and self._held:
            excess = self._held_count - self._hold_samples
            oldest = self._held[0]
            cut = min(excess, len(oldest))
            if cut == len(oldest):
                self._held.popleft()
            else:
                self._held[0] = oldest[cut:]
            self._held_count -= cut
            self._dropped_samples += cut

    # ------------------------------------------------------------------ plumbing
    def _blocking(self, name: str, coro: Coroutine[Any, Any, Any], timeout: float | None) -> Any:
        if self._runtime.in_runtime_thread():
            coro.close()
            raise RuntimeError(
                f"{name}() blocks, and this is the realtime runtime thread (an event callback?): "
                f"use `await {name}_async()` instead"
            )
        return self._runtime.run(coro, timeout)

    def _soon(self, fn: Any, *args: Any) -> None:
        if self._runtime.in_runtime_thread():
            self._guarded(fn, args)
        else:
            self._runtime.call_soon(self._guarded, fn, args)

    def _guarded(self, fn: Any, args: tuple) -> None:
        try:
            fn(*args)
        except Exception as exc:  # raised on the loop after the caller returned: report it
            logger.exception("= %s failed", getattr(fn, "__name__", fn))
            self._local_error("client_failed", f"{getattr(fn, '__name__', fn)}: {exc}")

    def _require(self, action: str, *, hold: bool = False) -> None:
        if self.is_connected or (hold and self.is_reconnecting):
            return
        failure = self._connection.failure
        if failure:
            raise RuntimeError(
                f"cannot {action}: not connected; the last connect() failed: {failure}"
            )
        raise RuntimeError(f"cannot {action}: not connected; call connect() first")

    def _local_error(self, code: str, message: str) -> None:
        error = {"type": "client_error", "code": code, "message": message}
        self.dispatch("error", {"type": "error", "source": "local", "error": error})

    def _report(self, segment: CaptionSegment | None, event: dict | None = None) -> None:
        if segment is not None:
            self.dispatch(
                "caption.updated", {"type": "caption.updated", "segment": segment, "event": event}
            )
        for done in self.captions.pop_finished():
            self.dispatch("caption.completed", {"type": "caption.completed", "segment": done})

    # ------------------------------------------------------------------ the session's life
    def _session_update(self) -> dict[str, Any]:
        raise NotImplementedError

    _settings: dict[str, Any]
    _NULLABLE: dict[str, tuple[str, ...]] = {}

    def _change_settings(self, settings: dict[str, Any], build: Any) -> None:
        """Merge ``settings`` into the kind's settings (checked by ``build``, which raises
        before anything changes) and send the new session when connected."""
        unknown = set(settings) - set(self._settings)
        if unknown:
            raise ValueError(
                f"unknown {self._KIND} setting(s) {sorted(unknown)}: use {sorted(self._settings)}"
            )
        merged = {**self._settings, **settings}
        session = _off_as_null(build(**merged), settings, self._NULLABLE)
        self._settings = merged
        if self.is_connected:
            self._soon(self.realtime.send, "session.update", {"session": session})

    def _on_open(self, reconnected: bool) -> int:
        self._session_created = False
        self.session = None
        # The new session's audio time starts at 0: its captions follow what came before.
        self.captions.time_offset += self._sent_samples / SAMPLE_RATE
        self._sent_samples = 0
        self.realtime.send("session.update", {"session": self._session_update()})
        held, self._held = self._held, deque()
        self._held_count = 0
        for samples in held:
            self._append(samples)
        if self._dropped_samples:
            seconds = self._dropped_samples / SAMPLE_RATE
            self._dropped_samples = 0
            self._local_error(
                "audio_dropped",
                f"{seconds:.1f} s of audio spoken while reconnecting was not transcribed "
                "(more than hold_seconds were held)",
            )
        return 0  # nothing to replay: a caption session has no history to seed

    def _on_lost(self, reconnecting: bool) -> None:
        self._session_created = False
        self._report(self.captions.finish())  # a turn cut by the drop will not go on

    def _on_ended(self) -> int:
        """The session ended for good: audio held for a reconnect is dropped; how many sends."""
        dropped = len(self._held)
        self._held.clear()
        self._held_count = 0
        return dropped

    def _on_client_event(self, event: dict) -> None:
        self.dispatch(
            "realtime.event",
            {"type": "realtime.event", "time": _now(), "source": "client", "event": event},
        )

    def _on_server_event(self, event: dict) -> None:
        self.dispatch(
            "realtime.event",
            {"type": "realtime.event", "time": _now(), "source": "server", "event": event},
        )
        kind = event["type"]
        try:
            handler = self._HANDLERS.get(kind)
            if handler is not None:
                handler(self, event)
            self._report(self.captions.process_event(event), event)
        except Exception as exc:  # their fault (a malformed event): report it, keep going
            logger.warning("< %s: malformed server event ignored (%r)", kind, exc)
            self._local_error(
                "malformed_event", f"server sent a malformed {kind!r} event, ignored: {exc!r}"
            )

    def _on_api_error(self, event: dict) -> None:
        error = event.get("error") or {}
        if event.get("source") != "local":
            logger.warning(
                "< server error %s: %s",
                error.get("code") or error.get("type"),
                error.get("message"),
            )
        self.dispatch("error", event)

    def _on_session_created(self, event: dict) -> None:
        self.session = event.get("session")
        self._session_created = True
        self._connection.on_session_created(event)
        self.dispatch("session.created", {"type": "session.created", "session": self.session})

    def _on_session_updated(self, event: dict) -> None:
        self.session = event.get("session")
        self._connection.on_session_updated(event)
        self.dispatch("session.updated", {"type": "session.updated", "session": self.session})

    _HANDLERS: dict[str, Any] = {
        "session.created": _on_session_created,
        "session.updated": _on_session_updated,
    }


class RealtimeTranscriber(CaptionSession):
    """Live captions of speech: a transcription session (``session.type: "transcription"``).

    No model answers; each speech turn (server VAD, or :meth:`commit` with manual turns)
    becomes a caption segment whose words stream in (``partial``) and then settle (``text``).
    Threading, waiting and events as :class:`CaptionSession` (and ``RealtimeClient``).

    Args:
        model: the transcription model (one of
            :data:`~realtime_widget.protocol.session_kinds.TRANSCRIPTION_MODELS`).
        language: the speech's language (ISO-639-1, e.g. ``"en"``), or ``None`` to detect it.
        prompt: words or a style to guide the transcription.
        turn_detection: ``...`` for server VAD with its defaults, a dict of VAD settings, or
            ``None`` for manual turns (:meth:`commit`).
        noise_reduction: ``"near_field"``, ``"far_field"`` or ``None``.
        include: extra fields, e.g. ``["item.input_audio_transcription.logprobs"]``.
        url: the Realtime endpoint (default OpenAI's; ``LocalRealtimeServer().url``).
        api_key: the key (default ``OPENAI_API_KEY``), kept inside the ``RealtimeAPI`` only.
        auto_reconnect: reopen a dropped session with the same settings.
        max_reconnect_attempts: attempts between two healthy sessions before giving up.
        reconnect_delay: first backoff delay in seconds.
        healthy_after: seconds a session must stay up to count as healthy.
        max_segments: caption segments kept (oldest dropped).
        hold_seconds: audio held while reconnecting.
        runtime: the runtime loop (tests); the shared one by default.
        **api_params: more :class:`~realtime_widget.api.RealtimeAPI` options (``headers``,
            ``azure_endpoint``, ``debug``, ...).

    Raises:
        ValueError: an unknown transcription model, a malformed language (nothing is opened).

    Example:
        >>> with_server = RealtimeTranscriber(url=server.url, api_key=key)  # doctest: +SKIP
        >>> with_server.connect(); with_server.append_input_audio(samples)   # doctest: +SKIP
        >>> with_server.wait_for_next_caption(10).text                       # doctest: +SKIP
    """

    _KIND = "transcription"
    _APPEND_EVENT = "input_audio_buffer.append"
    _NULLABLE = {"noise_reduction": ("audio", "input", "noise_reduction")}

    def __init__(
        self,
        *,
        model: str = DEFAULT_TRANSCRIPTION_MODEL,
        language: str | None = None,
        prompt: str | None = None,
        turn_detection: dict[str, Any] | Any | None = ...,
        noise_reduction: str | None = None,
        include: list[str] | None = None,
        url: str | None = None,
        api_key: str | None = _DEFAULT.api_key,
        auto_reconnect: bool = _DEFAULT.auto_reconnect,
        max_reconnect_attempts: int = _DEFAULT.max_reconnect_attempts,
        reconnect_delay: float = _DEFAULT.reconnect_delay,
        healthy_after: float | None = _DEFAULT.healthy_after,
        max_segments: int = _DEFAULT.max_segments,
        hold_seconds: float = _DEFAULT.hold_seconds,
        runtime: Runtime | None = _DEFAULT.runtime,
        **api_params: Any,
    ) -> None:
        self._settings: dict[str, Any] = {
            "model": model,
            "language": language,
            "prompt": prompt,
            "turn_detection": turn_detection,
            "noise_reduction": noise_reduction,
            "include": include,
        }
        transcription_session(**self._settings)  # bad input raises here, before any socket
        options = CaptionOptions(
            api_key=api_key,
            auto_reconnect=auto_reconnect,
            max_reconnect_attempts=max_reconnect_attempts,
            reconnect_delay=reconnect_delay,
            healthy_after=healthy_after,
            max_segments=max_segments,
            hold_seconds=hold_seconds,
            runtime=runtime,
            api_params=api_params,
        )
        if url is None:  # OpenAI's documented way to ask for a transcription session
            url = DEFAULT_URL + "?intent=transcription"
        super().__init__(options, url)

    @property
    def settings(self) -> dict[str, Any]:
        """The transcription settings (a copy): ``model``, ``language``, ``prompt``, ..."""
        return dict(self._settings)

    def _session_update(self) -> dict[str, Any]:
        return transcription_session(**self._settings)

    def update_session(self, **settings: Any) -> None:
        """Change settings (the constructor's names); sent at once when connected.

        Raises:
            ValueError: an unknown setting, an unknown model, a malformed language.
        """
        self._change_settings(settings, transcription_session)

    def commit(self) -> None:
        """End the current turn now (manual turns): ``input_audio_buffer.commit``.

        Raises:
            RuntimeError: not connected.
        """
        self._require("commit")
        self._soon(self.realtime.send, "input_audio_buffer.commit")

    def clear_input_audio(self) -> None:
        """Drop the audio not yet committed (``input_audio_buffer.clear``)."""
        self._require("clear input audio")
        self._soon(self.realtime.send, "input_audio_buffer.clear")

    def _on_transcription_completed(self, event: dict) -> None:
        self._connection.healthy()  # the session did its job: reconnect attempts start afresh

    _HANDLERS = {
        **CaptionSession._HANDLERS,
        "conversation.item.input_audio_transcription.completed": _on_transcription_completed,
    }


class RealtimeTranslator(CaptionSession):
    """Live interpretation: a translation session (``/v1/realtime/translations``).

    Speech in one language goes in (:meth:`append_input_audio`); the translation comes back as
    audio (``audio.delta`` events: ``audio`` an int16 array at 24 kHz, ``elapsed_ms``; all of it
    in :meth:`output_audio`, bounded by ``max_audio_seconds``) and as text, and the source words
    too when ``transcription_model`` is set: each phrase is a caption segment with ``words``
    (source) and ``translation``. Threading, waiting and events as :class:`CaptionSession`.

    Args:
        language: the target language (ISO-639-1, e.g. ``"fr"``).
        model: the translation model (the ``model`` query of the URL).
        transcription_model: transcribe the source speech with this model (``None``: only the
            translation is shown).
        noise_reduction: ``"near_field"``, ``"far_field"`` or ``None``.
        url: a Realtime endpoint (``.../v1/realtime``: ``/translations`` is appended) or the
            translations endpoint itself; default OpenAI's.
        api_key: the key (default ``OPENAI_API_KEY``), kept inside the ``RealtimeAPI`` only.
        max_audio_seconds: translated audio kept (the oldest dropped beyond it).
        auto_reconnect, max_reconnect_attempts, reconnect_delay, healthy_after, max_segments,
            hold_seconds, runtime, api_params: as :class:`RealtimeTranscriber`.

    Raises:
        ValueError: a malformed language or an unknown transcription model. A language the
            server does not translate to is its ``error`` event (``invalid_value``).
    """

    _KIND = "translation"
    _APPEND_EVENT = "session.input_audio_buffer.append"

    def __init__(
        self,
        language: str = "en",
        *,
        model: str = DEFAULT_TRANSLATION_MODEL,
        transcription_model: str | None = DEFAULT_TRANSCRIPTION_MODEL,
        noise_reduction: str | None = None,
        url: str | None = None,
        api_key: str | None = _DEFAULT.api_key,
        max_audio_seconds: float = 600.0,
        auto_reconnect: bool = _DEFAULT.auto_reconnect,
        max_reconnect_attempts: int = _DEFAULT.max_reconnect_attempts,
        reconnect_delay: float = _DEFAULT.reconnect_delay,
        healthy_after: float | None = _DEFAULT.healthy_after,
        max_segments: int = _DEFAULT.max_segments,
        hold_seconds: float = _DEFAULT.hold_seconds,
        runtime: Runtime | None = _DEFAULT.runtime,
        **api_params: Any,
    ) -> None:
        self._settings: dict[str, Any] = {
            "language": check_language(language, "the target language"),
            "transcription_model": transcription_model,
            "noise_reduction": noise_reduction,
        }
        translation_session(**self._settings)  # bad input raises here, before any socket
        options = CaptionOptions(
            api_key=api_key,
            auto_reconnect=auto_reconnect,
            max_reconnect_attempts=max_reconnect_attempts,
            reconnect_delay=reconnect_delay,
            healthy_after=healthy_after,
            max_segments=max_segments,
            hold_seconds=hold_seconds,
            runtime=runtime,
            api_params=api_params,
        )
        super().__init__(options, translation_url(url, DEFAULT_URL), model=model)
        self._max_audio = int(max_audio_seconds * SAMPLE_RATE)
        self._audio: deque[np.ndarray] = deque()
        self._audio_count = 0

    @property
    def language(self) -> str:
        """The target language (set it with :meth:`set_language`)."""
        return str(self._settings["language"])

    def set_language(self, language: str) -> None:
        """Translate into another language from now on (``session.update``).

        Raises:
            ValueError: not a two-letter ISO-639-1 code.
        """
        self.update_session(language=language)

    @property
    def settings(self) -> dict[str, Any]:
        """The translation settings (a copy): ``language``, ``transcription_model``,
        ``noise_reduction``."""
        return dict(self._settings)

    def update_session(self, **settings: Any) -> None:
        """Change settings (``language``, ``transcription_model``, ``noise_reduction``: the
        constructor's names); sent at once when connected (``session.update``). Whether the
        server changes them mid-session is its to say (an ``error`` event if not).

        Raises:
            ValueError: an unknown setting, a malformed language, an unknown model.
        """
        if "language" in settings:
            settings["language"] = check_language(settings["language"], "the target language")
        self._change_settings(settings, translation_session)

    def output_audio(self) -> np.ndarray:
        """The translated audio received so far (int16, 24 kHz; at most ``max_audio_seconds``)."""
        chunks = list(self._audio)
        return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)

    _NULLABLE = {
        "transcription_model": ("audio", "input", "transcription"),
        "noise_reduction": ("audio", "input", "noise_reduction"),
    }

    def _session_update(self) -> dict[str, Any]:
        return translation_session(**self._settings)

    async def _disconnect(self) -> None:
        # session.close asks the server to translate the phrase still being spoken first.
        if self.is_connected:
            self.realtime.send("session.close")
            await self.wait_for_next("session.closed", 5.0)
        await super()._disconnect()

    def _on_output_audio_delta(self, event: dict) -> None:
        samples = decode_base64(event["delta"])
        self._audio.append(samples)
        self._audio_count += len(samples)
        while self._audio_count > self._max_audio and self._audio:
            self._audio_count -= len(self._audio.popleft())
        self._connection.healthy()
        self.dispatch(
            "audio.delta",
            {"type": "audio.delta", "audio": samples, "elapsed_ms": event.get("elapsed_ms")},
        )

    def _on_session_closed(self, event: dict) -> None:
        self.dispatch("session.closed", {"type": "session.closed"})

    _HANDLERS = {
        **CaptionSession._HANDLERS,
        "session.output_audio.delta": _on_output_audio_delta,
        "session.closed": _on_session_closed,
    }
