"""Ephemeral client secrets: a short-lived key to hand to a browser or another process (issue 14).

``create_client_secret()`` trades the real API key for an ``ek_...`` key that opens Realtime
sessions until it expires (``POST /v1/realtime/client_secrets``, or
``/v1/realtime/translations/client_secrets`` for translation sessions), so the real key never
leaves the kernel. It works against OpenAI and against any compatible server, including the
embedded :class:`~realtime_widget.server.LocalRealtimeServer` (``base_url=server.http_base_url``).

Standard library only (``urllib`` on a worker thread for the async twin): the base install stays
light. The real key is sent only in the ``Authorization`` header and never appears in a repr or an
exception; the secret itself is kept out of :class:`ClientSecret`'s repr too.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

__all__ = [
    "DEFAULT_BASE_URL",
    "ClientSecret",
    "ClientSecretError",
    "create_client_secret",
    "create_client_secret_async",
]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_RESPONSE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ClientSecret:
    """An ephemeral key and when it stops opening sessions.

    Attributes:
        value: the key (``ek_...``) to pass as ``api_key`` to a client; kept out of the repr.
        expires_at: Unix time after which it opens no new session (open ones go on).
        session: the effective session configuration the server attached to it.
    """

    value: str = field(repr=False)
    expires_at: int
    session: dict = field(default_factory=dict, repr=False)

    @property
    def expires_in(self) -> float:
        """Seconds until :attr:`expires_at` (negative once expired)."""
        return self.expires_at - time.time()

    @property
    def session_type(self) -> str | None:
        """``"realtime"``, ``"transcription"`` or ``"translation"`` (from :attr:`session`)."""
        kind = self.session.get("type")
        return kind if isinstance(kind, str) else None

    def __repr__(self) -> str:
        return (
            f"ClientSecret(session_type={self.session_type!r}, expires_at={self.expires_at}, "
            f"expires_in={self.expires_in:.0f}s)"
        )


class ClientSecretError(RuntimeError):
    """The server refused to create a client secret, or could not be reached.

    Attributes:
        status: the HTTP status (``None`` when the server was not reached).
        code: the server's error code (e.g. ``invalid_api_key``), when it gave one.
        param: the request field it names, when it named one.
    """

    def __init__(
        self,
        message: str,
        status: int | None = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.param = status, code, param


def create_client_secret(
    api_key: str | None = None,
    *,
    session: dict | None = None,
    expires_after: int | None = None,
    translation: bool = False,
    base_url: str | None = None,
    timeout: float = 30.0,
) -> ClientSecret:
    """Create an ephemeral client secret with the real key.

    Args:
        api_key: the real key (default: ``OPENAI_API_KEY``).
        session: the session configuration to attach (GA shape: ``{"type": "realtime", "model":
            ..., "instructions": ...}``, ``{"type": "transcription", ...}``, or for
            ``translation=True`` ``{"model": ..., "audio": {"output": {"language": "fr"}}}``).
            ``None`` sends none (realtime) and is refused for translation, which needs a model.
        expires_after: lifetime in seconds (OpenAI accepts 10-7200; its default is 600).
        translation: create a key for translation sessions (``/realtime/translations``).
        base_url: REST base URL (default: ``OPENAI_BASE_URL`` or ``https://api.openai.com/v1``);
            a ``ws(s)://.../v1/realtime`` URL (e.g. ``LocalRealtimeServer.url``) works too.
        timeout: seconds to wait for the answer.

    Returns:
        The key and its expiry.

    Raises:
        ValueError: no key, or ``translation=True`` without a session.
        ClientSecretError: the server refused (its message, status and code) or was not
            reached. Never contains the real key.
    """
    key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
    if not key:
        raise ValueError(
            "No API key: pass api_key=... or set OPENAI_API_KEY (the real key creates the "
            "ephemeral one)."
        )
    if translation and session is None:
        raise ValueError(
            "A translation client secret needs a session with its model, e.g. "
            "session={'model': 'gpt-realtime-translate', 'audio': {'output': {'language': 'fr'}}}."
        )
    body: dict[str, Any] = {}
    if session is not None:
        body["session"] = session
    if expires_after is not None:
        body["expires_after"] = {"anchor": "created_at", "seconds": int(expires_after)}
    path = "/realtime/translations/client_secrets" if translation else "/realtime/client_secrets"
    url = rest_base_url(base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL) + path
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer = json.loads(response.read(MAX_RESPONSE_BYTES))
    except urllib.error.HTTPError as exc:
        raise _refused(exc, key) from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClientSecretError(
            _hide(f"Could not create a client secret at {url}: {reason}", key)
        ) from None
    try:
        return ClientSecret(str(answer["value"]), int(answer["expires_at"]), answer["session"])
    except (KeyError, TypeError, ValueError):
        raise ClientSecretError(
            f"The server at {url} answered without a client secret (value, expires_at, session)."
        ) from None


async def create_client_secret_async(
    api_key: str | None = None,
    *,
    session: dict | None = None,
    expires_after: int | None = None,
    translation: bool = False,
    base_url: str | None = None,
    timeout: float = 30.0,
) -> ClientSecret:
    """:func:`create_client_secret` on a worker thread, for ``await`` in a notebook cell."""
    return await asyncio.to_thread(
        create_client_secret,
        api_key,
        session=session,
        expires_after=expires_after,
        translation=translation,
        base_url=base_url,
        timeout=timeout,
    )


def rest_base_url(url: str) -> str:
    """The REST base (``http(s)://host/v1``) of a REST or Realtime websocket URL."""
    parts = urlsplit(url.rstrip("/"))
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/")
    for suffix in ("/realtime/translations", "/realtime"):
        if path.endswith(suffix):
            path = path[: -len(suffix)]
            break
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def _hide(text: str, key: str) -> str:
    return text.replace(key, "***") if key else text


def _refused(exc: urllib.error.HTTPError, key: str) -> ClientSecretError:
    try:
        error = json.loads(exc.read(MAX_RESPONSE_BYTES)).get("error") or {}
    except (ValueError, AttributeError, OSError):
        error = {}
    message = error.get("message") if isinstance(error, dict) else None
    text = f"Creating a client secret failed (HTTP {exc.code}): {message or exc.reason}"
    return ClientSecretError(
        _hide(text, key),
        exc.code,
        error.get("code") if isinstance(error, dict) else None,
        error.get("param") if isinstance(error, dict) else None,
    )
