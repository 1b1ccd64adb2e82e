"""The event-log bench runs end to end in Chromium and yields its rows (figures: `make bench`)."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_event_log.py"


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_event_log", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_event_log", module)
    spec.loader.exec_module(module)
    return module


def test_event_log_bench_session_folds_like_the_kernel_and_stays_bounded():
    bench = _load_bench()
    frames, events = bench.hour_frames(2.0)
    entries = {e["seq"]: e for frame in frames for e in frame}
    assert events > 5_000 and len(entries) < events / 40  # folded: ~21 entries per 940-event turn
    # Every event is counted once in the entries' final counts.
    assert sum(e["count"] for e in entries.values()) == events


@pytest.mark.timeout(int(300 * UNIT))
def test_event_log_bench_quick_run_yields_finite_rows_beside_their_targets(chromium_for):
    # The session's Playwright driver and a Chromium of this run (a second sync driver would
    # fail inside the first one's loop).
    rows = {row.name: row for row in _load_bench().measure(chromium_for(None), 3.0, 1.0)}
    assert len(rows) == 6, list(rows)
    for row in rows.values():
        assert math.isfinite(row.value) and row.value >= 0, row
    per_frame = rows["event log (browser): per frame, an hour's session, p99"]
    assert "rows kept (bound 500)" in per_frame.note
