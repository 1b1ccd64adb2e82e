"""The I/O of one translation connection (``/v1/realtime/translations``, issue 14).

Thin, like ``app.py`` around :class:`~realtime_widget.server.state.SessionState`: a reader feeds
frames to :class:`~realtime_widget.server._translation.TranslationState`, a writer drains the
connection's bounded :class:`~realtime_widget.server._outbox.Outbox`, and a worker runs each
spoken phrase through speech-to-text, the translator and speech in the target language on the
server's speech-to-text thread (phrases in order; the loop that serves every session stays
free). ``session.closed`` is followed by a normal close (1000); the session's maximum duration
by an error and 1001, as in realtime sessions.

What it uses of the server is handed to it in a :class:`TranslationHost` (settings, the
writer, the lagging-client close, the speech-to-text thread): this module does not know the
server's class.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from realtime_widget.server._limits import Limits
from realtime_widget.server._outbox import Outbox
from realtime_widget.server._translation import TranslationJob, TranslationState
from realtime_widget.server.translator import Translator

__all__ = ["DEFAULT_MODEL", "Stages", "TranslationHost", "serve_translation"]

DEFAULT_MODEL = "gpt-realtime-translate"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stages:
    """What turns a phrase into its translation (all blocking: run on a worker thread).

    Attributes:
        transcribe: ``(int16, rate) -> text`` in the source language.
        translate: ``(text, language) -> text``.
        speak: ``(text, language) -> int16 at 24 kHz``.
    """

    transcribe: Callable[[np.ndarray, int], str]
    translate: Translator
    speak: Callable[[str, str], np.ndarray]

    def run(self, job: TranslationJob) -> tuple[str, str, np.ndarray | None]:
        """``(source text, translation, its speech)`` of one phrase."""
        source = str(self.transcribe(job.audio, 24000)).strip()
        if not source:
            return "", "", None
        translation = str(self.translate(source, job.language)).strip()
        audio = self.speak(translation, job.language) if translation else None
        return source, translation, audio


@dataclass(frozen=True)
class TranslationHost:
    """What a translation connection uses of the server that accepted it.

    Attributes:
        now: Unix time when the connection opened (the session's expiry is counted from it).
        max_session_seconds: the session's maximum duration; then an error and close 1001.
        vad: the voice detector that cuts phrases (``vad.choose_vad``'s name).
        limits: the server's bounds (input audio, pending phrases' audio).
        max_pending_bytes: the connection's outbox bound; past it the client is dropped.
        sessions: the server's live translation sessions: this connection's state is in it
            while the connection lives.
        write: drains an outbox into the connection until it closes (the realtime sessions'
            writer).
        drop: ``drop(ws, reason)`` closes a connection whose client stopped reading (1008).
        stt_executor: the speech-to-text thread (shared with realtime sessions'
            transcriptions, so that phrases and turns never compete for the cores).
        server_error: the ``error`` event reporting a bug of the server (the session goes on).
    """

    now: float
    max_session_seconds: float
    vad: str | None
    limits: Limits
    max_pending_bytes: int
    sessions: set[TranslationState]
    write: Callable[[ServerConnection, Outbox], Awaitable[None]]
    drop: Callable[[ServerConnection, str], None]
    stt_executor: Callable[[], concurrent.futures.Executor]
    server_error: Callable[[Exception], dict]


async def serve_translation(
    host: TranslationHost, ws: ServerConnection, session: dict | None, stages: Stages
) -> None:
    """Run one translation connection until it closes.

    Args:
        host: what the connection uses of the server (settings, writer, threads).
        ws: the open connection.
        session: a translation client secret's session to start from, or ``None``.
        stages: what turns a phrase into its translation.
    """
    request = ws.request
    assert request is not None
    model = (parse_qs(urlsplit(request.path).query).get("model") or [DEFAULT_MODEL])[0]
    state = TranslationState(
        model=model,
        now=host.now,
        max_session_seconds=host.max_session_seconds,
        vad=host.vad,
        limits=host.limits,
        session=session,
    )
    host.sessions.add(state)
    outbox = Outbox(host.max_pending_bytes, lambda reason: host.drop(ws, reason))
    jobs = asyncio.Event()
    tasks = [
        asyncio.create_task(host.write(ws, outbox)),
        asyncio.create_task(_work(host, state, outbox, jobs, stages)),
        asyncio.create_task(_expire(host.max_session_seconds, state, outbox)),
    ]
    for event in state.start():
        outbox.put_nowait(event)
    try:
        async for frame in ws:
            if outbox.overflowed or state.closed:
                continue  # closing: read (not to block the client) and ignore
            try:
                events = state.receive(frame)
            except Exception as exc:  # a server bug must not end the session: report it
                log.exception("= embedded server failed on a translation event")
                events = [host.server_error(exc)]
            for event in events:
                outbox.put_nowait(event)
            if state.jobs:
                jobs.set()
            if state.closed:
                outbox.put_close(1000, "session closed")
    except ConnectionClosed:
        pass
    finally:
        for task in tasks:  # the connection is closed: nothing more can be sent
            task.cancel()
        host.sessions.discard(state)


async def _work(
    host: TranslationHost,
    state: TranslationState,
    outbox: Outbox,
    jobs: asyncio.Event,
    stages: Stages,
) -> None:
    loop = asyncio.get_running_loop()
    while True:
        await jobs.wait()
        jobs.clear()
        while state.jobs:
            job = state.jobs.popleft()
            try:
                source, translation, audio = await loop.run_in_executor(
                    host.stt_executor(), stages.run, job
                )
                events = state.provide(job.id, source, translation, audio)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one phrase fails; the session goes on
                log.warning("= translating a phrase failed: %s", exc)
                events = state.fail(
                    job.id, f"Translating a phrase failed: {type(exc).__name__}: {exc}"
                )
            for event in events:
                outbox.put_nowait(event)
            if state.closed:
                outbox.put_close(1000, "session closed")
                return


async def _expire(max_session_seconds: float, state: TranslationState, outbox: Outbox) -> None:
    await asyncio.sleep(max_session_seconds)
    minutes = max_session_seconds / 60
    events = state.expire(round(minutes) if minutes >= 1 else round(minutes, 3))
    for event in events:
        outbox.put_nowait(event)
    outbox.put_close(1001, events[0]["error"]["message"])
