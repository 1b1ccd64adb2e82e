"""Keeping secrets and audio out of what people read: logs and the widget's event log.

Shared by the client's websocket (``RealtimeAPI``), the embedded server and the widget, so the
rules live in one place (DESIGN §5: the key never appears in a log, trait or repr; audio never
in a log). Pure: no socket, no loop.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

__all__ = [
    "AUDIO_EVENTS",
    "SECRET_HEADERS",
    "SECRET_KEYS",
    "SECRET_MAPS",
    "SECRET_PATTERN",
    "SECRET_QUERY",
    "RedactingLogger",
    "redact",
    "redact_query_secrets",
]

# Event types whose payload is base64 audio (a top-level ``delta``, or ``audio``).
AUDIO_EVENTS = frozenset(
    {
        "input_audio_buffer.append",
        "response.output_audio.delta",
        "response.audio.delta",
    }
)
# Keys whose values are secrets wherever they appear (never in a trait, log or repr: DESIGN §5).
SECRET_KEYS = frozenset({"api_key", "authorization", "client_secret", "api-key"})
# Keys whose values are dicts of HTTP headers (an MCP tool's ``headers``): every value is hidden,
# since servers take credentials in headers of any name (``X-Api-Key``, ``Authorization``).
SECRET_MAPS = frozenset({"headers"})
# Handshake header lines (as websockets logs them, after "> " or "< ") that carry keys.
SECRET_HEADERS = ("authorization:", "api-key:", "sec-websocket-protocol:")
# Key-shaped strings, for error texts that may quote a URL or header.
SECRET_PATTERN = re.compile(r"(sk-|sess_|ek_)[A-Za-z0-9_\-*.]{6,}")
# Credentials in a URL's query (Azure's ``api-key``, tokens, SAS ``sig``), as a logged request
# line ("GET /v1/realtime?api-key=...") or an error quoting a URL shows them.
SECRET_QUERY = frozenset(
    {"api-key", "api_key", "apikey", "key", "token", "access_token", "client_secret", "sig"}
)
_QUERY_SECRET = re.compile(
    r"([?&](?:" + "|".join(re.escape(k) for k in sorted(SECRET_QUERY)) + r")=)[^&#\s]+",
    re.IGNORECASE,
)
_FRAME_DUMPS = ("< TEXT", "> TEXT", "< BINARY", "> BINARY", "< CONT", "> CONT")


class RedactingLogger(logging.LoggerAdapter):
    """A logger for websockets' DEBUG output that keeps secrets (and, optionally, frames) out.

    websockets logs handshake headers and frame dumps at DEBUG. Header lines that carry keys are
    cut after the header name (a wrong key is a secret too); ``secret`` is replaced wherever it
    appears; with ``drop_frames`` frame dumps (which may hold audio) are not logged at all.

    Args:
        logger: the logger to write to.
        secret: the key to hide, or a callable returning it (read at each log call), or None.
        drop_frames: skip ``< TEXT``/``> BINARY``/... frame dump lines.
    """

    def __init__(
        self,
        logger: logging.Logger,
        secret: str | Callable[[], str | None] | None,
        *,
        drop_frames: bool = False,
    ) -> None:
        super().__init__(logger, {})
        self._secret = secret
        self._drop_frames = drop_frames

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        if self._drop_frames and text.startswith(_FRAME_DUMPS):
            return  # frame dumps may hold audio; events are logged, redacted, by RealtimeAPI
        if text[2:].lower().startswith(SECRET_HEADERS):
            text = text.split(":", 1)[0] + ": [redacted]"
        secret = self._secret() if callable(self._secret) else self._secret
        if secret:
            text = text.replace(secret, "[redacted]")
        text = redact_query_secrets(text)  # a key in a request's URL, whoever's it is
        kwargs.pop("extra", None)
        self.logger.log(level, "%s", text, **kwargs)


def redact_query_secrets(text: str) -> str:
    """``text`` with the values of credential query parameters (``?api-key=...``) replaced.

    Args:
        text: a log line or message that may quote a URL or an HTTP request line.

    Returns:
        The text, each ``api-key``/``key``/``token``/... value after ``?`` or ``&`` replaced by
        ``[redacted]``.
    """
    return _QUERY_SECRET.sub(r"\1[redacted]", text)


def redact(value: Any, *, audio_delta: bool = False) -> Any:
    """A copy of an event with audio payloads and secrets replaced by short placeholders.

    One walker for every place that shows events to people: the API's debug log and the
    widget's event log.

    Args:
        value: an event (dict) or any JSON value inside one.
        audio_delta: treat a top-level string ``delta`` as audio (set for audio delta events).

    Returns:
        The copy: ``audio`` strings (and that ``delta``) become ``"<N bytes of audio>"``, image
        data URLs ``"<image/png, N bytes>"``, values of secret keys (in any case) and of header
        maps ``"<redacted>"``, non-JSON values ``"<type name>"``.
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, v in value.items():
            lowered = key.lower() if isinstance(key, str) else key
            if lowered in SECRET_KEYS:
                out[key] = "<redacted>"
            elif lowered in SECRET_MAPS and isinstance(v, dict):
                out[key] = dict.fromkeys(v, "<redacted>")
            elif isinstance(v, str) and (key == "audio" or (audio_delta and key == "delta")):
                out[key] = f"<{len(v) * 3 // 4} bytes of audio>"
            elif isinstance(v, str) and key == "image_url" and v.startswith("data:"):
                # An image is up to megabytes of base64: keep its type, not its bytes.
                out[key] = f"<{v[5:].split(';', 1)[0]}, {len(v) * 3 // 4} bytes>"
            else:
                out[key] = redact(v)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return f"<{type(value).__name__}>"
