"""The soak's server, in its own process so the soak measures only the client's memory.

Run ``python -m tests.reliability._soak_server KEY``: prints the URL, serves until stdin closes.
Replies are 10 s of quiet noise (the synthesizer's cost is not what the soak measures).
"""

from __future__ import annotations

import sys

import numpy as np

from realtime_widget.server import LocalRealtimeServer

REPLY_SECONDS = 10
_REPLY = (np.random.default_rng(3).standard_normal(24000 * REPLY_SECONDS) * 800).astype(np.int16)


def reply_voice(text: str) -> np.ndarray:
    """Every reply: the same 10 s of audio (a fresh copy, as a real synthesizer returns)."""
    return _REPLY.copy()


def main() -> None:
    key = sys.argv[1] if len(sys.argv) > 1 else None
    with LocalRealtimeServer(speed=0, synthesizer=reply_voice, api_key=key) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main()
