"""Random ids for events, items, responses and calls (``evt_...``, ``item_...``, ...)."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def generate_id(prefix: str, length: int = 21) -> str:
    """Return ``prefix`` followed by ``length`` random url-safe alphanumerics.

    The seed client uses 21 characters, which keeps collisions out of reach (62**21 ≈ 2**125).

    Args:
        prefix: e.g. ``"evt_"``, ``"item_"``, ``"resp_"``, ``"call_"``.
        length: how many random characters follow the prefix.

    Returns:
        The new id.

    Raises:
        ValueError: if ``length`` is negative.
    """
    if length < 0:
        raise ValueError(f"id length must be >= 0, got {length}")
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))
