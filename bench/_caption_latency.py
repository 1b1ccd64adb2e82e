"""Caption latency of a transcription session with the local pipeline (issue 14, point 7).

Measured the way ``bench_local``'s voice-to-voice row is: espeak-ng speech streamed into the
embedded server in 40 ms appends at real time (as a microphone would), wall times taken at the
client as events arrive. For each sentence:

- *end of speech*: when the last chunk holding speech was sent (what a listener would call "I
  stopped talking"; the server cannot know it before its VAD has heard the silence after it);
- *first delta*: the first ``conversation.item.input_audio_transcription.delta`` of that turn;
- *completed*: its ``conversation.item.input_audio_transcription.completed``.

Target, justified: a caption should be on screen within about a second of the speaker's pause
to read as live (subtitling guidelines allow ~1-2 s of delay for live captions; the
conversation's own anchor, DESIGN §10, is ~1.2-1.5 s voice-to-voice on CPU, and captions skip
the language model and speech). Server VAD alone spends ``silence_duration_ms`` (500 here, the
value ``bench_local`` uses for espeak-ng's pauses) before the turn ends, so the budget left for
speech-to-text is ~500 ms: target <= 1000 ms end of speech -> first delta, <= 1200 ms to the
completed transcript.
"""

from __future__ import annotations

import asyncio
import json
import re
import statistics
import time

import numpy as np

CHUNK = 960  # 40 ms at 24 kHz
SILENCE_MS = 500

SENTENCES = [
    "The weather is lovely today",
    "Please open the window",
    "The train leaves from platform four",
    "The children are playing in the garden",
    "We are going to the beach tomorrow",
    "The museum opens at nine",
    "It is raining in London again",
    "Thank you for your patience",
]


async def _caption_turn(ws, text: str) -> dict:
    from realtime_widget.audio import encode_base64
    from realtime_widget.server.speech import espeak_speech

    speech = np.asarray(espeak_speech(text))
    audio = np.concatenate([np.zeros(4800, np.int16), speech, np.zeros(24000 * 2, np.int16)])
    speech_end_chunk = (4800 + len(speech) + CHUNK - 1) // CHUNK
    times: dict = {"text": text, "heard": ""}
    loop_done = asyncio.Event()

    async def read() -> None:
        while True:
            event = json.loads(await ws.recv())
            now = time.perf_counter()
            kind = event["type"]
            if kind == "input_audio_buffer.speech_stopped":
                times.setdefault("stopped", now)
            elif kind == "conversation.item.input_audio_transcription.delta":
                times.setdefault("first_delta", now)
            elif kind == "conversation.item.input_audio_transcription.completed":
                times["completed"] = now
                times["heard"] = event.get("transcript", "")
                loop_done.set()
                return
            elif kind == "error":
                times["error"] = event["error"].get("message")

    reader = asyncio.create_task(read())
    start = time.perf_counter()
    for n, offset in enumerate(range(0, len(audio), CHUNK)):
        delay = start + n * CHUNK / 24000 - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        chunk = audio[offset : offset + CHUNK]
        await ws.send(
            json.dumps({"type": "input_audio_buffer.append", "audio": encode_base64(chunk)})
        )
        if n + 1 == speech_end_chunk:
            times["speech_end"] = time.perf_counter()
        if reader.done():
            break
    await asyncio.wait_for(reader, 60)
    return times


def caption_latency(pipeline, sentences: list[str]) -> list[dict]:
    """One dict of wall times per spoken sentence (see the module docstring)."""
    import websockets

    from realtime_widget.server import LocalRealtimeServer

    async def main() -> list[dict]:
        async with LocalRealtimeServer(brain=pipeline) as server:
            async with websockets.connect(server.url, max_size=None) as ws:
                session = {
                    "type": "transcription",
                    "audio": {
                        "input": {
                            "transcription": {"model": "gpt-4o-mini-transcribe"},
                            "turn_detection": {
                                "type": "server_vad",
                                "silence_duration_ms": SILENCE_MS,
                            },
                        }
                    },
                }
                await ws.send(json.dumps({"type": "session.update", "session": session}))
                return [await _caption_turn(ws, text) for text in sentences]

    return asyncio.run(main())


def caption_rows(pipeline, quick: bool, row_type) -> list:
    """The two caption rows for ``bench_local`` (placed beside its voice-to-voice row)."""
    turns = caption_latency(pipeline, SENTENCES[:3] if quick else SENTENCES)
    first = [t["first_delta"] - t["speech_end"] for t in turns if "first_delta" in t]
    done = [t["completed"] - t["speech_end"] for t in turns if "completed" in t]
    after_vad = [
        t["first_delta"] - t["stopped"] for t in turns if "first_delta" in t and "stopped" in t
    ]
    heard = sum(
        1
        for t in turns
        if set(re.findall(r"[a-z]+", t["text"].lower()))
        & set(re.findall(r"[a-z]+", t["heard"].lower()))
    )
    first_ms = statistics.median(first) * 1000 if first else float("nan")
    done_ms = statistics.median(done) * 1000 if done else float("nan")
    vad_ms = statistics.median(after_vad) * 1000 if after_vad else float("nan")
    return [
        row_type(
            "local caption latency (end of speech -> first transcription delta)",
            first_ms,
            "ms",
            "<= 1000 ms",
            first_ms <= 1000,
            f"median of {len(first)} spoken sentences (max {max(first, default=0) * 1000:.0f} ms; "
            f"{vad_ms:.0f} ms after speech_stopped, VAD silence {SILENCE_MS} ms); "
            f"{heard}/{len(turns)} captions share words with the sentence",
        ),
        row_type(
            "local caption latency (end of speech -> transcription completed)",
            done_ms,
            "ms",
            "<= 1200 ms",
            done_ms <= 1200,
            f"median of {len(done)}; whisper base int8 on this CPU",
        ),
    ]
