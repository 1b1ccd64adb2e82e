"""Where the event log's slow frames go: the bench's hour, profiled in Chromium.

Runs the same page and frames as ``bench_event_log.py`` but times each frame's parts (the store's
patch, the view's update, the forced layout), records a Chromium trace over one 2,400-frame chunk
in the steady state (500 rows kept) and attributes each slow frame's time to the trace's events
on the renderer's main thread (style recalc, layout, GC, ...). Also samples the page's element
count and JS heap (after a forced GC) at 10 minutes and at the end, to show the log stays bounded.

Usage: ``python bench/profile_event_log.py [minutes] [--trace-at MINUTE] [--save trace.json]
[--css "extra rules"]``
(wrap it in ``flock /tmp/heavy.lock`` on a shared machine).
"""

from __future__ import annotations

import json
import os
import statistics
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_event_log import _bundle, _p, hour_frames  # noqa: E402

from tests.ui.chromium import launch_chromium  # noqa: E402

CHUNK = 2400
SLOW_MS = 4.0
CATEGORIES = ",".join(
    [
        "-*",
        "devtools.timeline",
        "disabled-by-default-devtools.timeline",
        "v8",
        "disabled-by-default-v8.gc",
        "blink.user_timing",
        "blink_gc",
        "toplevel",
    ]
)


def _memory(page, cdp) -> dict:
    cdp.send("HeapProfiler.collectGarbage")
    heap = cdp.send("Runtime.getHeapUsage")
    return {
        "elements": page.evaluate("() => bench.nodes()"),
        "rows": page.evaluate("() => bench.rows()"),
        "heap_used_mb": round(heap["usedSize"] / 1e6, 2),
    }


def _attribute(trace: list[dict], phases: list[list[float]], anchor_now: float) -> dict:
    """Per slow frame, the main thread's trace events inside it (self time by name)."""
    marks = [
        e for e in trace if e.get("name") == "rtw-feed" and e.get("ph") in ("R", "I", "n", "b")
    ]
    if not marks:
        return {"error": "no rtw-feed mark in the trace"}
    main = marks[-1]
    pid, tid = main["pid"], main["tid"]
    offset_us = main["ts"] - anchor_now * 1000  # trace µs = performance.now() ms * 1000 + offset
    events = [
        e
        for e in trace
        if e.get("pid") == pid and e.get("tid") == tid and e.get("ph") == "X" and e.get("dur")
    ]
    events.sort(key=lambda e: e["ts"])
    # The chunk's whole task: wall vs thread time says how long the thread was descheduled.
    task = max(events, key=lambda e: e["dur"])
    by_name: dict[str, float] = defaultdict(float)
    slow_total = 0.0
    slow = [p for p in phases if sum(p[1:]) > SLOW_MS]
    explained: Counter = Counter()
    for start, *parts in slow:
        t0 = start * 1000 + offset_us
        t1 = t0 + sum(parts) * 1000
        slow_total += sum(parts)
        inside = [e for e in events if e["ts"] < t1 and e["ts"] + e["dur"] > t0 and e is not task]
        for e in inside:
            # Time of e within the frame minus its children inside the frame (self time).
            lo, hi = max(t0, e["ts"]), min(t1, e["ts"] + e["dur"])
            child = sum(
                min(hi, c["ts"] + c["dur"]) - max(lo, c["ts"])
                for c in inside
                if c is not e
                and c["ts"] >= e["ts"]
                and c["ts"] + c["dur"] <= e["ts"] + e["dur"]
                and c["dur"] < e["dur"]
                and c["ts"] < hi
                and c["ts"] + c["dur"] > lo
                and not any(
                    m is not e
                    and m is not c
                    and m["ts"] <= c["ts"]
                    and m["ts"] + m["dur"] >= c["ts"] + c["dur"]
                    and m["ts"] >= e["ts"]
                    and m["ts"] + m["dur"] <= e["ts"] + e["dur"]
                    and m["dur"] < e["dur"]
                    for m in inside
                )
            )
            by_name[e["name"]] += max(0.0, (hi - lo) - child) / 1000
        explained[max(inside, key=lambda e: e["dur"])["name"] if inside else "(no event)"] += 1
    layouts = [e for e in events if e["name"] == "Layout"]
    styles = [e for e in events if e["name"] == "UpdateLayoutTree"]
    return {
        "layout_in_chunk": {
            "count": len(layouts),
            "wall_ms": round(sum(e["dur"] for e in layouts) / 1000, 1),
            "thread_ms": round(sum(e.get("tdur", 0) for e in layouts) / 1000, 1),
            "median_thread_us": statistics.median(e.get("tdur", 0) for e in layouts)
            if layouts
            else 0,
            "objects": layouts[-1]["args"]["beginData"].get("totalObjects") if layouts else 0,
        },
        "style_in_chunk": {
            "count": len(styles),
            "wall_ms": round(sum(e["dur"] for e in styles) / 1000, 1),
            "thread_ms": round(sum(e.get("tdur", 0) for e in styles) / 1000, 1),
        },
        "chunk_task": {
            "name": task["name"],
            "wall_ms": round(task["dur"] / 1000, 1),
            "thread_ms": round(task.get("tdur", 0) / 1000, 1),
        },
        "slow_frames": len(slow),
        "slow_frames_ms": round(slow_total, 1),
        "self_ms_in_slow_frames": {
            k: round(v, 2) for k, v in sorted(by_name.items(), key=lambda kv: -kv[1])[:15]
        },
        "longest_event_per_slow_frame": dict(explained.most_common(10)),
    }


