"""The embedded server the offline widgets of a process share, and their leases on it (issue 13).

Re-running ``w = RealtimeWidget(); display(w)`` makes a new widget each time, and ipywidgets 8
keeps every widget it ever made (its registry holds them until they are closed), so a server per
widget left one listening loopback port per run. Instead the offline widgets of a process share
one embedded server: the first one starts it, each takes a `Lease`, and the server stops when the
last lease is released (the widget closed, or garbage collected). The next offline widget then
starts a fresh server with a fresh key.

The server requires a random key made here, per server, that only this process knows (the
loopback port is visible to every local process and web page; see `_widget_session`).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["EmbeddedServers", "Lease", "shared_servers"]

logger = logging.getLogger("realtime_widget.widget")


class Lease:
    """One widget's use of the shared embedded server.

    Attributes:
        server: the running `LocalRealtimeServer`.
        key: the key it requires (for the widget's client only; never shown).
        pipeline: the local pipeline it answers with, or None (the echo demo).
    """

    def __init__(
        self,
        give_back: Callable[[int, bool], None],
        server: Any,
        key: str,
        pipeline: Any,
        serial: int,
    ) -> None:
        self.server = server
        self.key = key
        self.pipeline = pipeline
        # What releasing does (`EmbeddedServers`'s, handed in): ``give_back(serial, wait)``.
        self._give_back = give_back
        self._serial = serial
        self.released = False

    def __repr__(self) -> str:  # no key
        return f"<Lease of {self.server!r}{' released' if self.released else ''}>"

    def release(self, wait: bool = True) -> None:
        """Give the server back; the last lease stops it. Idempotent, never raises.

        Args:
            wait: block until the server has stopped (False from the runtime thread or a
                garbage collector's finalizer: the stop is then only scheduled).
        """
        if self.released:
            return
        self.released = True
        self._give_back(self._serial, wait)


class EmbeddedServers:
    """Hands out leases on one shared embedded server, started and stopped on demand.

    Args:
        start: ``start(key, pipeline) -> server``, a started server (tests may swap it).
    """

    def __init__(self, start: Callable[[str, Any], Any] | None = None) -> None:
        self._start = start or _start_server
        self._lock = threading.Lock()
        self._current: tuple[Any, str, Any] | None = None  # server, key, pipeline
        self._leases = 0
        self._serial = 0  # which server a lease belongs to (a stopped one's leases are stale)

    @property
    def server(self) -> Any:
        """The running shared server, or None."""
        with self._lock:
            return self._current[0] if self._current else None

    @property
    def leases(self) -> int:
        """Leases not yet released on the running server."""
        with self._lock:
            return self._leases

    def lease(self, find_pipeline: Callable[[], Any] | None = None) -> Lease:
        """A lease on the running server, starting one (with a new key) when none runs.

        Args:
            find_pipeline: returns the local pipeline to start a server with, or None for the
                echo demo; called only when a server is started.

        Raises:
            OSError: the server could not listen (no loopback port).
        """
        with self._lock:
            if self._current is None:
                key = secrets.token_urlsafe(32)  # only this process knows it
                pipeline = find_pipeline() if find_pipeline is not None else None
                self._current = (self._start(key, pipeline), key, pipeline)
                self._serial += 1
            self._leases += 1
            server, key, pipeline = self._current
            return Lease(self._release, server, key, pipeline, self._serial)

    def _release(self, serial: int, wait: bool) -> None:
        """A lease on the server numbered ``serial`` was released (the last one stops it)."""
        with self._lock:
            if serial != self._serial or self._current is None:
                return  # a lease on a server that has stopped since
            self._leases -= 1
            if self._leases > 0:
                return
            server, self._current = self._current[0], None
        _stop(server, wait)


def _stop(server: Any, wait: bool) -> None:
    from realtime_widget.runtime import get_runtime

    runtime = get_runtime()
    try:
        if wait and not runtime.in_runtime_thread():
            server.stop()
        else:
            runtime.submit(server.stop_async())
    except Exception:  # closing goes on; a server that fails to stop is logged, not raised
        logger.exception("= stopping the embedded server failed")


def _start_server(key: str, pipeline: Any) -> Any:
    from realtime_widget.server import LocalRealtimeServer

    if pipeline is not None:
        return LocalRealtimeServer(api_key=key, brain=pipeline).start()
    return LocalRealtimeServer(api_key=key).start()


_shared: EmbeddedServers | None = None
_shared_lock = threading.Lock()


def shared_servers() -> EmbeddedServers:
    """The process-wide `EmbeddedServers` of the widgets."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EmbeddedServers()
        return _shared
