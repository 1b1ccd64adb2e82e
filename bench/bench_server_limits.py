"""The embedded server beside a hostile client (issue 13): its memory and the others' pacing.

The server runs in its own process (``python -m realtime_widget.server``, real-time pacing); this
process plays ``SESSIONS`` ordinary voice sessions (``bench_server``'s paced microphone with
server VAD, answered with paced audio) and, beside them, one hostile client:

- *never reads*: it adds a 20-second audio item, then asks for it back
  (``conversation.item.retrieve``, 1.3 MB per answer) over and over without reading a byte; the
  server must close it (1008, its outbox is bounded) and stay small; it reconnects and does it
  again for the whole run;
- *floods items*: it sends ``conversation.item.create`` of 2 kB text items as fast as the socket
  takes them, reading the answers, until the run ends: the conversation caps
  (``max_items`` / ``max_conversation_bytes``) answer with ``conversation_full``.

Each hostile client gets a fresh server (memory a process took is not given back). Rows: the
server's peak RSS (``/proc/PID/status``, sampled every 50 ms) over its peak with the ordinary
sessions alone ("idle": the same sessions, no hostile client, measured first on the same
server), target <= 1.5x; and the ordinary sessions' audio pacing p99 (lateness of each delta
against its real-time schedule, as ``bench_server``), target <= 50 ms, beside their p99 in the
idle run.

Usage: ``python bench/bench_server_limits.py [--quick]``
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from _rows import Row  # noqa: E402
from bench_server import DRIFT_TARGET_MS, _mic_pattern, _session, _start_server  # noqa: E402

from realtime_widget.audio import encode_base64  # noqa: E402

SESSIONS = 5
RSS_TARGET = 1.5


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


async def _sample_rss(pid: int, peak: list[float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        peak[0] = max(peak[0], _rss_mb(pid))
        await asyncio.sleep(0.05)


def _item(text: str) -> str:
    part = {"type": "input_text", "text": text}
    item = {"type": "message", "role": "user", "content": [part]}
    return json.dumps({"type": "conversation.item.create", "item": item})


async def _never_reads(url: str, stop: asyncio.Event, stats: dict) -> None:
    """Ask for 1.3 MB answers without reading them; reconnect whenever the server closes."""
    import websockets

    audio = (np.random.default_rng(2).standard_normal(20 * 24000) * 3000).astype(np.int16)
    part = {"type": "input_audio", "audio": encode_base64(audio)}
    create = json.dumps(
        {
            "type": "conversation.item.create",
            "item": {"id": "item_long", "type": "message", "role": "user", "content": [part]},
        }
    )
    retrieve = json.dumps({"type": "conversation.item.retrieve", "item_id": "item_long"})
    while not stop.is_set():
        # max_queue=1: the library stops reading the socket after one message.
        ws = await websockets.connect(url, max_size=None, max_queue=1, compression=None)
        stats["connections"] += 1
        try:
            await ws.send(create)
            while not stop.is_set():
                await ws.send(retrieve)
                stats["requests"] += 1
                await asyncio.sleep(0.005)
        except websockets.ConnectionClosed:
            stats["closed"] += 1
        finally:
            ws.transport.abort()


async def _floods_items(url: str, stop: asyncio.Event, stats: dict) -> None:
    """Create 2 kB items as fast as the socket takes them, reading every answer."""
    import websockets

    event = _item("flood " * 340)
    async with websockets.connect(url, max_size=None, compression=None) as ws:

        async def read() -> None:
            async for frame in ws:
                if '"conversation_full"' in frame:
                    stats["refused"] += 1
                elif '"conversation.item.done"' in frame:
                    stats["added"] += 1

        reader = asyncio.create_task(read())
        while not stop.is_set():
            await ws.send(event)
            stats["requests"] += 1
            await asyncio.sleep(0)
        reader.cancel()


HOSTILE = {"never_reads": _never_reads, "floods_items": _floods_items}


async def _hostile_main(name: str, url: str, seconds: float) -> None:
    """The hostile client's process: run for ``seconds``, print its counts as JSON."""
    stats = {"connections": 0, "closed": 0, "requests": 0, "refused": 0, "added": 0}
    stop = asyncio.Event()
    task = asyncio.create_task(HOSTILE[name](url, stop, stats))
    await asyncio.sleep(seconds)
    stop.set()
    try:
        await asyncio.wait_for(task, 10)
    except Exception as exc:  # a hostile client's end is not the figure
        stats["ended"] = type(exc).__name__
    print(json.dumps(stats), flush=True)


