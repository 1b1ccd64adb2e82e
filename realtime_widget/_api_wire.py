"""What ``RealtimeAPI`` shows of the wire: the endpoint URL, refusal hints and redacted logs.

Split from :mod:`realtime_widget.api` (which keeps the websocket I/O) by concern: nothing here
touches a socket or a loop, so the redaction rules can be read and tested on their own.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

DEFAULT_URL = "wss://api.openai.com/v1/realtime"
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
SECRET_PATTERN = re.compile(r"(sk-|sess_|ek_)[A-Za-z0-9_\-*.]{6,}")
REFUSAL_HINTS = {
    400: "the server refused the request: check the URL, the model query parameter and headers",
    401: "the API key is missing or wrong: set OPENAI_API_KEY or pass api_key=",
    403: "this key has no access to the Realtime API or this model: check the project's access",
    404: "wrong URL or unknown model: check url= and model= (Azure: the deployment name)",
    429: "rate limited or out of quota: wait, or check the account's billing and limits",
}


class RedactingLogger(logging.LoggerAdapter):
    """websockets logs handshake headers and frames at DEBUG: hide the key and the frames."""

    def __init__(self, logger: logging.Logger, secret: str) -> None:
        super().__init__(logger, {})
        self._secret = secret

    def log(self, level: int, msg: object, *args: Any, **kwargs: Any) -> None:
        if not self.isEnabledFor(level):
            return
        text = str(msg) % args if args else str(msg)
        if text.startswith(("< TEXT", "> TEXT", "< BINARY", "> BINARY", "< CONT", "> CONT")):
            return  # frame dumps may hold audio; events are logged, redacted, by RealtimeAPI
        if self._secret:
            text = text.replace(self._secret, "[redacted]")
        kwargs.pop("extra", None)
        self.logger.log(level, "%s", text, **kwargs)


def trim_event(event: dict) -> str:
    """The event as JSON with audio payloads (at any depth) and secrets replaced (`redact`)."""
    text = json.dumps(redact(event, audio_delta=event.get("type") in AUDIO_EVENTS), default=str)
    return text if len(text) < 2000 else text[:2000] + "..."


def redact(value: Any, *, audio_delta: bool = False) -> Any:
    """A copy of an event with audio payloads and secrets replaced by short placeholders.

    One walker for every place that shows events to people: the API's debug log and the
    widget's event log.

    Args:
        value: an event (dict) or any JSON value inside one.
        audio_delta: treat a top-level string ``delta`` as audio (set for audio delta events).

    Returns:
        The copy: ``audio`` strings (and that ``delta``) become ``"<N bytes of audio>"``,
        values of secret keys ``"<redacted>"``, non-JSON values ``"<type name>"``.
    """
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, v in value.items():
            if key in SECRET_KEYS:
                out[key] = "<redacted>"
            elif isinstance(v, str) and (key == "audio" or (audio_delta and key == "delta")):
                out[key] = f"<{len(v) * 3 // 4} bytes of audio>"
            else:
                out[key] = redact(v)
        return out
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return f"<{type(value).__name__}>"


def build_url(
    url: str | None, model: str, azure_endpoint: str | None, azure_deployment: str | None
) -> tuple[str, bool]:
    """The websocket URL with its ``model`` query, and whether it is an Azure endpoint."""
    if azure_endpoint:
        base = azure_endpoint.rstrip("/")
        if "/openai/" not in base:
            base += "/openai/v1/realtime"
        url = base
        model = azure_deployment or model
    url = url or DEFAULT_URL
    parts = urlsplit(url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    if "model" not in query and "deployment" not in query:
        query["model"] = model
    host = parts.hostname or ""
    is_azure = bool(azure_endpoint) or host.endswith(
        (".openai.azure.com", ".cognitiveservices.azure.com")
    )
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), "")), is_azure
