"""Token usage accumulated over ``response.done`` events (cost visibility, DESIGN §8)."""

from __future__ import annotations

__all__ = ["add_usage"]


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
