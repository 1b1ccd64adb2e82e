"""A notebook's view of a session behind the fault proxy (shared by tests and the bench).

Not a test module. :class:`Rig` starts the embedded server and a :class:`FaultProxy` on the shared
runtime loop (where a kernel's sessions live, DESIGN §3) and a client or widget pointed at the
proxy; the test's own thread plays the notebook: it only calls public *sync* methods, as a cell
would. :class:`EscapeGuard` catches what must never happen in a kernel: an exception reaching
``threading.excepthook``, ``sys.unraisablehook``, the runtime loop's exception handler, or a
realtime_widget logger at ERROR (where the library logs the crashes it contained).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_widget.client import RealtimeClient
from realtime_widget.runtime import get_runtime
from realtime_widget.server import EchoBrain, LocalRealtimeServer, ScriptedBrain
from realtime_widget.testing.faults import FaultProxy
from tests.helpers import UNIT

__all__ = ["EscapeGuard", "Rig", "item_words", "quick_voice", "wait_until"]

EVENTS = ("error", "close", "reconnecting", "reconnected", "conversation.item.completed")


def quick_voice(text: str) -> np.ndarray:
    """A cheap synthesizer: 40 ms of quiet noise per character (several deltas per reply)."""
    rng = np.random.default_rng(len(text))
    return (rng.standard_normal(24 * 40 * max(1, len(text))) * 300).astype(np.int16)


def item_words(item: dict) -> str:
    """The words of a wire item (text parts, else transcripts), or a call's output."""
    if item.get("type") == "function_call_output":
        return str(item.get("output") or "")
    if item.get("type") == "function_call":
        return f"{item.get('name')}({item.get('arguments')})"
    parts = item.get("content") or []
    return "".join(p.get("text") or p.get("transcript") or "" for p in parts)


