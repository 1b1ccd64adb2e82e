"""Cancelling a running tool call: the token a sync tool checks (issue 15, point 3).

An async tool is cancelled the asyncio way (``asyncio.CancelledError`` inside it). A sync tool
runs in a thread (or on the kernel's main thread), and Python cannot stop a thread from outside;
so a sync tool that wants to stop early declares a parameter annotated :class:`CancelToken`. It
is left out of the tool's JSON schema (the model never sees it) and the registry passes a fresh
token to each call::

    @w.tool
    def crunch(n: int, cancel: CancelToken) -> int:
        total = 0
        for i in range(n):
            cancel.raise_if_cancelled()  # ToolCancelled: the call ends as "cancelled"
            total += slow_step(i)
        return total

``cancel.wait(seconds)`` is an interruptible ``time.sleep``. A tool without a token keeps running
to completion in its thread when its call is cancelled; its late result is dropped (and logged),
never sent: the model already got one "cancelled by the user" output.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["CancelToken", "ToolCancelled"]

logger = logging.getLogger("realtime_widget.tools")


class ToolCancelled(Exception):
    """Raised by :meth:`CancelToken.raise_if_cancelled` once the call is cancelled.

    A tool may let it propagate: the registry then records the call as ``cancelled`` (not as a
    failure) and the model gets the cancellation output.
    """


class CancelToken:
    """Tells a running tool call that it was cancelled. Thread-safe.

    Declare a parameter annotated ``CancelToken`` in a tool to receive one (it is not part of
    the tool's schema). Check :attr:`cancelled` or call :meth:`raise_if_cancelled` between steps,
    or :meth:`wait` instead of ``time.sleep``.
    """

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._callbacks: list[Callable[[], None]] = []
        self._reason: str | None = None

    @property
    def cancelled(self) -> bool:
        """True once the call was cancelled."""
        return self._event.is_set()

    @property
    def reason(self) -> str | None:
        """Why it was cancelled (e.g. ``"cancelled by the user"``), or None."""
        return self._reason

    def raise_if_cancelled(self) -> None:
        """Raise :class:`ToolCancelled` if the call was cancelled; return otherwise."""
        if self._event.is_set():
            raise ToolCancelled(self._reason or "cancelled")

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep until the call is cancelled or ``timeout`` seconds pass.

        Args:
            timeout: seconds; None waits until cancelled.

        Returns:
            True when cancelled.
        """
        return self._event.wait(timeout)

    def cancel(self, reason: str = "cancelled by the user") -> bool:
        """Mark the call cancelled and run the registered callbacks (the registry calls this).

        Args:
            reason: kept as :attr:`reason`.

        Returns:
            False if it was cancelled already.
        """
        with self._lock:
            if self._event.is_set():
                return False
            self._reason = reason
            self._event.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            try:
                callback()
            except Exception:  # one bad listener must not keep the others from hearing
                logger.exception("= cancel callback failed")
        return True

    def add_callback(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback()`` (on the cancelling thread) when cancelled; at once if it is.

        Returns:
            A function that removes the callback.
        """
        with self._lock:
            if not self._event.is_set():
                self._callbacks.append(callback)
                return lambda: self._remove(callback)
        callback()
        return lambda: None

    def _remove(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)

    def __repr__(self) -> str:
        return f"CancelToken(cancelled={self.cancelled})"
