"""A client in its own process that sends the server heavy requests, one phase at a time.

Run as ``python -m tests.server.heavy_client URL PHASE...``; after each phase it prints
``done PHASE`` and waits for a line on stdin, so the test can read the server loop's lag for
that phase alone. Its own JSON work (a 38 MB answer) is in another process, so it cannot hold
the server's GIL. Phases: ``append`` (10 minutes of audio, turn detection off), ``commit``,
``retrieve`` (the committed item's audio back), ``big_append``/``big_vad_append`` (one
append near the 15 MiB limit, turn detection off/on), ``flood`` (4000 text items as fast as
the socket takes them), ``respond`` (a response over them).
"""

from __future__ import annotations

import json
import sys

import numpy as np
from websockets.sync.client import connect

from realtime_widget.audio import encode_base64

MINUTES = 10
ITEMS = 4000


def main(url: str, phases: list[str]) -> None:
    with connect(url, max_size=None, compression=None) as ws:

        def until(kind: str) -> str:
            while True:
                raw = ws.recv()
                if len(raw) > 1_000_000:  # the retrieved audio: do not parse 38 MB here
                    assert raw.startswith('{"') and raw.endswith("}"), raw[:100]
                    return raw
                event = json.loads(raw)
                if event["type"] == "error":
                    raise SystemExit(f"error: {event['error']}")
                if event["type"] == kind:
                    return raw

        until("session.created")
        update = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
        ws.send(json.dumps({"type": "session.update", "session": update}))
        until("session.updated")
        item_id = None
        noise = np.random.default_rng(0).standard_normal(24000 * 10) * 3000
        chunk = encode_base64(noise.astype(np.int16))
        for phase in phases:
            if phase == "append":
                for _ in range(MINUTES * 6):
                    ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk}))
                ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
                # ... and again, so the buffer holds them when the phase ends.
                until("input_audio_buffer.cleared")
                for _ in range(MINUTES * 6):
                    ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk}))
                ws.send(json.dumps({"type": "conversation.item.retrieve", "item_id": "none"}))
                try:
                    until("never")
                except SystemExit as exc:  # the retrieve's item_not_found: appends are done
                    assert "item_not_found" in str(exc), exc
            elif phase in ("big_append", "big_vad_append"):
                # One append near the 15 MiB limit (5 minutes of audio), VAD off / on.
                detection = {"type": "server_vad"} if phase == "big_vad_append" else None
                update = {"type": "realtime", "audio": {"input": {"turn_detection": detection}}}
                ws.send(json.dumps({"type": "session.update", "session": update}))
                until("session.updated")
                ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": chunk * 30}))
                ws.send(json.dumps({"type": "conversation.item.retrieve", "item_id": "none"}))
                try:
                    until("never")
                except SystemExit as exc:  # the retrieve's item_not_found: the append is done
                    assert "item_not_found" in str(exc), exc
                ws.send(json.dumps({"type": "input_audio_buffer.clear"}))
                until("input_audio_buffer.cleared")
                update = {"type": "realtime", "audio": {"input": {"turn_detection": None}}}
                ws.send(json.dumps({"type": "session.update", "session": update}))
                until("session.updated")
            elif phase == "commit":
                ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
                item_id = json.loads(until("input_audio_buffer.committed"))["item_id"]
                until("conversation.item.done")
            elif phase == "retrieve":
                ws.send(json.dumps({"type": "conversation.item.retrieve", "item_id": item_id}))
                raw = until("conversation.item.retrieved")
                assert len(raw) > MINUTES * 60 * 24000 * 2 * 4 // 3, len(raw)
            elif phase == "flood":
                text = "word " * 100
                part = {"type": "input_text", "text": text}
                item = {"type": "message", "role": "user", "content": [part]}
                event = json.dumps({"type": "conversation.item.create", "item": item})
                for _ in range(ITEMS):
                    ws.send(event)
                for _ in range(ITEMS):
                    until("conversation.item.done")
            elif phase == "respond":
                response = {"output_modalities": ["text"]}
                ws.send(json.dumps({"type": "response.create", "response": response}))
                until("response.done")
            print(f"done {phase}", flush=True)
            sys.stdin.readline()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
