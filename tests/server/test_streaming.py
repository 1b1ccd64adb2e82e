"""Streaming brains through the real server: clauses as they come, cancel stops the brain."""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
import websockets

from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.brains import Call
from realtime_widget.server.speech import formant_speech


class WordsBrain:
    """Writes ``count`` words, one every ``pause`` seconds, then the given calls."""

    def __init__(self, count: int = 20, pause: float = 0.01, calls=(), fail: str | None = None):
        self.count, self.pause, self.calls, self.fail = count, pause, list(calls), fail
        self.written = 0
        self.ended = threading.Event()

    def stream(self, context, stop):
        try:
            for n in range(self.count):
                if stop.is_set():
                    return
                time.sleep(self.pause)
                self.written += 1
                yield f"word{n}{'.' if n % 5 == 4 else ''} "
            if self.fail:
                raise RuntimeError(self.fail)
            yield from self.calls
        finally:
            self.ended.set()


async def _session(server, modalities=("text",)):
    ws = await websockets.connect(server.url, max_size=None)
    await ws.send(
        json.dumps(
            {
                "type": "session.update",
                "session": {
                    "type": "realtime",
                    "output_modalities": list(modalities),
                    "audio": {"input": {"turn_detection": None}},
                    "tools": [{"type": "function", "name": "lookup", "parameters": {}}],
                },
            }
        )
    )
    return ws


async def _until(ws, kind, seen=None, timeout=10):
    async with asyncio.timeout(timeout):
        while True:
            event = json.loads(await ws.recv())
            if seen is not None:
                seen.append(event)
            if event["type"] == kind:
                return event


async def test_server_streams_a_brains_text_while_it_is_still_writing():
    brain = WordsBrain(count=30, pause=0.02, calls=[Call("lookup", "{}")])
    async with LocalRealtimeServer(brain=brain, speed=0) as server:
        ws = await _session(server)
        await ws.send(json.dumps({"type": "response.create"}))
        first = await _until(ws, "response.output_text.delta")
        assert not brain.ended.is_set()  # the first words left before the brain finished
        seen = [first]
        done = await _until(ws, "response.done", seen)
        text = "".join(e["delta"] for e in seen if e["type"] == "response.output_text.delta")
        assert text == "".join(f"word{n}{'.' if n % 5 == 4 else ''} " for n in range(30))
        kinds = [o["type"] for o in done["response"]["output"]]
        assert done["response"]["status"] == "completed" and kinds == ["message", "function_call"]
        assert done["response"]["output"][0]["content"][0]["text"] == text
        await ws.close()


async def test_server_cancel_stops_the_brain_thread_at_once():
    brain = WordsBrain(count=10_000, pause=0.005)
    async with LocalRealtimeServer(brain=brain, speed=0) as server:
        ws = await _session(server)
        await ws.send(json.dumps({"type": "response.create"}))
        await _until(ws, "response.output_text.delta")
        await ws.send(json.dumps({"type": "response.cancel"}))
        done = await _until(ws, "response.done")
        assert done["response"]["status"] == "cancelled"
        assert await asyncio.to_thread(brain.ended.wait, 1.0)
        written = brain.written
        await asyncio.sleep(0.2)
        assert brain.written == written < 10_000  # nothing more is generated
        await ws.close()


async def test_server_closing_the_connection_stops_the_brain():
    brain = WordsBrain(count=10_000, pause=0.005)
    async with LocalRealtimeServer(brain=brain, speed=0) as server:
        ws = await _session(server)
        await ws.send(json.dumps({"type": "response.create"}))
        await _until(ws, "response.output_text.delta")
        await ws.close()
        assert await asyncio.to_thread(brain.ended.wait, 2.0)


async def test_server_speaks_clauses_and_truncates_at_the_audio_sent():
    brain = WordsBrain(count=15, pause=0.01)
    async with LocalRealtimeServer(brain=brain, synthesizer=formant_speech, speed=0) as server:
        ws = await _session(server, ("audio",))
        await ws.send(json.dumps({"type": "response.create"}))
        seen: list[dict] = []
        done = await _until(ws, "response.done", seen)
        assert done["response"]["status"] == "completed"
        deltas = [e for e in seen if e["type"] == "response.output_audio.delta"]
        transcript = "".join(
            e["delta"] for e in seen if e["type"] == "response.output_audio_transcript.delta"
        )
        assert len(deltas) > 10 and transcript.split() == [
            f"word{n}{'.' if n % 5 == 4 else ''}" for n in range(15)
        ]
        added = [e for e in seen if e["type"] == "response.content_part.added"]
        assert len(added) == 1  # three clauses, one message item
        item_id = deltas[0]["item_id"]
        await ws.send(
            json.dumps(
                {
                    "type": "conversation.item.truncate",
                    "item_id": item_id,
                    "content_index": 0,
                    "audio_end_ms": 500,
                }
            )
        )
        truncated = await _until(ws, "conversation.item.truncated")
        assert truncated["audio_end_ms"] == 500
        await ws.close()