def wait_until(predicate: Callable[[], Any], timeout: float = 10 * UNIT, what: str = "") -> Any:
    """Poll ``predicate`` from the calling (notebook) thread until truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")


class _ErrorLogs(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(f"log {record.name}: {record.getMessage().splitlines()[0]}")


class EscapeGuard:
    """Collects every exception that escaped (or was only contained by a last-resort net).

    Use as a context manager; :attr:`escaped` lists what was seen, one line each.
    """

    def __init__(self) -> None:
        self.escaped: list[str] = []
        self._handler = _ErrorLogs(self.escaped)

    def __enter__(self) -> EscapeGuard:
        loop = get_runtime().loop
        self._old = (threading.excepthook, sys.unraisablehook, loop.get_exception_handler())
        threading.excepthook = lambda args: self.escaped.append(
            f"thread {args.thread and args.thread.name}: {args.exc_type.__name__}: {args.exc_value}"
        )
        sys.unraisablehook = lambda args: self.escaped.append(
            f"unraisable: {args.exc_type.__name__}: {args.exc_value}"
        )
        loop.set_exception_handler(
            lambda _loop, context: self.escaped.append(f"loop: {context.get('message')}")
        )
        logging.getLogger("realtime_widget").addHandler(self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        threading.excepthook, sys.unraisablehook, handler = self._old
        get_runtime().loop.set_exception_handler(handler)
        logging.getLogger("realtime_widget").removeHandler(self._handler)


class Rig:
    """Embedded server <- fault proxy <- client (or widget), all on the runtime loop.

    Args:
        script: scripted responses for the brain (then it echoes "You said: ...").
        widget: drive a :class:`RealtimeWidget` (kernel side) instead of a bare client.
        speed: the server's pacing (0: as fast as possible).
        max_session_seconds: the server's session cap (then error + close 1001).
        api_key: the key the server demands and the client presents.
        **client_options: more ``RealtimeClient`` options.
    """

    def __init__(
        self,
        script: list | None = None,
        *,
        widget: bool = False,
        speed: float = 0,
        max_session_seconds: float = 3600,
        api_key: str = "sk-local-rig",
        **client_options: Any,
    ) -> None:
        self.runtime = get_runtime()
        self.brain = ScriptedBrain(script or [], fallback=EchoBrain())
        self.server = LocalRealtimeServer(
            brain=self.brain,
            synthesizer=quick_voice,
            speed=speed,
            max_session_seconds=max_session_seconds,
            api_key=api_key,
        ).start()
        self.proxy = self.runtime.run(FaultProxy(self.server.url).start(), 10 * UNIT)
        self._lock = threading.Lock()
        self.events: dict[str, list[dict]] = {name: [] for name in EVENTS}
        self.wire: list[tuple[str, dict]] = []
        client_options.setdefault("reconnect_delay", 0.05 * UNIT)
        self.widget = None
        if widget:
            from realtime_widget import RealtimeWidget

            self.widget = RealtimeWidget(
                url=self.proxy.url, api_key=api_key, autoconnect=False, **client_options
            )
            self.client: RealtimeClient = self.widget.client
        else:
            self.client = RealtimeClient(url=self.proxy.url, api_key=api_key, **client_options)
        for name in EVENTS:
            self.client.on(name, lambda event, name=name: self._record(name, event))
        self.client.on("realtime.event", self._record_wire)

    # ------------------------------------------------------------------ recording
    def _record(self, name: str, event: dict) -> None:
        with self._lock:
            self.events[name].append(event)

    def _record_wire(self, event: dict) -> None:
        with self._lock:
            self.wire.append((event["source"], event["event"]))

    def of(self, name: str) -> list[dict]:
        """Client events of one name seen so far."""
        with self._lock:
            return list(self.events[name])

    def sent(self, kind: str) -> list[dict]:
        """Client events of one wire type sent so far."""
        with self._lock:
            return [e for s, e in self.wire if s == "client" and e["type"] == kind]

    # ------------------------------------------------------------------ the notebook's calls
    def connect(self) -> None:
        """Connect (blocking, as a cell would) and wait for the session."""
        if self.widget is not None:
            self.widget.connect(10 * UNIT)
        else:
            self.client.connect(10 * UNIT)
        self.client.wait_for_session_created(10 * UNIT)

    def items(self, items: list[dict] | None = None) -> list[tuple[str, str, str]]:
        """``(id, role or type, words)`` of the client's items (or of ``items``), in order."""
        out = []
        for item in self.client.conversation.get_items() if items is None else items:
            formatted = item.get("formatted") or {}
            words = formatted.get("text") or formatted.get("transcript") or item_words(item)
            out.append((item.get("id"), item.get("role") or item.get("type"), words))
        return out

    def completed_replies(self) -> int:
        return sum(
            1
            for item in self.client.conversation.get_items()
            if item.get("role") == "assistant" and item.get("status") == "completed"
        )

    def say(self, text: str, timeout: float = 10 * UNIT, *, echoed: bool = False) -> str:
        """Send a user message and wait for its reply; returns the reply's transcript.

        The reply is the first completed assistant item after the new user item saying ``text``
        (not merely the newest completed item). With ``echoed=True``, the first one that repeats
        ``text`` (EchoBrain's answer): a response the client asked for on its own (e.g. after
        answering a junk function call) may start before the message arrives and end after it.
        """

        def said(items: list[dict]) -> list[int]:
            rows = enumerate(self.items(items))
            return [i for i, (_, role, words) in rows if role == "user" and words == text]

        before = len(said(self.client.conversation.get_items()))
        if self.widget is not None:
            self.widget.send_text(text)
        else:
            self.client.send_user_message_content(text)

        def reply() -> dict | None:
            items = self.client.conversation.get_items()  # one snapshot for both lookups
            indexes = said(items)
            if len(indexes) <= before:
                return None
            later = items[indexes[-1] + 1 :]
            for item, (_, role, words) in zip(later, self.items(later), strict=True):
                done = role == "assistant" and item.get("status") == "completed"
                if done and (text in words or not echoed):
                    return item
            return None

        formatted = wait_until(reply, timeout, f"a reply to {text!r}")["formatted"]
        return formatted.get("transcript") or formatted.get("text") or ""

    def on_loop(self, fn: Callable[[], Any]) -> Any:
        """Run ``fn()`` (a function or a coroutine function) on the runtime loop, blocking."""

        async def call() -> Any:
            result = fn()
            if hasattr(result, "__await__"):
                result = await result
            return result

        return self.runtime.run(call(), 10 * UNIT)

    def server_items(self) -> list[dict]:
        """The wire items of the server's live session (what the model sees now).

        Waits until the session of a dropped connection has ended, so there is just one.
        """
        wait_until(lambda: len(self.server.sessions) == 1, 5 * UNIT, "one live server session")
        [session] = list(self.server.sessions)
        return [r.item for r in session.conversation.records()]

    def close(self) -> None:
        """Disconnect and stop everything (from the notebook thread)."""
        try:
            if self.widget is not None:
                self.widget.close()
            else:
                self.client.close()
        finally:
            self.runtime.run(self.proxy.stop(), 10 * UNIT)
            self.server.stop()

    def __enter__(self) -> Rig:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
