"""The audio bench runs and yields its rows (figures are checked by `make bench`, not here)."""

import importlib.util
import math
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_audio.py"


def test_audio_bench_quick_run_yields_finite_rows_with_targets():
    spec = importlib.util.spec_from_file_location("bench_audio", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.run(quick=True)
    names = [r.name for r in rows]
    assert any("base64+PCM decode" in n for n in names)
    assert any("48k->24k streaming" in n for n in names)
    assert any("44.1k->24k streaming" in n for n in names)
    for row in rows:
        assert math.isfinite(row.value) and row.value > 0, row
        assert row.target, row
