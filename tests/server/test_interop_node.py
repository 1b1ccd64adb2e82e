"""Interop: the seed's TypeScript client (npm openai-realtime-api 1.0.8, beta) under Node."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.speech import formant_speech
from tests.helpers import UNIT, require
from tests.server.checked import checked, types

pytestmark = pytest.mark.peer

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def _require_node() -> str:
    node = shutil.which("node")
    require(node is not None, "Node.js is not installed")
    require(
        (ROOT / "node_modules" / "openai-realtime-api" / "package.json").exists(),
        "npm package openai-realtime-api is not installed (npm install)",
    )
    return node  # type: ignore[return-value]


async def _run_peer(scenario: str) -> dict:
    node = _require_node()
    async with LocalRealtimeServer(
        speed=0, synthesizer=lambda t: formant_speech(t).copy()
    ) as server:
        proc = await asyncio.create_subprocess_exec(
            node,
            str(HERE / "node_peer.mjs"),
            server.url,
            scenario,
            str(int(20000 * UNIT)),
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(proc.communicate(), 40 * UNIT)
    assert proc.returncode == 0, err.decode()
    result = json.loads(out.decode().strip().splitlines()[-1])
    assert result["ok"], result.get("error")
    checked(result["events"], "beta")
    return result


async def test_seed_client_completes_text_turn_in_beta_dialect():
    result = await _run_peer("text")
    assert result["reply"] == "You said: hello from node"
    kinds = types(result["events"])
    assert kinds[:2] == ["session.created", "conversation.created"]
    assert "session.updated" in kinds and "response.audio.delta" in kinds
    assert "conversation.item.done" not in kinds


async def test_seed_client_completes_tool_call_in_beta_dialect():
    result = await _run_peer("tool")
    assert result["toolArgs"] == {"a": 2, "b": 40}
    assert result["reply"] == 'add returned {"sum":42}.'
    assert types(result["events"]).count("response.done") == 2
