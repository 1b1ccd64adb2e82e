"""Ephemeral client secrets of the embedded server (issue 14, point 4; pure).

``POST /v1/realtime/client_secrets`` (and ``/v1/realtime/translations/client_secrets``) trade the
server's real key for a short-lived one (``ek_...``) that an app can hand to a browser or another
process: the websocket accepts it as a bearer key until it expires, and a session opened with it
starts from the session configuration given when it was created ("these can also be overridden by
the client connection", the SDK's ``client_secrets.py``).

Rules, as the SDK documents them (``client_secret_create_params.py``):

- ``expires_after: {"anchor": "created_at", "seconds": N}``, ``N`` between 10 and 7200; 600 when
  not given. Expiry only stops *new* sessions: "the session itself may continue after that time".
- "A secret can be used to create multiple sessions until it expires."
- A secret is for the kind of session it was created for: a translation secret opens
  ``/v1/realtime/translations``, a realtime or transcription one ``/v1/realtime``.

The store is bounded (:data:`MAX_SECRETS`): expired secrets are kept (so a late client is told
"expired" rather than "unknown") until room is needed; a store full of live secrets refuses new
ones with ``too_many_client_secrets``. No clock or randomness of its own: ``now`` is passed in and
values come from ``new_value``.
"""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from realtime_widget.server._checks import ClientError, check_fields, typed

__all__ = [
    "DEFAULT_SECONDS",
    "MAX_SECONDS",
    "MAX_SECRETS",
    "MIN_SECONDS",
    "ClientSecrets",
    "Secret",
    "expiry_seconds",
    "looks_like_secret",
]

DEFAULT_SECONDS = 600
"""Lifetime of a secret created without ``expires_after`` (OpenAI's default, 10 minutes)."""
MIN_SECONDS, MAX_SECONDS = 10, 7200
"""The range OpenAI accepts for ``expires_after.seconds``."""
MAX_SECRETS = 1024
"""Secrets one server holds (live and expired); past it, expired ones are forgotten first."""
PREFIX = "ek_"

_EXPIRES_AFTER = {
    "anchor": typed(str, enum=("created_at",)),
    "seconds": typed(int, minimum=MIN_SECONDS, maximum=MAX_SECONDS),
}


def looks_like_secret(key: str | None) -> bool:
    """Whether ``key`` has the form of an ephemeral client secret (``ek_...``)."""
    return isinstance(key, str) and key.startswith(PREFIX)


def expiry_seconds(expires_after: Any) -> int:
    """The lifetime asked for by a request's ``expires_after`` (``None``: the default).

    Raises:
        ClientError: not an object, an unknown field, an anchor other than ``created_at`` or
            ``seconds`` outside 10..7200, naming the field.
    """
    if expires_after is None:
        return DEFAULT_SECONDS
    check_fields(expires_after, _EXPIRES_AFTER, "expires_after")
    return int(expires_after.get("seconds", DEFAULT_SECONDS))


@dataclass(frozen=True)
class Secret:
    """One issued client secret.

    Attributes:
        value: the secret itself (never in the repr).
        kind: ``"realtime"`` (realtime and transcription sessions) or ``"translation"``.
        session: the effective session configuration it was created with (what the endpoint
            answered), applied to each session it opens.
        expires_at: Unix time after which it opens no new session.
    """

    value: str = field(repr=False)
    kind: str
    session: dict = field(repr=False)
    expires_at: int

    def live(self, now: float) -> bool:
        """Whether it may still open a session at time ``now``."""
        return now < self.expires_at


class ClientSecrets:
    """The secrets one server issued, bounded by ``max_secrets``.

    Args:
        max_secrets: how many to hold at once.
        new_value: makes a secret's value (default: ``ek_`` and 32 random URL-safe characters).
    """

    def __init__(
        self, max_secrets: int = MAX_SECRETS, new_value: Callable[[], str] | None = None
    ) -> None:
        if max_secrets <= 0:
            raise ValueError(f"max_secrets must be positive, not {max_secrets!r}")
        self.max_secrets = max_secrets
        self._new_value = new_value or (lambda: PREFIX + secrets.token_urlsafe(24))
        self._secrets: OrderedDict[str, Secret] = OrderedDict()  # oldest first

    def __len__(self) -> int:
        return len(self._secrets)

    def __repr__(self) -> str:
        return f"<ClientSecrets held={len(self._secrets)} max={self.max_secrets}>"

    def live_count(self, now: float) -> int:
        """How many secrets may still open sessions at ``now``."""
        return sum(secret.live(now) for secret in self._secrets.values())

    def issue(self, kind: str, session: dict, seconds: int, now: float) -> Secret:
        """Create a secret for ``kind`` living ``seconds`` from ``now``.

        Raises:
            ClientError: ``too_many_client_secrets`` when ``max_secrets`` live ones exist.
        """
        if len(self._secrets) >= self.max_secrets:
            for value in [v for v, s in self._secrets.items() if not s.live(now)]:
                del self._secrets[value]
        if len(self._secrets) >= self.max_secrets:
            raise ClientError(
                "too_many_client_secrets",
                f"This server already holds {self.max_secrets} live client secrets: reuse one "
                "(a secret opens any number of sessions until it expires), or create secrets with "
                "a shorter expires_after.seconds.",
            )
        secret = Secret(self._new_value(), kind, session, int(now) + seconds)
        self._secrets[secret.value] = secret
        return secret

    def get(self, value: str) -> Secret | None:
        """The secret with this value, live or expired, or ``None``."""
        return self._secrets.get(value)

    def check(self, value: str, kind: str, now: float) -> Secret:
        """The live secret ``value`` for a ``kind`` session, or why it may not connect.

        Raises:
            ClientError: ``invalid_api_key`` for a secret this server did not issue (or has
                forgotten), ``client_secret_expired`` for an expired one, ``invalid_api_key``
                for one created for the other kind of session; each says what to do.
        """
        secret = self._secrets.get(value)
        if secret is None:
            raise ClientError(
                "invalid_api_key",
                "This client secret was not issued by this server (or is from an earlier run of "
                "it): create one with POST /v1/realtime/client_secrets using the server's API key.",
            )
        if not secret.live(now):
            raise ClientError(
                "client_secret_expired",
                f"This client secret expired {int(now) - secret.expires_at} seconds ago: create a "
                "new one (POST /v1/realtime/client_secrets; expires_after.seconds sets its "
                f"lifetime, {MIN_SECONDS}-{MAX_SECONDS} s).",
            )
        if secret.kind != kind:
            endpoint = (
                "/v1/realtime/translations" if secret.kind == "translation" else "/v1/realtime"
            )
            raise ClientError(
                "invalid_api_key",
                f"This client secret was created for a {secret.kind} session: connect to "
                f"{endpoint}, or create a secret for this endpoint.",
            )
        return secret
