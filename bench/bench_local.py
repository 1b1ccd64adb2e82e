"""The local pipeline with the test models: latency, cancel, word errors, shared engine, memory.

All figures use the registry-package test models (``python -m tests.local.models``): whisper base
(int8), a 0.5B GGUF (Q4_K_M) and the Piper voice ``en_US-joe-medium``, on this machine's CPU.

- voice-to-voice: spoken turns (espeak-ng speech streamed in 40 ms appends at real time) into
  the embedded server; ``input_audio_buffer.speech_stopped`` -> first
  ``response.output_audio.delta`` at the client, median over the turns.
- cancel: ``response.cancel`` during a long answer -> ``response.done`` at the client, and ->
  the language model idle again (its lock free: no token generated after that).
- caption latency of a transcription session (``_caption_latency``): end of speech -> first
  ``input_audio_transcription.delta`` and -> ``.completed``, beside voice-to-voice.
- STT word error rate on fixed espeak-ng sentences (none in the latency set).
- sessions on one shared ``python -m llama_cpp.server``: concurrent voice sessions whose LLM stage
  is that endpoint; p50 voice-to-voice per level (speech-to-text and speech run in this process,
  as each kernel would run its own).
- resident memory of a server process with the pipeline loaded, and per extra session.
"""

from __future__ import annotations

import asyncio
import json
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _caption_latency import caption_rows  # noqa: E402
from _rows import Row  # noqa: E402

from tests.local import models  # noqa: E402

QUESTIONS = [
    "What is the capital of France",
    "How many legs does a spider have",
    "What color is the sky on a clear day",
    "Who wrote Romeo and Juliet",
    "What is the largest planet in our solar system",
    "What do bees make",
    "How many days are there in a week",
    "What is the boiling point of water",
    "Which animal is known as the king of the jungle",
    "What is the opposite of hot",
    "What language do people speak in Spain",
    "What do plants need to grow",
]

WER_SENTENCES = [
    "The weather is lovely today",
    "Please open the window",
    "I would like a cup of tea",
    "The train leaves from platform four",
    "My favourite colour is green",
    "Can you help me with my homework",
    "The children are playing in the garden",
    "We are going to the beach tomorrow",
    "She reads a book every night",
    "The museum opens at nine",
    "Turn left at the next corner",
    "He plays the guitar very well",
    "The dog is sleeping on the sofa",
    "Our teacher gave us a long test",
    "It is raining in London again",
    "Let us meet after lunch",
    "The computer is very slow today",
    "I forgot my keys at home",
    "Water freezes when it is cold",
    "The moon is bright tonight",
    "Thank you for your patience",
    "Where is the nearest station",
]


def _pipeline(llm=None):
    from realtime_widget.server.llm import LlamaCppLLM
    from realtime_widget.server.local import find_pipeline

    paths = models.paths()
    llm = llm or LlamaCppLLM(paths["llm"], sha256=models.LLM_SHA256, temperature=0.0)
    return find_pipeline(str(paths["stt"]), llm, str(paths["tts"])).load()


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z']+|\d+", text.lower().replace("colour", "color"))


def _edit_distance(a: list[str], b: list[str]) -> int:
    row = list(range(len(b) + 1))
    for i, word in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, other in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (word != other))
    return row[-1]


async def _turns(url: str, questions: list[str]) -> list:
    from tests.local.voice import Turn, VoiceSession

    turns = []
    async with VoiceSession(url, instructions="You are a helpful assistant.") as session:
        for question in questions:
            try:
                turns.append(await session.speak(question, timeout=45))
            except asyncio.TimeoutError:
                turns.append(Turn(question, status="timeout"))
                break  # the session's stream is out of step now
    return turns


def voice_to_voice(pipeline, questions: list[str]) -> tuple[list[float], list]:
    from realtime_widget.server import LocalRealtimeServer

    async def main():
        async with LocalRealtimeServer(brain=pipeline) as server:
            return await _turns(server.url, questions)

    turns = asyncio.run(main())
    return [t.latency for t in turns if t.latency is not None], turns


def cancel_times(pipeline, repeat: int) -> tuple[list[float], list[float]]:
    from realtime_widget.server import LocalRealtimeServer
    from tests.local.voice import VoiceSession

    async def main():
        done_ms, idle_ms = [], []
        async with LocalRealtimeServer(brain=pipeline) as server:
            async with VoiceSession(server.url) as session:
                for _ in range(repeat):
                    text = "Tell me a long story about a dragon who lives by the sea."
                    item = {
                        "type": "message",
                        "role": "user",
                        "content": [{"type": "input_text", "text": text}],
                    }
                    await session.send({"type": "conversation.item.create", "item": item})
                    await session.send({"type": "response.create"})
                    kind = ""
                    while kind != "response.output_audio.delta":
                        kind = json.loads(await session.ws.recv())["type"]
                    sent = time.perf_counter()
                    await session.send({"type": "response.cancel"})
                    while kind != "response.done":
                        kind = json.loads(await session.ws.recv())["type"]
                    done_ms.append((time.perf_counter() - sent) * 1000)
                    lock = pipeline.llm._lock
                    while not lock.acquire(blocking=False):
                        await asyncio.sleep(0.001)
                    lock.release()
                    idle_ms.append((time.perf_counter() - sent) * 1000)
                    await asyncio.sleep(0.5)
        return done_ms, idle_ms

    return asyncio.run(main())


