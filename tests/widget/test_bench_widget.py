"""The widget bench runs end to end and yields its rows (figures are for `make bench`, not here).

It drives a real `RealtimeWidget` through a recording comm against the embedded server in its
own process, so this smoke run also proves the bench's probes still fit the widget's internals.
"""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from tests.helpers import UNIT

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_widget.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_widget", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(int(120 * UNIT))
def test_widget_bench_quick_run_yields_finite_rows_beside_their_targets():
    rows = {row.name: row for row in _load_bench().run(quick=True)}
    relay_limits = [
        "widget relay browser->ws p99",
        "widget relay ws->browser raw p99",
    ]
    informational = [
        "widget relay browser->ws p50",
        "widget relay ws->browser raw p50",
        "widget relay ws->browser end-to-end p50",
        "widget relay ws->browser end-to-end p99",
        "widget relay browser->ws p99, runtime CPU",
        "widget relay ws->browser raw p99, runtime CPU",
        "machine noise: bare thread hand-over p99",
    ]
    growth = [name for name in rows if name.startswith("widget comm ")]
    rate = "widget kernel->browser messages/s, max over 1 s"
    assert set(relay_limits + informational + [rate]) <= set(rows)
    assert len(growth) == 2, growth
    for name in relay_limits:
        assert rows[name].target == "<= 5 ms", rows[name]
    for name in informational:
        assert rows[name].target == "info", rows[name]
    for name in growth:
        assert rows[name].target == "<= 1.2 x", rows[name]
    assert rows[rate].target == "<= 50 msg/s"
    for row in rows.values():
        assert math.isfinite(row.value) and row.value > 0, row
        assert row.note, row
