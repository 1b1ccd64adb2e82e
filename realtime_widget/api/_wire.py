"""What ``RealtimeAPI`` shows of the wire: the endpoint URL, refusal hints and its log lines.

Split from :mod:`realtime_widget.api` (which keeps the websocket I/O) by concern: nothing here
touches a socket or a loop. The redaction rules themselves are in
:mod:`realtime_widget.protocol.redaction`.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit, urlunsplit

from realtime_widget.protocol.redaction import AUDIO_EVENTS, SECRET_QUERY, redact

DEFAULT_URL = "wss://api.openai.com/v1/realtime"
REFUSAL_HINTS = {
    400: "the server refused the request: check the URL, the model query parameter and headers",
    401: "the API key is missing or wrong: set OPENAI_API_KEY or pass api_key=",
    403: "this key has no access to the Realtime API or this model: check the project's access",
    404: "wrong URL or unknown model: check url= and model= (Azure: the deployment name)",
    429: "rate limited or out of quota: wait, or check the account's billing and limits",
}


# Query parameters that carry credentials (Azure's ``api-key``, SAS-style ``sig``, tokens).
_SECRET_QUERY = SECRET_QUERY


def public_url(url: str) -> str:
    """``url`` as it may be shown (repr, logs, exception messages): credentials replaced.

    A key can travel in the URL (``?api-key=...`` on Azure, a password in ``user:pass@``); it
    must not show where the header key never shows (DESIGN §5, issue 13).

    Args:
        url: the websocket URL.

    Returns:
        ``url`` with credential query values and a password replaced by ``[redacted]``.
    """
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.password:
        netloc = netloc.replace(f":{parts.password}@", ":[redacted]@", 1)
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in _SECRET_QUERY for k, _ in pairs):
            query = urlencode(
                [(k, "[redacted]" if k.lower() in _SECRET_QUERY else v) for k, v in pairs],
                safe="[]",
            )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def url_secrets(url: str) -> list[str]:
    """The credentials inside ``url``, to hide them from logs that quote the request line.

    Args:
        url: the websocket URL.

    Returns:
        Each credential as written and decoded, longest first.
    """
    parts = urlsplit(url)
    found: set[str] = set()
    for piece in parts.query.split("&"):
        key, _, value = piece.partition("=")
        if unquote_plus(key).lower() in _SECRET_QUERY and value:
            found.update((value, unquote_plus(value)))
    if parts.password:
        found.update((parts.password, unquote_plus(parts.password)))
    return sorted(found, key=len, reverse=True)  # longest first: no partial replacement


def trim_event(event: dict) -> str:
    """The event as JSON with audio payloads (at any depth) and secrets replaced (`redact`)."""
    text = json.dumps(redact(event, audio_delta=event.get("type") in AUDIO_EVENTS), default=str)
    return text if len(text) < 2000 else text[:2000] + "..."


def build_url(
    url: str | None, model: str, azure_endpoint: str | None, azure_deployment: str | None
) -> tuple[str, bool]:
    """The websocket URL with its ``model`` query, and whether it is an Azure endpoint.

    A ``call_id`` URL (``wss://.../v1/realtime?call_id=...``, the side channel of a WebRTC or SIP
    call) gets no ``model``: the call already has its session and model.
    """
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
    if not ({"model", "deployment", "call_id"} & set(query)):
        query["model"] = model
    host = parts.hostname or ""
    is_azure = bool(azure_endpoint) or host.endswith(
        (".openai.azure.com", ".cognitiveservices.azure.com")
    )
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(query), "")), is_azure