def main() -> None:
    from playwright.sync_api import sync_playwright

    args = sys.argv[1:]
    minutes = float(args[0]) if args and not args[0].startswith("--") else 60.0
    trace_at = float(args[args.index("--trace-at") + 1]) if "--trace-at" in args else minutes / 2
    save = args[args.index("--save") + 1] if "--save" in args else None
    # Extra CSS rules appended to the widget's (to try a containment before changing widget.css).
    extra_css = args[args.index("--css") + 1] if "--css" in args else ""
    frames, _ = hour_frames(minutes)
    per_minute = len(frames) / minutes
    js, css = _bundle()
    report: dict = {"minutes": minutes, "frames": len(frames), "load": os.getloadavg()}
    with sync_playwright() as pw:
        browser = launch_chromium(pw, None)
        page = browser.new_page(viewport={"width": 900, "height": 900})
        cdp = page.context.new_cdp_session(page)
        page.set_content(f"<!doctype html><style>{css}\n{extra_css}</style><body></body>")
        page.add_script_tag(content=js)
        phases: list[list[float]] = []
        traced: list[list[float]] = []
        trace_chunk = int(trace_at * per_minute) // CHUNK * CHUNK
        at_10 = int(10 * per_minute) // CHUNK * CHUNK
        for i in range(0, len(frames), CHUNK):
            if i == at_10 and minutes > 10:
                report["memory_at_10_min"] = _memory(page, cdp)
            part = frames[i : i + CHUNK]
            if i == trace_chunk:
                browser.start_tracing(page=page, categories=CATEGORIES.split(","))
                got = page.evaluate("(f) => bench.feedPhases(f)", part)
                raw = browser.stop_tracing()
                trace = json.loads(raw)
                trace = trace["traceEvents"] if isinstance(trace, dict) else trace
                if save:
                    Path(save).write_bytes(raw)
                traced = got
            else:
                got = page.evaluate("(f) => bench.feedPhases(f)", part)
            phases += got
        report["memory_at_end"] = _memory(page, cdp)
        browser.close()
    totals = [sum(p[1:]) for p in phases]
    slow = [p for p in phases if sum(p[1:]) > SLOW_MS]
    report["per_frame_ms"] = {
        "median": round(statistics.median(totals), 3),
        "p99": round(_p(totals, 0.99), 2),
        "max": round(max(totals), 1),
        "slow_over_4ms": len(slow),
    }
    if slow:
        report["slow_frames_mean_parts_ms"] = {
            name: round(statistics.mean(p[k] for p in slow), 2)
            for k, name in ((1, "patch"), (2, "update"), (3, "layout"))
        }
    report["all_frames_mean_parts_ms"] = {
        name: round(statistics.mean(p[k] for p in phases), 3)
        for k, name in ((1, "patch"), (2, "update"), (3, "layout"))
    }
    anchor = traced[0][0] if traced else 0.0
    report["trace"] = _attribute(trace, traced, anchor) if traced else None
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
