"""The I/O of one translation connection (``/v1/realtime/translations``, issue 14).

Thin, like ``app.py`` around :class:`~realtime_widget.server.state.SessionState`: a reader feeds
frames to :class:`~realtime_widget.server._translation.TranslationState`, a writer drains the
connection's bounded :class:`~realtime_widget.server._outbox.Outbox`, and a worker runs each
spoken phrase through speech-to-text, the translator and speech in the target language on the
server's speech-to-text thread (phrases in order; the loop that serves every session stays
free). ``session.closed`` is followed by a normal close (1000); the session's maximum duration
by an error and 1001, as in realtime sessions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import numpy as np
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from realtime_widget.server._outbox import Outbox
from realtime_widget.server._translation import TranslationJob, TranslationState
from realtime_widget.server.translator import Translator

if TYPE_CHECKING:
    from realtime_widget.server.app import LocalRealtimeServer

__all__ = ["DEFAULT_MODEL", "Stages", "serve_translation"]

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


async def serve_translation(
    server: LocalRealtimeServer,
    ws: ServerConnection,
    session: dict | None,
    stages: Stages,
    server_error: Callable[[Exception], dict],
) -> None:
    """Run one translation connection until it closes.

    Args:
        server: the server (its limits, VAD, executors, clock and writer).
        ws: the open connection.
        session: a translation client secret's session to start from, or ``None``.
        stages: what turns a phrase into its translation.
        server_error: the ``error`` event reporting a bug of the server (the session goes on).
    """
    request = ws.request
    assert request is not None
    model = (parse_qs(urlsplit(request.path).query).get("model") or [DEFAULT_MODEL])[0]
    state = TranslationState(
        model=model,
        now=server.clock(),
        max_session_seconds=server.max_session_seconds,
        vad=server.vad,
        limits=server.limits,
        session=session,
    )
    server.translation_sessions.add(state)
    outbox = Outbox(server.max_pending_bytes, lambda reason: server._drop(ws, reason))
    jobs = asyncio.Event()
    tasks = [
        asyncio.create_task(server._writer(ws, outbox)),
        asyncio.create_task(_work(server, state, outbox, jobs, stages)),
        asyncio.create_task(_expire(server, state, outbox)),
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
                events = [server_error(exc)]
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
        server.translation_sessions.discard(state)


async def _work(
    server: LocalRealtimeServer,
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
                    server._stt_executor(), stages.run, job
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


async def _expire(server: LocalRealtimeServer, state: TranslationState, outbox: Outbox) -> None:
    await asyncio.sleep(server.max_session_seconds)
    minutes = server.max_session_seconds / 60
    events = state.expire(round(minutes) if minutes >= 1 else round(minutes, 3))
    for event in events:
        outbox.put_nowait(event)
    outbox.put_close(1001, events[0]["error"]["message"])
