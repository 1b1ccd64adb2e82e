"""Reliability figures (issue 8): the fault matrix and the soak's memory curve.

Fault matrix: every fault of ``tests/reliability/_faults.py`` (drop mid-response, drop between
turns, stall, split and corrupt frames, unknown / malformed / error events, close 1001, the
server's session cap) applied to a live conversation behind the fault proxy, auto-reconnect on;
rows count faults tried, sessions recovered (a follow-up exchange worked), items lost (before vs
after, on the client and in the server's new session), tool calls not answered exactly once
(counted in the server's session), reconnect attempts (bounded) and exceptions that escaped. The
matrix includes issue 13's unlucky-timing rows (a drop while a tool runs, as its output is sent,
before it is acknowledged, as a response starts, as a call's arguments complete, on the
``response.done`` carrying a call) and its misbehaving-server rows (close right after
``session.created`` repeatedly, a failed response without ``response.done``, a frame nested
100 000 deep).

Soak: an accelerated conversation (``tests/reliability/_soak.py``: 60 s of microphone audio per
simulated minute, two turns, 10 s replies, server unpaced in its own process), with the client's
Python-traced memory sampled every simulated minute, without and with ``max_audio_seconds=120``,
and (full run only) through a ``RealtimeWidget``'s kernel side with the cap. RSS is the whole
process's and is not given back between runs. Quick mode: the matrix once and 7-minute soaks
(checkpoints 1, 5, 7: the 5-minute input ring is full from minute 5).

Usage: ``python bench/bench_reliability.py [--quick]``
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests/reliability harness (fault rig, soak driver)
sys.path.insert(0, str(ROOT / "bench"))

from _rows import Row  # noqa: E402

from tests.reliability._faults import FAULTS, run_fault  # noqa: E402
from tests.reliability._soak import soak  # noqa: E402

CAP_SECONDS = 120
MAX_ATTEMPTS = 10  # reconnect attempts one fault may cost (the client gives up after 5 in a row)


def fault_rows() -> list[Row]:
    """One run of every fault; summary rows plus one row per fault."""
    outcomes = []
    for name in FAULTS:
        started = time.perf_counter()
        outcome = run_fault(name)
        outcomes.append((outcome, time.perf_counter() - started))
    tried = len(outcomes)
    recovered = sum(o.recovered for o, _ in outcomes)
    lost = sum(o.items_lost for o, _ in outcomes)
    escaped = sum(len(o.escaped) for o, _ in outcomes)
    calls_wrong = sum(o.calls_unanswered + o.calls_repeated for o, _ in outcomes)
    attempts = max(o.surfaced.get("reconnecting", 0) for o, _ in outcomes)
    rows = [
        Row("faults tried", tried, "", f"== {len(FAULTS)}", tried == len(FAULTS), "issue 8.1"),
        Row(
            "sessions recovered after a fault",
            recovered,
            "",
            f"== {tried}",
            recovered == tried,
            "follow-up exchange answered after each fault (auto-reconnect on)",
        ),
        Row("items lost to faults", lost, "", "== 0", lost == 0, "client items + server history"),
        Row("exceptions escaped", escaped, "", "== 0", escaped == 0, "hooks, loop, ERROR logs"),
        Row(
            "tool calls not answered exactly once",
            calls_wrong,
            "",
            "== 0",
            calls_wrong == 0,
            "counted in the server's session: calls without an output, or answered twice",
        ),
        Row(
            "reconnect attempts, most in one fault",
            attempts,
            "",
            f"<= {MAX_ATTEMPTS}",
            attempts <= MAX_ATTEMPTS,
            "'reconnecting' events during one fault",
        ),
    ]
    for outcome, seconds in outcomes:
        surfaced = ", ".join(f"{k}={v}" for k, v in outcome.surfaced.items() if v) or "none"
        calls = outcome.calls_unanswered + outcome.calls_repeated
        tries = outcome.surfaced.get("reconnecting", 0)
        ok = (
            outcome.recovered
            and outcome.items_lost == 0
            and not outcome.escaped
            and calls == 0
            and tries <= MAX_ATTEMPTS
        )
        rows.append(
            Row(
                f"fault '{outcome.fault}': items lost",
                outcome.items_lost,
                "",
                "== 0, recovered, calls once",
                ok,
                f"recovered={outcome.recovered}; calls unanswered={outcome.calls_unanswered} "
                f"repeated={outcome.calls_repeated}; reconnect attempts={tries}; "
                f"events: {surfaced}; {seconds:.2f} s",
            )
        )
    return rows


def soak_rows(minutes: int, checkpoints: tuple[int, ...], *, widget_too: bool = False) -> list[Row]:
    """Memory at the checkpoints and the last/second-checkpoint ratio, uncapped and capped."""
    rows: list[Row] = []
    base, last = checkpoints[1], checkpoints[-1]
    runs = [(None, False), (CAP_SECONDS, False)] + ([(CAP_SECONDS, True)] if widget_too else [])
    for cap, widget in runs:
        started = time.perf_counter()
        samples = {s.minute: s for s in soak(minutes, max_audio_seconds=cap, widget=widget)}
        wall = time.perf_counter() - started
        label = "no audio cap" if cap is None else f"max_audio_seconds={cap}"
        label += ", widget kernel side" if widget else ""
        for minute in checkpoints:
            s = samples[minute]
            rows.append(
                Row(
                    f"soak memory at minute {minute} ({label})",
                    s.traced_mb,
                    "MB",
                    "report",
                    True,
                    f"tracemalloc; RSS {s.rss_mb:.0f} MB; audio in items {s.audio_mb:.1f} MB; "
                    f"{s.items} items",
                )
            )
        ratio = samples[last].traced_mb / samples[base].traced_mb
        beside = (samples[last].traced_mb - samples[last].audio_mb) - (
            samples[base].traced_mb - samples[base].audio_mb
        )
        rows.append(
            Row(
                f"soak memory minute {last}/{base} ({label})",
                ratio,
                "x",
                "<= 1.2" if cap else "report",
                ratio <= 1.2 if cap else True,
                f"{minutes} simulated minutes in {wall:.0f} s",
            )
        )
        rows.append(
            Row(
                f"soak growth besides item audio, minute {base}->{last} ({label})",
                beside,
                "MB",
                "< 5 MB",
                beside < 5,
                "traced memory minus audio kept in items: transcripts, dicts, leaks",
            )
        )
    return rows


def run(quick: bool = False) -> list[Row]:
    """The fault matrix and the soak's memory curve."""
    if quick:
        return fault_rows() + soak_rows(7, (1, 5, 7))
    return fault_rows() + soak_rows(60, (1, 10, 30, 60), widget_too=True)


if __name__ == "__main__":
    print(Row.table(run(quick="--quick" in sys.argv)))
