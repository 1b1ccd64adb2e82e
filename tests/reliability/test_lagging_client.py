"""Issue 13: a client that never reads cannot grow the embedded server nor hold up its sessions.

The server runs in its own process (the CLI) so psutil measures only the server. The lagging
client asks for a long audio item over and over (a few kilobytes of requests, megabytes of
answers) and never reads: without the outbox's bound the server grew by about 4 MB per request,
here to 1.6 GB, and another session's text turn took up to 1 s. With it, the server closes that
connection past 8 MiB of waiting events.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

import numpy as np
import psutil
import websockets

from realtime_widget.audio import encode_base64
from tests.helpers import UNIT

REQUESTS = 200
ITEM_SECONDS = 60  # its retrieve answer is ~3.8 MB of base64 audio
GROWTH_MB = 100  # the 8 MiB bound, the frame in flight and allocator slack; unbounded was ~1500


def _item(item_id: str) -> dict:
    noise = np.random.default_rng(0).standard_normal(24000 * ITEM_SECONDS) * 800
    audio = encode_base64(noise.astype(np.int16))
    return {
        "type": "conversation.item.create",
        "item": {
            "id": item_id,
            "type": "message",
            "role": "user",
            "content": [{"type": "input_audio", "audio": audio}],
        },
    }


async def _text_turn_seconds(url: str) -> float:
    """How long a text turn takes on a fresh connection (to ``response.done``)."""
    started = time.monotonic()
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(
            json.dumps(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": "still there?"}],
                    },
                }
            )
        )
        await ws.send(json.dumps({"type": "response.create"}))
        while json.loads(await asyncio.wait_for(ws.recv(), 5 * UNIT))["type"] != "response.done":
            pass
    return time.monotonic() - started


async def _flood_and_measure(url: str, server: psutil.Process) -> tuple[float, float, float]:
    await _text_turn_seconds(url)  # warm: one session served, allocator settled
    idle_mb = server.memory_info().rss / 1e6
    lagging = await websockets.connect(url, max_size=None, max_queue=1)  # stops reading at once
    await lagging.send(json.dumps(_item("item_long")))
    retrieve = json.dumps({"type": "conversation.item.retrieve", "item_id": "item_long"})
    for _ in range(REQUESTS):
        await lagging.send(retrieve)
    peak_mb, slowest = idle_mb, 0.0
    deadline = time.monotonic() + 4 * UNIT
    while time.monotonic() < deadline:
        slowest = max(slowest, await _text_turn_seconds(url))
        peak_mb = max(peak_mb, server.memory_info().rss / 1e6)
        await asyncio.sleep(0.1)
    lagging.transport.abort()
    return idle_mb, peak_mb, slowest


def test_server_memory_stays_bounded_while_a_client_never_reads_and_others_are_served():
    proc = subprocess.Popen(
        [sys.executable, "-m", "realtime_widget.server", "--port", "0", "--speed", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on ws://"), line
        idle_mb, peak_mb, slowest = asyncio.run(
            _flood_and_measure(line.split()[-1], psutil.Process(proc.pid))
        )
    finally:
        proc.terminate()
        proc.wait(10 * UNIT)
    print(f"idle {idle_mb:.0f} MB, peak {peak_mb:.0f} MB, slowest turn {slowest:.3f} s")
    assert peak_mb - idle_mb < GROWTH_MB, f"server grew from {idle_mb:.0f} to {peak_mb:.0f} MB"
    assert slowest < 0.5 * UNIT, f"another session's turn took {slowest:.2f} s"
