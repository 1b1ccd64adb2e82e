"""Run every benchmark in ``bench/`` and print one table: figure, target, met.

Each ``bench/bench_*.py`` module defines ``run(quick: bool = False) -> list[Row]``. Figures are
medians; where a peer exists they are ratios measured side by side in the same run, because this
machine is noisy.

Usage: ``python bench/run.py [--quick] [--only NAME] [--json FILE]``
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _rows import Row  # noqa: E402


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    # Registered first, as an import would: dataclasses look their module up in sys.modules
    # (bench_echo's Config failed to load without it: "'NoneType' object has no attribute
    # '__dict__'").
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller inputs (a smoke run)")
    parser.add_argument("--only", action="append", default=[], help="substring of a bench file")
    parser.add_argument("--json", help="also write the rows as JSON to this file")
    args = parser.parse_args(argv)

    rows: list[Row] = []
    for path in sorted(HERE.glob("bench_*.py")):
        if args.only and not any(o in path.stem for o in args.only):
            continue
        started = time.perf_counter()
        print(f"running {path.stem} ...", file=sys.stderr, flush=True)
        try:
            rows.extend(_load(path).run(quick=args.quick))
        except Exception as exc:  # a broken bench is a row, not a crash of the whole table
            traceback.print_exc()
            rows.append(Row(path.stem, float("nan"), "", "runs", False, f"failed: {exc!r}"))
        print(f"  {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)

    print(Row.table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps([r.as_dict() for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
