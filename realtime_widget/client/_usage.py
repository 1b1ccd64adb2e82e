"""Token usage accumulated over ``response.done`` events, and the latest rate limits (cost
visibility, DESIGN §8).

:class:`UsageMeter` owns both totals. Its ``_on_<event>`` handlers (composed by the client's
router, ``_events``) add them up and dispatch ``usage.updated`` / ``rate_limits.updated``
through the ``dispatch`` it is handed. No I/O, no clock.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

__all__ = ["UsageMeter", "add_usage"]


def add_usage(total: dict, usage: dict | None) -> dict:
    """Add every number of ``usage`` into ``total`` (nested details too); returns ``total``.

    ``response.done`` carries ``usage`` with ``total_tokens``, ``input_tokens``,
    ``output_tokens`` and ``*_token_details`` sub-objects; non-numeric fields are ignored.
    """
    for key, value in (usage or {}).items():
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)):
            total[key] = total.get(key, 0) + value
        elif isinstance(value, dict):
            add_usage(total.setdefault(key, {}), value)
    return total


class UsageMeter:
    """Token usage summed over responses (``responses``: their count) and the rate limits of
    the latest ``rate_limits.updated``.

    Args:
        dispatch: emits the client's events (``usage.updated``, ``rate_limits.updated``) from
            the event handlers; ``None``: nothing is emitted.
    """

    def __init__(self, dispatch: Callable[[str, Any], None] | None = None) -> None:
        self._dispatch = dispatch or (lambda kind, event: None)
        self._usage: dict[str, Any] = {"responses": 0}
        self._rate_limits: list[dict[str, Any]] = []

    @property
    def usage(self) -> dict[str, Any]:
        """A copy of the totals."""
        return copy.deepcopy(self._usage)

    @property
    def rate_limits(self) -> list[dict[str, Any]]:
        """A copy of the latest rate limits (``[]`` before the first)."""
        return copy.deepcopy(self._rate_limits)

    def add(self, usage: dict | None) -> bool:
        """A ``response.done``'s ``usage``: added (and counted) when it has any.

        Returns:
            Whether the totals changed (``usage.updated`` is due).
        """
        if not usage:
            return False
        add_usage(self._usage, usage)
        self._usage["responses"] = self._usage.get("responses", 0) + 1
        return True

    def set_rate_limits(self, limits: object) -> None:
        """A ``rate_limits.updated``'s ``rate_limits`` (ignored unless a list)."""
        if isinstance(limits, list):
            self._rate_limits = copy.deepcopy(limits)

    def reset(self) -> None:
        """Back to zero (the client's ``reset``, or a replay played again)."""
        self._usage = {"responses": 0}
        self._rate_limits = []

    # ------------------------------------------------------------------ server events
    def _on_response_done(self, event: dict, result: dict) -> None:
        usage = (event.get("response") or {}).get("usage")
        if self.add(usage):
            self._dispatch(
                "usage.updated", {"type": "usage.updated", "usage": self.usage, "response": usage}
            )

    def _on_rate_limits_updated(self, event: dict, result: dict) -> None:
        self.set_rate_limits(event.get("rate_limits"))
        self._dispatch("rate_limits.updated", event)
