"""Things loaded once per process and shared by every session: models, locks, digests.

Thirty sessions of one server must not load thirty models (DESIGN §10). :func:`shared` builds a
value on first use under a per-key lock (two sessions asking at once load it once) and keeps it
for the life of the process. A factory that raises is retried on the next call.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["StageError", "endpoint_client", "file_sha256", "is_shared", "shared"]

T = TypeVar("T")
_values: dict[Hashable, Any] = {}
_locks: dict[Hashable, threading.Lock] = {}
_guard = threading.Lock()


def shared(key: Hashable, factory: Callable[[], T]) -> T:
    """The value for ``key``, built by ``factory()`` the first time (thread-safe)."""
    try:
        return _values[key]
    except KeyError:
        pass
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if key not in _values:
            _values[key] = factory()
        return _values[key]


def is_shared(key: Hashable) -> bool:
    """Whether the value for ``key`` has been built."""
    return key in _values


class StageError(RuntimeError):
    """A pipeline stage cannot work: the message says what to install, fix or configure."""


def endpoint_client(base_url: str, api_key: str | None, timeout: float) -> Any:
    """An ``openai.OpenAI`` client for an OpenAI-compatible endpoint (no retries: a stage that
    fails fails its response now, and the next turn tries again).

    Raises:
        StageError: the ``openai`` package is missing.
    """
    try:
        import openai
    except ImportError as exc:
        raise StageError(
            "endpoint stages need the openai package: pip install 'realtime_widget[local]'."
        ) from exc
    return openai.OpenAI(
        base_url=base_url, api_key=api_key or "not-needed", timeout=timeout, max_retries=0
    )


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