async def _scenario(url: str, pid: int, seconds: float, hostile: str | None) -> dict:
    mic = _mic_pattern()
    out = {"lateness": [], "responses": 0, "errors": 0}
    peak, stop = [0.0], asyncio.Event()
    sampler = asyncio.create_task(_sample_rss(pid, peak, stop))
    process = None
    if hostile is not None:
        # Its own process: its loop must not delay the ordinary clients' clocks here.
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            __file__,
            "--hostile",
            hostile,
            url,
            str(seconds + 1),
            stdout=asyncio.subprocess.PIPE,
        )
    await asyncio.gather(*(_session(url, i, seconds, mic, out) for i in range(SESSIONS)))
    stats: dict = {}
    if process is not None:
        output, _ = await process.communicate()
        stats = json.loads(output.decode().strip().splitlines()[-1])
    stop.set()
    await sampler
    late = sorted(out["lateness"])
    p99 = late[min(len(late) - 1, int(0.99 * len(late)))] if late else float("nan")
    median = statistics.median(late) if late else float("nan")
    return {"peak": peak[0], "p99": p99, "median": median, "deltas": len(late), **stats}


def _with_fresh_server(seconds: float, hostile: str) -> tuple[dict, dict]:
    """``(idle, hostile)`` figures on a new server: ordinary sessions alone, then beside it."""
    from bench_server import _warm_up

    proc, url = _start_server()
    try:
        asyncio.run(_warm_up(url))
        # Twice: the first run's allocations (speech, buffers) are the process's from then on.
        asyncio.run(_scenario(url, proc.pid, seconds, None))
        idle = asyncio.run(_scenario(url, proc.pid, seconds, None))
        result = asyncio.run(_scenario(url, proc.pid, seconds, hostile))
        result["after"] = _rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(10)
    return idle, result


def run(quick: bool = False) -> list[Row]:
    """Measure; see the module docstring."""
    seconds = 8.0 if quick else 15.0
    rows = []
    for label, hostile in (
        ("one client never reads", "never_reads"),
        ("one client floods items", "floods_items"),
    ):
        idle, result = _with_fresh_server(seconds, hostile)
        if hostile == "never_reads":
            detail = (
                f"{result['connections']} connections, {result['closed']} closed by the server, "
                f"{result['requests']} retrieve requests of 1.3 MB answers"
            )
        else:
            detail = (
                f"{result['requests']} item.create sent, {result['added']} added, "
                f"{result['refused']} refused (conversation_full)"
            )
        load = os.getloadavg()[0]
        common = f"{SESSIONS} paced voice sessions beside it, {seconds:.0f} s; load {load:.1f}"
        ratio = result["peak"] / idle["peak"]
        rows.append(
            Row(
                f"server RSS while {label}",
                ratio,
                "x idle",
                f"<= {RSS_TARGET}x",
                ratio <= RSS_TARGET,
                f"peak {result['peak']:.0f} MB vs idle {idle['peak']:.0f} MB "
                f"({result['after']:.0f} MB at the end); {detail}",
            )
        )
        rows.append(
            Row(
                f"other sessions' audio pacing p99 while {label}",
                result["p99"],
                "ms",
                f"<= {DRIFT_TARGET_MS:g} ms",
                result["p99"] <= DRIFT_TARGET_MS,
                f"{common}; idle p99 {idle['p99']:.1f} ms; median {result['median']:.1f} ms; "
                f"{result['deltas']} deltas",
            )
        )
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--hostile"]:
        asyncio.run(_hostile_main(sys.argv[2], sys.argv[3], float(sys.argv[4])))
    else:
        print(Row.table(run(quick="--quick" in sys.argv)))