@pytest.mark.parametrize("modalities", [("text",), ("audio",)])
async def test_server_failing_brain_fails_the_response_and_the_next_one_works(modalities):
    brain = WordsBrain(count=3, fail="the model file is corrupt: download it again")
    async with LocalRealtimeServer(brain=brain, synthesizer=formant_speech, speed=0) as server:
        ws = await _session(server, modalities)
        await ws.send(json.dumps({"type": "response.create"}))
        seen: list[dict] = []
        done = await _until(ws, "response.done", seen)
        errors = [e for e in seen if e["type"] == "error"]
        assert done["response"]["status"] == "failed"
        assert "download it again" in done["response"]["status_details"]["error"]["message"]
        assert errors and "download it again" in errors[0]["error"]["message"]
        brain.fail = None
        await ws.send(json.dumps({"type": "response.create"}))
        again = await _until(ws, "response.done")
        assert again["response"]["status"] == "completed"
        await ws.close()


async def test_server_bug_while_producing_fails_the_response_instead_of_hanging(monkeypatch):
    import realtime_widget.server.app as app

    class Broken:
        def feed(self, delta):
            raise KeyError("a bug in the clause splitter")

        def flush(self):
            return ""

    monkeypatch.setattr(app, "ClauseSplitter", Broken)
    brain = WordsBrain(count=5)
    async with LocalRealtimeServer(brain=brain, synthesizer=formant_speech, speed=0) as server:
        ws = await _session(server, ("audio",))
        await ws.send(json.dumps({"type": "response.create"}))
        done = await _until(ws, "response.done")
        assert done["response"]["status"] == "failed"
        monkeypatch.undo()
        await ws.send(json.dumps({"type": "response.create"}))
        again = await _until(ws, "response.done")
        assert again["response"]["status"] == "completed"
        await ws.close()


async def test_server_vad_option_is_checked_at_construction_and_reaches_sessions():
    with pytest.raises(ValueError, match="vad must be one of"):
        LocalRealtimeServer(vad="loud")
    async with LocalRealtimeServer(vad="energy") as server:
        ws = await _session(server)
        await _until(ws, "session.updated")
        assert [s.input.vad_kind for s in server.sessions] == ["energy"]
        await ws.close()


async def test_server_with_an_unreachable_model_endpoint_fails_the_response_and_says_so():
    import socket

    from realtime_widget.server.llm import OpenAIChatLLM
    from realtime_widget.server.local import LocalBrain

    with socket.socket() as sock:  # a port that nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    brain = LocalBrain(OpenAIChatLLM(f"http://127.0.0.1:{port}/v1", "any", timeout=5))
    async with LocalRealtimeServer(brain=brain, speed=0) as server:
        ws = await _session(server)
        await ws.send(json.dumps({"type": "response.create"}))
        seen: list[dict] = []
        done = await _until(ws, "response.done", seen, timeout=20)
        assert done["response"]["status"] == "failed"
        errors = [e for e in seen if e["type"] == "error"]
        assert errors and f"127.0.0.1:{port}" in errors[0]["error"]["message"]
        await ws.close()


async def test_server_gives_the_sessions_transcription_language_and_prompt_to_the_transcriber():
    import base64

    seen: list[dict] = []

    def transcriber(samples, rate, *, language=None, prompt=None):
        seen.append({"language": language, "prompt": prompt})
        return "guten Tag"

    async with LocalRealtimeServer(transcriber=transcriber, speed=0) as server:
        ws = await websockets.connect(server.url)
        transcription = {"model": "whisper-1", "language": "de", "prompt": "Kubernetes"}
        session = {
            "type": "realtime",
            "audio": {"input": {"turn_detection": None, "transcription": transcription}},
        }
        await ws.send(json.dumps({"type": "session.update", "session": session}))
        await _until(ws, "session.updated")
        audio = base64.b64encode(formant_speech("hallo").tobytes()).decode()
        await ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": audio}))
        await ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
        done = await _until(ws, "conversation.item.input_audio_transcription.completed")
        assert done["transcript"] == "guten Tag"
        assert seen == [{"language": "de", "prompt": "Kubernetes"}]
        await ws.close()


class TwoBrains:
    """A long answer in band; a short one for responses whose metadata names a purpose."""

    def __init__(self) -> None:
        self.long = WordsBrain(count=10_000, pause=0.005)
        self.short = WordsBrain(count=6, pause=0.01)

    def stream(self, context, stop):
        brain = self.short if context.metadata.get("purpose") else self.long
        return brain.stream(context, stop)


async def test_server_streams_out_of_band_brain_beside_in_band_one_and_cancels_each_alone():
    brains = TwoBrains()
    async with LocalRealtimeServer(brain=brains, speed=0) as server:
        ws = await _session(server)
        await ws.send(json.dumps({"type": "response.create"}))
        await _until(ws, "response.output_text.delta")
        oob = {"conversation": "none", "metadata": {"purpose": "summary"}}
        await ws.send(json.dumps({"type": "response.create", "response": oob}))
        done = await _until(ws, "response.done")
        assert done["response"]["metadata"] == {"purpose": "summary"}
        assert done["response"]["status"] == "completed"
        assert done["response"]["output"][0]["content"][0]["text"].startswith("word0 word1")
        assert not brains.long.ended.is_set()  # the in-band brain still writes
        await ws.send(json.dumps({"type": "response.cancel"}))
        done = await _until(ws, "response.done")
        assert done["response"]["status"] == "cancelled" and done["response"]["metadata"] is None
        assert await asyncio.to_thread(brains.long.ended.wait, 1.0)
        await ws.close()
