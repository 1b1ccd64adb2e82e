"""Drivers that replay a trace (see ``_traces.py``) through the seed and through ours."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from realtime_widget.conversation import RealtimeConversation
from realtime_widget.protocol import normalize_server_event, to_beta_server_event

ROOT = Path(__file__).resolve().parents[2]
SEED_SCRIPT = Path(__file__).resolve().parent / "js" / "seed_conversation.mjs"
SEED_PACKAGE = ROOT / "node_modules" / "openai-realtime-api" / "package.json"
NODE = shutil.which("node")


def seed_available() -> bool:
    """Node and npm ``openai-realtime-api`` are installed."""
    return NODE is not None and SEED_PACKAGE.exists()


def beta_ops(ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The beta form of a GA trace: events beta lacks (``conversation.item.done``, ...) vanish."""
    out = []
    for op in ops:
        if op["op"] in ("event", "raw"):
            event = to_beta_server_event(op["event"])
            if event is None:
                continue
            op = {"op": op["op"], "event": event}
        out.append(op)
    return out


def run_seed(traces: list[list[dict[str, Any]]], timeout: float) -> list[dict[str, Any]]:
    """Run GA traces (converted to beta) through the seed in one Node process; one dump each."""
    lines = []
    for ops in traces:
        lines.append(json.dumps({"op": "new", "frequency": 24000}))
        lines.extend(json.dumps(op) for op in beta_ops(ops))
        lines.append(json.dumps({"op": "dump"}))
    done = subprocess.run(
        [NODE, str(SEED_SCRIPT)],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"seed driver failed ({done.returncode}): {done.stderr[-2000:]}")
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def _pcm(b64: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype="<i2")


def run_ours(
    ops: list[dict[str, Any]], *, dialect: str = "ga", input_mode: str = "ring"
) -> RealtimeConversation:
    """Replay a GA trace through our reducer.

    Args:
        ops: the trace.
        dialect: ``"ga"`` feeds events as they are; ``"beta"`` converts each to beta and back
            through ``normalize_server_event``, as ``RealtimeAPI`` does for a beta server;
            ``"beta-raw"`` feeds the beta events themselves, as seed code calling
            ``process_event`` does.
        input_mode: ``"ring"`` records input audio with ``append_input_audio``; ``"array"``
            passes the whole session buffer as ``input_audio`` on ``speech_stopped`` (the seed's
            contract).
    """
    conversation = RealtimeConversation()
    sent: list[np.ndarray] = []
    for op in ops:
        kind = op["op"]
        if kind == "append":
            samples = _pcm(op["audio"])
            if input_mode == "ring":
                conversation.append_input_audio(samples)
            else:
                sent.append(samples)
        elif kind == "queue":
            conversation.queue_input_audio(_pcm(op["audio"]))
        elif kind in ("event", "raw"):
            event = op["event"]
            if dialect in ("beta", "beta-raw"):
                event = to_beta_server_event(event)
                if event is None:
                    continue
                if dialect == "beta":
                    event = normalize_server_event(event)
            if input_mode == "array" and event["type"] == "input_audio_buffer.speech_stopped":
                whole = np.concatenate(sent) if sent else np.zeros(0, np.int16)
                conversation.process_event(event, whole)
            else:
                conversation.process_event(event)
    return conversation


def summarize(conversation: RealtimeConversation) -> list[dict[str, Any]]:
    """Our items in the seed driver's dump shape."""
    out = []
    for item in conversation.get_items():
        formatted = item["formatted"]
        audio = formatted["audio"]
        out.append(
            {
                "id": item.get("id"),
                "type": item.get("type"),
                "role": item.get("role"),
                "status": item.get("status"),
                "text": formatted["text"],
                "transcript": formatted["transcript"],
                "audio": base64.b64encode(audio.astype("<i2").tobytes()).decode(),
                "audio_length": len(audio),
                "tool": formatted.get("tool"),
                "output": formatted.get("output"),
            }
        )
    return out
