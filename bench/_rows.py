"""One row of the bench table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Row:
    """A measured figure beside its target.

    Attributes:
        name: what was measured.
        value: the median figure.
        unit: unit of ``value`` (``x`` for ratios).
        target: the target as text, e.g. ``">= 60x"``.
        met: whether ``value`` meets the target.
        note: how it was measured (sizes, repetitions, peer).
    """

    name: str
    value: float
    unit: str
    target: str
    met: bool
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def table(rows: list[Row]) -> str:
        head = ("figure", "value", "target", "met", "note")
        body = [
            (r.name, f"{r.value:.4g} {r.unit}".strip(), r.target, "yes" if r.met else "NO", r.note)
            for r in rows
        ]
        widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]
        line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
        return "\n".join([line(head), line(["-" * w for w in widths]), *map(line, body)])


def median_time(fn: Callable[[], object], repeat: int = 5) -> float:
    """Median wall time of ``fn()`` over ``repeat`` runs, in seconds."""
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)
