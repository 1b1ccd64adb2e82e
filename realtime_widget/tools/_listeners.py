"""A thread-safe list of callbacks whose failures are logged, never propagated."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Listeners"]

logger = logging.getLogger("realtime_widget.tools")


class Listeners:
    """Callbacks subscribed from any thread, called on the thread that fires them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Callable[..., Any]] = []

    def subscribe(self, callback: Callable[..., Any]) -> Callable[[], None]:
        """Add ``callback``; returns a function that removes it again."""
        if not callable(callback):
            raise TypeError(f"a listener must be callable, got {type(callback).__name__}")
        with self._lock:
            self._callbacks.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return unsubscribe

    def fire(self, *args: Any) -> None:
        """Call every listener with ``args``; a listener's exception is logged and skipped."""
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(*args)
            except Exception:  # a listener's bug must not break registration or tool calls
                logger.exception("= tools listener %r raised", callback)
