"""Replaying a recording: into a ``RealtimeConversation``, or through a client-like object.

Two ways, one core (``apply_entry``):

- :func:`replay_conversation` feeds the recorded events into a ``RealtimeConversation`` (at the
  original pace, faster, or at once) and returns it: transcript, audio and tool calls rebuilt.
- :class:`ReplayClient` is a ``RealtimeClient`` whose transport is the file instead of a
  websocket: ``connect()`` starts playing the server events (and the client's, for the event
  log) on the runtime loop, through the same reducer and custom events a live client uses, so
  anything bound to a client -- the widget, exporters, listeners -- works unchanged, with no
  server and no key. It is in relay mode: it never answers tools or sends anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pathlib
import threading
import time
from typing import Any

from realtime_widget.api import RealtimeAPI
from realtime_widget.client import RealtimeClient
from realtime_widget.conversation import RealtimeConversation
from realtime_widget.protocol import normalize_server_event
from realtime_widget.recording._format import SESSION_BOUNDARIES, Entry, Recording, read_recording
from realtime_widget.recording._mirror import ClientMirror, apply_entry

__all__ = [
    "REPLAY_NOTICE",
    "ReplayAPI",
    "ReplayClient",
    "replay_conversation",
    "replay_conversation_async",
]

REPLAY_NOTICE = (
    "Replay of a recorded session: no model, no server and no API key are involved. "
    "Press Connect to play it again."
)
"""What a widget replaying a recording says in its notice line."""

logger = logging.getLogger("realtime_widget.recording")

_YIELD_EVERY = 64  # entries between yields to the loop when replaying without pacing


def _load(source: Recording | str | os.PathLike[str]) -> Recording:
    return source if isinstance(source, Recording) else read_recording(source)


def _check_speed(speed: float | None) -> float | None:
    if speed is not None and not speed > 0:
        raise ValueError(f"speed must be > 0 (2.0 = twice as fast) or None (no pacing): {speed!r}")
    return speed


def replay_conversation(
    source: Recording | str | os.PathLike[str],
    conversation: RealtimeConversation | None = None,
    *,
    speed: float | None = None,
) -> RealtimeConversation:
    """Rebuild a conversation from a recording (blocking).

    Args:
        source: a recording file or a :class:`Recording`.
        conversation: the conversation to feed (a new one by default).
        speed: 1.0 = the original pace, 2.0 = twice as fast, ``None`` = as fast as possible.

    Returns:
        The conversation, with every recorded item (text, transcripts, audio, tool calls).
    """
    recording, speed = _load(source), _check_speed(speed)
    conversation = conversation if conversation is not None else RealtimeConversation()
    mirror = ClientMirror(conversation)
    start = time.monotonic()
    for entry in recording.entries:
        if speed is not None:
            delay = start + entry.t / speed - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        apply_entry(conversation, mirror, entry)
    return conversation


async def replay_conversation_async(
    source: Recording | str | os.PathLike[str],
    conversation: RealtimeConversation | None = None,
    *,
    speed: float | None = None,
) -> RealtimeConversation:
    """``await``-able twin of :func:`replay_conversation` (sleeps without blocking the loop)."""
    recording, speed = _load(source), _check_speed(speed)
    conversation = conversation if conversation is not None else RealtimeConversation()
    mirror = ClientMirror(conversation)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for n, entry in enumerate(recording.entries):
        await _pace(loop, start, entry, speed, n)
        apply_entry(conversation, mirror, entry)
    return conversation


async def _pace(
    loop: asyncio.AbstractEventLoop, start: float, entry: Entry, speed: float | None, n: int
) -> None:
    if speed is None:
        if n % _YIELD_EVERY == 0:
            await asyncio.sleep(0)  # let audio and other sessions breathe
        return
    delay = start + entry.t / speed - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


class ReplayAPI(RealtimeAPI):
    """A ``RealtimeAPI`` whose "connection" plays a recording instead of a websocket.

    ``_connect`` starts playing; server events are dispatched exactly as ``RealtimeAPI`` does
    for received frames (``<type>``, ``server.<type>``, ``server.*``), client events as sent
    ones (``client.*``), and recorded connection ends/drops as ``replay.local``. When the file ends
    (or on disconnect) it dispatches ``close`` (code 1000, no error). :meth:`send` accepts and
    drops events: there is nobody to send them to.

    Args:
        recording: what to play.
        speed: pace factor (1.0 = original), or ``None`` for as fast as possible.
        name: shown in the URL (``replay://NAME``) and so in labels.
    """

    def __init__(self, recording: Recording, *, speed: float | None = 1.0, name: str = "") -> None:
        header = recording.header
        dialect = header.get("dialect") if header.get("dialect") in ("ga", "beta") else "ga"
        super().__init__(
            url=f"replay://{name or 'recording'}", model=header.get("model"), dialect=dialect
        )
        self._api_key = ""  # a replay has no key, whatever the environment says
        self.recording = recording
        self.speed = _check_speed(speed)
        self.finished = threading.Event()
        """Set when the last event has been played (or playing stopped)."""
        self.plays = 0
        """How many times playing started."""
        self._playing = False
        self._task: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        state = "playing" if self._playing else "stopped"
        return f"<ReplayAPI {self.url!r} {state} events={len(self.recording.entries)}>"

    @property
    def is_connected(self) -> bool:
        """True while the recording plays."""
        return self._playing

    async def _connect(self) -> None:
        if self._playing:
            return
        self._playing = True
        self.plays += 1
        self.finished.clear()
        self._task = asyncio.get_running_loop().create_task(self._play())

    async def _play(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        for n, entry in enumerate(self.recording.entries):
            await _pace(loop, start, entry, self.speed, n)
            if entry.direction == "server":
                self._dispatch_all(("server.", "server.*"), normalize_server_event(entry.event))
            elif entry.direction == "client":
                self._dispatch_all(("client.", "client.*"), entry.event)
            else:
                with contextlib.suppress(Exception):
                    self.dispatch("replay.local", entry.event)
        self._end("replay finished")

    async def _disconnect(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._end("replay stopped")

    def _end(self, reason: str) -> None:
        if not self._playing:
            return
        self._playing = False
        self.finished.set()
        with contextlib.suppress(Exception):
            self.dispatch(
                "close", {"type": "close", "code": 1000, "reason": reason, "error": False}
            )

    def _send_now(self, event: dict, raw: bool) -> None:
        logger.debug("= replay: dropped %s (nothing to send to)", event.get("type"))


class ReplayClient(RealtimeClient):
    """A ``RealtimeClient`` that plays a recorded session: no server, no key, no network.

    Bind it wherever a client goes (``RealtimeWidget(client=ReplayClient(path))``, exporters,
    listeners): :meth:`connect` starts playing at ``speed``; the conversation, the
    ``conversation.*`` / ``realtime.event`` / ``usage.updated`` events and ``close`` at the end
    come exactly as from the live session. The user's input audio items are rebuilt from the
    recorded ``input_audio_buffer.*`` events. Tools are not run (the recorded outputs are
    replayed); sending is refused with a clear error, and microphone audio is ignored.

    Args:
        source: a recording file or a :class:`Recording`.
        speed: 1.0 = original pace, 2.0 = twice as fast, ``None`` = as fast as possible.
        tools: a ``ToolRegistry`` to show (nothing is invoked).
    """

    def __init__(
        self,
        source: Recording | str | os.PathLike[str],
        *,
        speed: float | None = 1.0,
        tools: Any = None,
    ) -> None:
        recording = _load(source)
        name = pathlib.Path(source).name if isinstance(source, (str, os.PathLike)) else ""
        # The file is the transport (see _new_api): no websocket is ever made.
        self._replay_api = ReplayAPI(recording, speed=speed, name=name)
        super().__init__(relay=True, tools=tools, auto_reconnect=False, api_key="")
        self._mirror = ClientMirror(self.conversation)
        self.realtime.on("replay.local", self._on_replay_local)
        self.recording = recording

    def __repr__(self) -> str:
        state = "playing" if self.is_connected else "stopped"
        return (
            f"<ReplayClient {self.realtime.url!r} {state} "
            f"items={len(self.conversation.get_items())}>"
        )

    @property
    def speed(self) -> float | None:
        """The pace factor (``None``: as fast as possible)."""
        return self.realtime.speed

    @speed.setter
    def speed(self, value: float | None) -> None:
        self.realtime.speed = _check_speed(value)

    @property
    def finished(self) -> bool:
        """Whether the last play ran to its end (or was stopped)."""
        return self.realtime.finished.is_set()

    def play(self, timeout: float | None = None) -> bool:
        """Play the whole recording, blocking until it ends; True if it ended within ``timeout``."""
        self.connect()
        return self.wait_until_finished(timeout)

    def wait_until_finished(self, timeout: float | None = None) -> bool:
        """Block until playing ends; False on timeout."""
        return self.realtime.finished.wait(timeout)

    async def wait_until_finished_async(self, timeout: float | None = None) -> bool:
        """``await``-able twin of :meth:`wait_until_finished`."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.realtime.finished.wait, timeout)

    # ------------------------------------------------------------------ client overrides
    def _new_api(self, api_params: dict[str, Any]) -> RealtimeAPI:
        return self._replay_api

    async def _connect(self) -> None:
        if not self.is_connected and self.realtime.plays:
            # Playing again: start from an empty conversation, as the recording did.
            self.conversation.clear()
            self._forget_session_state()
            self._mirror = ClientMirror(self.conversation)
        await super()._connect()

    def _start_session(self) -> None:
        super()._start_session()
        self._mirror.committed = 0

    def _on_client_event(self, event: dict) -> None:
        self._mirror.on_client_event(event)
        # History re-sent after a recorded reconnect: the live client ignored the echoes too.
        self._carryover.replayed.update(self._mirror.replayed)
        super()._on_client_event(event)

    def _on_replay_local(self, event: dict) -> None:
        if event.get("type") in SESSION_BOUNDARIES:
            self._items.mark_unfinished_items()  # what the live client did when it lost the socket
            self._mirror.new_session()

    def _require(self, action: str, **_conditions: Any) -> None:
        # Whatever the live client would check (connected, held while reconnecting, ...): a
        # replay never sends.
        raise RuntimeError(
            f"cannot {action}: this is a replay of a recorded session (nothing is sent); "
            "use a RealtimeClient or RealtimeWidget() to talk to a model"
        )

    def append_input_audio(self, audio: Any) -> None:
        """Ignored: a replay has no one to send microphone audio to."""

    def cancel_response(self, id: str | None = None, sample_count: int = 0) -> dict | None:
        """Ignored (the recording goes on); returns the item, if known."""
        return self.conversation.get_item(id) if id else None

    def interrupt(self) -> None:
        """Ignored: the recording goes on."""
