"""The recording file format (JSON Lines): header, entries, reading back.

A recording is one header line, then one line per event, in the order the client saw them::

    {"format": "realtime_widget.recording", "version": 1, "created": "...", "model": "...",
     "dialect": "ga", "url": "wss://api.openai.com/v1/realtime?model=..."}
    {"t": 0.0123, "dir": "client", "event": {"type": "session.update", ...}}
    {"t": 0.0310, "dir": "server", "event": {"type": "session.created", ...}}
    {"t": 9.5000, "dir": "local", "event": {"type": "close", "code": 1000, ...}}

``t`` is seconds on a monotonic clock since the recorder started; ``dir`` is ``"server"`` (received,
GA names), ``"client"`` (sent, GA shape as built, audio included) or ``"local"`` (the connection
closed, or dropped and is being reopened: a session boundary). The API key is never written. A
file cut short by a crash is read up to its last complete line.

Pure: no sockets, threads or clocks (reading a file is the only I/O).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = [
    "FORMAT",
    "SESSION_BOUNDARIES",
    "VERSION",
    "Entry",
    "Recording",
    "RecordingError",
    "make_header",
    "read_recording",
    "safe_url",
]

logger = logging.getLogger("realtime_widget.recording")

FORMAT = "realtime_widget.recording"
VERSION = 1
DIRECTIONS = frozenset({"server", "client", "local"})
SESSION_BOUNDARIES = frozenset({"close", "reconnecting"})
"""``local`` entries after which a new session (and its audio clock) starts."""
_SECRET_QUERY_KEYS = frozenset({"api-key", "api_key", "key", "token", "access_token", "sig"})


class RecordingError(ValueError):
    """The file is not a realtime_widget recording (or is of a newer format version)."""


@dataclass(frozen=True)
class Entry:
    """One recorded event.

    Attributes:
        t: seconds since the recording started (monotonic clock).
        direction: ``"server"``, ``"client"`` or ``"local"``.
        event: the event dict (audio as base64, as on the wire).
    """

    t: float
    direction: str
    event: dict[str, Any]


@dataclass
class Recording:
    """A recording read back: its header and its entries, oldest first.

    Attributes:
        header: format, version, created, model, dialect, url.
        entries: the events.
        truncated: the last line was incomplete (the recording process died mid-write).
    """

    header: dict[str, Any]
    entries: list[Entry] = field(default_factory=list)
    truncated: bool = False

    @property
    def duration(self) -> float:
        """Seconds from the start of the recording to its last event."""
        return self.entries[-1].t if self.entries else 0.0

    def server_events(self) -> list[dict[str, Any]]:
        """The server events, in order (GA names)."""
        return [e.event for e in self.entries if e.direction == "server"]

    def client_events(self) -> list[dict[str, Any]]:
        """The client events, in order."""
        return [e.event for e in self.entries if e.direction == "client"]


def safe_url(url: str) -> str:
    """``url`` without credentials: user info and secret-looking query parameters dropped."""
    parts = urlsplit(url or "")
    netloc = parts.netloc.rsplit("@", 1)[-1]
    query = [(k, v) for k, v in parse_qsl(parts.query) if k.lower() not in _SECRET_QUERY_KEYS]
    return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))


def make_header(*, model: str | None, dialect: str, url: str, created: str) -> dict[str, Any]:
    """The first line of a recording (never the API key)."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "created": created,
        "model": model,
        "dialect": dialect,
        "url": safe_url(url),
    }


def read_recording(path: str | os.PathLike[str]) -> Recording:
    """Read a recording written by :class:`~realtime_widget.recording.Recorder`.

    A last line without its newline (the writer died mid-line) is skipped and the recording is
    marked ``truncated``; a bad line elsewhere is an error.

    Raises:
        RecordingError: not a recording, a newer format version, or a corrupt line (the message
            names the line).
        FileNotFoundError: no such file.
    """
    with open(path, encoding="utf-8") as f:
        text = f.read()
    lines = text.split("\n")
    complete, last = lines[:-1], lines[-1]
    truncated = bool(last.strip())
    if not complete:
        raise RecordingError(f"{path}: empty or incomplete file; record with widget.record(path)")
    header = _parse_header(complete[0], path)
    entries = [_parse_entry(line, n, path) for n, line in enumerate(complete[1:], 2) if line]
    if truncated:
        logger.warning("%s: last line incomplete (recording interrupted); skipped", path)
    return Recording(header, entries, truncated)


def _parse_header(line: str, path: Any) -> dict[str, Any]:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise RecordingError(
            f"{path} is not a realtime_widget recording (no header line); "
            "make one with widget.record(path) or Recorder(client, path)"
        )
    if int(header.get("version", 0)) > VERSION:
        raise RecordingError(
            f"{path} is format version {header['version']}; this realtime_widget reads up to "
            f"{VERSION}: upgrade realtime_widget"
        )
    return header


def _parse_entry(line: str, number: int, path: Any) -> Entry:
    try:
        raw = json.loads(line)
        entry = Entry(float(raw["t"]), str(raw["dir"]), raw["event"])
    except (ValueError, KeyError, TypeError):
        raise RecordingError(
            f"{path}, line {number}: not a recorded event: {line[:80]!r}"
        ) from None
    if entry.direction not in DIRECTIONS or not isinstance(entry.event, dict):
        raise RecordingError(f"{path}, line {number}: unknown direction {entry.direction!r}")
    return entry
