"""``Recorder``: writes a client's session (every event both ways, audio included) as JSON Lines.

The client calls its listeners on the runtime thread, where audio must keep flowing (DESIGN §3),
so a listener only serialises the event and appends the line to a buffer; a small writer thread
writes the buffer and flushes the file every ``flush_interval`` seconds and at :meth:`close`. A
process that dies mid-session leaves every line written so far readable (``read_recording``
skips an incomplete last line).
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import threading
import time
from typing import Any

from realtime_widget.recording._format import make_header

__all__ = ["Recorder"]

logger = logging.getLogger("realtime_widget.recording")

# Client events worth keeping besides the wire: the connection ended (``close``) or dropped and
# is being reopened (``reconnecting``); either way the next session's audio time restarts at 0.
_LIFECYCLE = ("close", "reconnecting")
_MIN_SECRET = 8  # real keys are far longer


class Recorder:
    """Records a ``RealtimeClient``'s session to a JSON Lines file.

    Every event of the client's ``realtime.event`` stream (server events as received, client
    events as sent, audio included) becomes one line ``{"t", "dir", "event"}``; the first line is
    a header (format version, model, dialect, URL without credentials, creation time). The API
    key is never written: it is not in any event, and a line that would contain it has it
    replaced by ``[redacted]`` (keys shorter than 8 characters, test stand-ins, are left alone).

    Thread-safe: events arrive on the runtime thread; :meth:`close` may be called from any
    thread, including in a ``with`` block.

    Args:
        client: the ``RealtimeClient`` (or anything with ``on``/``off`` and a ``realtime`` API).
        path: the file to write (overwritten).
        flush_interval: seconds between writes to disk.

    Example:
        >>> with Recorder(client, "lesson.jsonl"):          # doctest: +SKIP
        ...     client.send_user_message_content("Hello")
        ...     client.wait_for_next_completed_item()
    """

    def __init__(
        self, client: Any, path: str | os.PathLike[str], *, flush_interval: float = 0.5
    ) -> None:
        if flush_interval <= 0:
            raise ValueError(f"flush_interval must be positive seconds, got {flush_interval!r}")
        self.client = client
        self.path = os.fspath(path)
        self.flush_interval = flush_interval
        api = getattr(client, "realtime", None)
        secret = str(getattr(api, "_api_key", "") or "")
        # Replacing a very short "key" (tests use "k") would corrupt every base64 payload.
        self._secret = secret if len(secret) >= _MIN_SECRET else ""
        self._start = time.monotonic()
        self._lock = threading.Lock()  # guards the buffer (held briefly on the runtime thread)
        self._io_lock = threading.Lock()  # one writer at a time, so batches keep their order
        self._lines: list[str] = []
        self._closed = False
        self.events_recorded = 0
        """Events recorded so far (header not counted)."""
        self._file = open(self.path, "w", encoding="utf-8")  # closed by close()
        header = make_header(
            model=getattr(api, "model", None),
            dialect=str(getattr(api, "dialect", "ga")),
            url=str(getattr(api, "url", "") or ""),
            created=datetime.datetime.now(datetime.timezone.utc).isoformat(),
        )
        self._file.write(self._redact(json.dumps(header)) + "\n")
        self._file.flush()
        self._wake = threading.Event()
        self._writer = threading.Thread(
            target=self._write_loop, name="realtime_widget-recorder", daemon=True
        )
        self._writer.start()
        self._listeners = [("realtime.event", self._on_realtime_event)]
        self._listeners += [(name, self._lifecycle(name)) for name in _LIFECYCLE]
        for name, callback in self._listeners:
            client.on(name, callback)

    def __repr__(self) -> str:
        state = "closed" if self._closed else "recording"
        return f"<Recorder {self.path!r} {state} events={self.events_recorded}>"

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    # ------------------------------------------------------------------ listeners (runtime thread)
    def _on_realtime_event(self, event: dict[str, Any]) -> None:
        self._add(str(event.get("source", "server")), event.get("event") or {})

    def _lifecycle(self, name: str) -> Any:
        def on_lifecycle(event: dict[str, Any]) -> None:
            fields = event if isinstance(event, dict) else {}
            kept = {k: v for k, v in fields.items() if k in ("code", "reason", "error", "attempt")}
            self._add("local", {"type": name, **kept})

        return on_lifecycle

    def _add(self, direction: str, event: dict[str, Any]) -> None:
        t = time.monotonic() - self._start
        line = json.dumps(
            {"t": round(t, 6), "dir": direction, "event": event},
            separators=(",", ":"),
            default=_jsonable,
        )
        line = self._redact(line)
        with self._lock:
            if self._closed:
                return
            self._lines.append(line)
            self.events_recorded += 1

    def _redact(self, line: str) -> str:
        if self._secret and self._secret in line:
            return line.replace(self._secret, "[redacted]")
        return line

    # ------------------------------------------------------------------ writing (writer thread)
    def _write_loop(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self.flush()

    def flush(self) -> None:
        """Write what is buffered to disk now (also done every ``flush_interval`` seconds)."""
        with self._io_lock:
            with self._lock:
                lines, self._lines = self._lines, []
            if not lines or self._file.closed:
                return
            try:
                self._file.write("\n".join(lines) + "\n")
                self._file.flush()
            except (OSError, ValueError):  # disk full: say so, but never break the session
                logger.exception("= recording to %s failed; events lost", self.path)

    def close(self) -> None:
        """Stop recording, write what is buffered and close the file (idempotent)."""
        if self._closed:
            return
        for name, callback in self._listeners:
            self.client.off(name, callback)
        with self._lock:
            self._closed = True
        self._wake.set()
        if threading.current_thread() is not self._writer:
            self._writer.join()
        self.flush()
        with self._io_lock:
            self._file.close()


def _jsonable(value: Any) -> Any:
    """Fallback for values json cannot write (numpy scalars/arrays from user code)."""
    tolist = getattr(value, "tolist", None)
    return tolist() if callable(tolist) else str(value)
