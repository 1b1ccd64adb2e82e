"""Hypothesis strategies shared by the fuzz tests (tests/server, tests/reliability)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import strategies as st


def json_values(max_int: int, max_text: int, max_items: int, max_leaves: int) -> Any:
    """A strategy for arbitrary JSON values (NaN and infinities included: they reach servers)."""
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-max_int, max_int)
        | st.floats()
        | st.text(max_size=max_text),
        lambda inner: (
            st.lists(inner, max_size=max_items)
            | st.dictionaries(st.text(max_size=max_text), inner, max_size=max_items)
        ),
        max_leaves=max_leaves,
    )


def json_paths(obj: Any, prefix: tuple = ()) -> Iterator[tuple]:
    """Every path (tuple of keys and indexes) into a JSON value, the root ``()`` first."""
    yield prefix
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from json_paths(value, (*prefix, key))
    elif isinstance(obj, list):
        for index, value in enumerate(obj):
            yield from json_paths(value, (*prefix, index))
