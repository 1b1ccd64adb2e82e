"""Things loaded once per process and shared by every session: models, locks, digests.

Thirty sessions of one server must not load thirty models (DESIGN §10). :func:`shared` builds a
value on first use under a per-key lock (two sessions asking at once load it once) and keeps it
for the life of the process. A factory that raises is retried on the next call.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

__all__ = ["is_shared", "shared"]

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