def word_error_rate(pipeline) -> float:
    from realtime_widget.server.speech import espeak_speech

    errors = total = 0
    for sentence in WER_SENTENCES:
        heard = pipeline.stt(np.asarray(espeak_speech(sentence)), 24000)
        ref = _words(sentence)
        errors += _edit_distance(ref, _words(heard))
        total += len(ref)
    return errors / total


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def shared_engine_curve(
    levels: list[int], turns_each: int
) -> tuple[dict[int, float], dict[int, int]]:
    """p50 voice-to-voice with N concurrent sessions on one llama_cpp.server."""
    from realtime_widget.server import LocalRealtimeServer
    from realtime_widget.server.llm import OpenAIChatLLM

    port = _free_port()
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "llama_cpp.server", "--model", str(models.paths()["llm"])),
            *("--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"),
            # one engine for many sessions: queue requests, never cut one off for the next
            *("--interrupt_requests", "False"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{url}/models", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("llama_cpp.server did not start") from None
                time.sleep(0.5)
        pipeline = _pipeline(OpenAIChatLLM(url))
        curve, failed = {}, {}
        for level in levels:

            async def main(level=level):
                async with LocalRealtimeServer(brain=pipeline) as server:
                    asks = [
                        [
                            QUESTIONS[(i * turns_each + k) % len(QUESTIONS)]
                            for k in range(turns_each)
                        ]
                        for i in range(level)
                    ]
                    results = await asyncio.gather(*(_turns(server.url, a) for a in asks))
                return [t for turns in results for t in turns]

            turns = asyncio.run(main())
            latencies = [t.latency for t in turns if t.latency is not None]
            curve[level] = statistics.median(latencies) if latencies else float("nan")
            failed[level] = sum(1 for t in turns if t.latency is None)
        return curve, failed
    finally:
        process.terminate()
        process.wait(10)


def memory(extra_sessions: int) -> tuple[float, float]:
    """RSS (MB) of a process with the pipeline loaded, and per extra session (one turn each)."""
    code = f"""
import asyncio, sys, psutil
sys.path.insert(0, {str(ROOT)!r}); sys.path.insert(0, {str(Path(__file__).parent)!r})
from bench_local import _pipeline, _turns
from realtime_widget.server import LocalRealtimeServer
pipeline = _pipeline()
proc = psutil.Process()
async def main():
    async with LocalRealtimeServer(brain=pipeline) as server:
        await _turns(server.url, ["Hello there"])
        base = proc.memory_info().rss
        await asyncio.gather(*(_turns(server.url, ["What do bees make"])
                               for _ in range({extra_sessions})))
        return base, proc.memory_info().rss
base, after = asyncio.run(main())
print(base / 2**20, (after - base) / 2**20 / {extra_sessions})
"""
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return float(out[-2]), float(out[-1])


def run(quick: bool = False) -> list[Row]:
    if not models.ready():
        raise RuntimeError("test models missing: run `make install-local` (or make test) first")
    pipeline = _pipeline()
    rows = []
    questions = QUESTIONS[:4] if quick else QUESTIONS
    latencies, turns = voice_to_voice(pipeline, questions)
    answered = sum(1 for t in turns if t.answer.strip())
    v2v = statistics.median(latencies) * 1000
    rows.append(
        Row(
            "local voice-to-voice (speech_stopped -> first audio)",
            v2v,
            "ms",
            "<= 700 ms",
            v2v <= 700,
            f"median of {len(latencies)} spoken turns (p90 "
            f"{np.percentile(latencies, 90) * 1000:.0f} ms); {answered} answered",
        )
    )
    # Caption latency of a transcription session (issue 14), beside voice-to-voice.
    rows.extend(caption_rows(pipeline, quick, Row))
    done_ms, idle_ms = cancel_times(pipeline, 3 if quick else 7)
    rows.append(
        Row(
            "local cancel -> response.done",
            statistics.median(done_ms),
            "ms",
            "<= 100 ms",
            statistics.median(done_ms) <= 100,
            f"median of {len(done_ms)}; max {max(done_ms):.0f} ms",
        )
    )
    rows.append(
        Row(
            "local cancel -> model idle",
            statistics.median(idle_ms),
            "ms",
            "<= 100 ms",
            statistics.median(idle_ms) <= 100,
            f"median of {len(idle_ms)}; max {max(idle_ms):.0f} ms (LLM lock free)",
        )
    )
    wer = word_error_rate(pipeline)
    rows.append(
        Row(
            "local STT word error rate",
            wer,
            "",
            "<= 0.3",
            wer <= 0.3,
            f"{len(WER_SENTENCES)} espeak-ng sentences, whisper base int8",
        )
    )
    levels = [1, 2] if quick else [1, 2, 4, 8]
    curve, failed = shared_engine_curve(levels, 2 if quick else 3)
    sustained = max((n for n, p50 in curve.items() if p50 <= 1.5), default=0)
    rows.append(
        Row(
            "sessions on one llama.cpp server (p50 <= 1.5 s)",
            sustained,
            "sessions",
            "report",
            True,
            "p50 by sessions: "
            + ", ".join(
                f"{n}: {p * 1000:.0f} ms ({failed[n]} turns unanswered)" for n, p in curve.items()
            ),
        )
    )
    base, per_session = memory(2 if quick else 4)
    rows.append(
        Row(
            "local server RSS with the pipeline loaded",
            base,
            "MB",
            "report",
            True,
            f"+{per_session:.1f} MB per extra session",
        )
    )
    return rows


if __name__ == "__main__":
    print(Row.table(run(quick="--quick" in sys.argv)))
