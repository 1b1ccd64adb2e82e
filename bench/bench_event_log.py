"""The widget's event log over an hour's session in Chromium: per frame, filter, search, resume.

The hour is made by the kernel's own code: a scripted hands-free session (a user turn every 15 s:
the microphone's 20 ms appends all along, server VAD events, an input transcription, a spoken
answer of 125 audio deltas and 40 transcript deltas, the done events) goes through the widget's
`EventLog` (folding) and its `Outbox` (one frame per 25 ms, on the session's clock), so the page
receives the log parts of the very frames a widget view would get: ~226,000 events in ~91,000
frames (a frame leaves when the 25 ms since the last one have passed and an event is pending).
The page runs the front end's event-log store and view (js/state/event-log.ts,
js/view/event-log.ts and the widget's CSS, bundled with esbuild) with the log open; each frame is
patched into the store and rendered, then layout is forced, all inside the timing.

Targets (why):

* per frame, p99 <= 4 ms: frames come at most 40 times a second; 4 ms is a quarter of a 60 Hz
  animation frame, so the log alone never makes the page miss a frame and leaves the main thread
  to audio and the conversation.
* filter toggle and search <= 50 ms over the full bounded log: RAIL's budget for handling an
  input so that the response (under 100 ms) feels instant.
* resume after 10 minutes paused <= 100 ms: the catch-up is one response to a click.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _rows import Row  # noqa: E402

from realtime_widget.widget._items import EventLog  # noqa: E402
from realtime_widget.widget._outbox import Outbox  # noqa: E402
from tests.ui.chromium import chromium_available, launch_chromium  # noqa: E402

TURN_S = 15.0
FRAME_S = 0.025
APPEND = {"type": "input_audio_buffer.append", "audio": "A" * 1280}  # 20 ms at 24 kHz
TARGET_FRAME_MS = 4.0
TARGET_INPUT_MS = 50.0
TARGET_RESUME_MS = 100.0


def session_events(minutes: float):
    """(time s, direction, event) of a scripted hands-free session, in time order."""
    turns = int(minutes * 60 / TURN_S)
    for turn in range(turns):
        t0 = turn * TURN_S
        user, resp, answer = f"item_u{turn}", f"resp_{turn}", f"item_a{turn}"
        timeline: list[tuple[float, str, dict]] = []
        for i in range(int(TURN_S / 0.02)):  # the microphone streams all along
            timeline.append((t0 + i * 0.02, ">", APPEND))
        timeline += [
            (t0 + 0.3, "<", {"type": "input_audio_buffer.speech_started", "item_id": user}),
            (t0 + 4.0, "<", {"type": "input_audio_buffer.speech_stopped", "item_id": user}),
            (t0 + 4.01, "<", {"type": "input_audio_buffer.committed", "item_id": user}),
            (t0 + 4.02, "<", {"type": "conversation.item.added", "item": {"id": user}}),
            (t0 + 4.03, "<", {"type": "conversation.item.done", "item": {"id": user}}),
            (t0 + 4.04, "<", {"type": "response.created", "response": {"id": resp}}),
            (t0 + 4.05, "<", {"type": "response.output_item.added", "response_id": resp}),
            (t0 + 4.06, "<", {"type": "conversation.item.added", "item": {"id": answer}}),
            (t0 + 4.07, "<", {"type": "response.content_part.added", "response_id": resp}),
        ]
        for i in range(10):
            kind = "conversation.item.input_audio_transcription.delta"
            delta = {"type": kind, "item_id": user, "delta": "word "}
            timeline.append((t0 + 4.1 + i * 0.05, "<", delta))
        timeline.append(
            (t0 + 4.7, "<", {"type": "conversation.item.input_audio_transcription.completed"})
        )
        for i in range(125):  # 5 s of answer, 25 audio deltas a second
            audio = {
                "type": "response.output_audio.delta",
                "response_id": resp,
                "item_id": answer,
                "delta": "A" * 6400,
            }
            timeline.append((t0 + 4.1 + i * 0.04, "<", audio))
            if i % 3 == 0 and i < 120:
                text = {
                    "type": "response.output_audio_transcript.delta",
                    "response_id": resp,
                    "item_id": answer,
                    "delta": "word ",
                }
                timeline.append((t0 + 4.1 + i * 0.04, "<", text))
        for j, kind in enumerate(
            [
                "response.output_audio.done",
                "response.output_audio_transcript.done",
                "response.content_part.done",
                "response.output_item.done",
                "conversation.item.done",
                "response.done",
                "rate_limits.updated",
            ]
        ):
            timeline.append((t0 + 9.2 + j * 0.001, "<", {"type": kind, "response_id": resp}))
        timeline.sort(key=lambda x: x[0])
        yield from timeline


def hour_frames(minutes: float) -> tuple[list[list[dict]], int]:
    """The log parts of the frames a view receives, and the number of events logged."""
    log, outbox = EventLog(), Outbox(frame_interval=FRAME_S)
    frames: list[list[dict]] = []
    events = 0
    for now, direction, event in session_events(minutes):
        frame = outbox.take_frame(now)
        if frame is not None:
            frames.append(frame[0]["log"])
        outbox.log(dict(log.add(direction, event, 1.7e9 + now)))  # a copy: the wire's snapshot
        events += 1
    frame = outbox.take_frame(float("inf"))
    if frame is not None:
        frames.append(frame[0]["log"])
    return frames, events


def _bundle() -> tuple[str, str]:
    out = Path("/tmp") / f"rtw-bench-event-log-{time.time_ns()}"
    subprocess.run(
        [
            "npx",
            "esbuild",
            "bench/js/event_log_page.ts",
            "--bundle",
            "--format=iife",
            f"--outdir={out}",
            "--loader:.css=css",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    js, css = (out / "event_log_page.js").read_text(), (out / "event_log_page.css").read_text()
    for f in out.iterdir():
        f.unlink()
    out.rmdir()
    return js, css


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(quick: bool = False) -> list[Row]:
    """Feed an hour (quick: 5 minutes) of the kernel's frames to the log in Chromium."""
    if not chromium_available():
        target = f"<= {TARGET_FRAME_MS:g} ms"
        name = "event log (browser): per frame, an hour's session, p99"
        return [Row(name, float("nan"), "ms", target, False, "skipped: no Chromium/playwright")]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch_chromium(pw, None)
        try:
            return measure(browser, 5.0 if quick else 60.0, 1.0 if quick else 10.0)
        finally:
            browser.close()


def measure(browser, minutes: float, paused_minutes: float) -> list[Row]:
    """Feed `minutes` of frames to the open log, then filter, search, pause for `paused_minutes`
    and resume, in a new page of `browser` (a Playwright Chromium)."""
    name = "event log (browser): per frame, an hour's session, p99"
    frames, _ = hour_frames(minutes + paused_minutes)
    split = int(len(frames) * minutes / (minutes + paused_minutes))
    live, paused = frames[:split], frames[split:]
    js, css = _bundle()
    page = browser.new_page(viewport={"width": 900, "height": 900})
    try:
        page.set_content(f"<!doctype html><style>{css}</style><body></body>")
        page.add_script_tag(content=js)
        times: list[float] = []
        chunk = 2400  # frames per call (~1.6 session minutes)
        for i in range(0, len(live), chunk):
            times += page.evaluate("(f) => bench.feed(f)", live[i : i + chunk])
        rows = page.evaluate("() => bench.rows()")
        live_events = page.evaluate("() => bench.totalEvents()")
        toggle = "() => bench.toggle('input[data-group=\"response\"]')"
        toggles = [page.evaluate(toggle) for _ in range(10)]
        searches = [
            page.evaluate("(t) => bench.search(t)", text)
            for text in ["speech_stopped", "resp_1", "word", "", "turn 3", "zzz", ""] * 2
        ]
        page.evaluate("() => bench.pause()")
        for i in range(0, len(paused), chunk):
            page.evaluate("(f) => bench.feed(f)", paused[i : i + chunk])
        arrived = page.evaluate("() => bench.arrived()")
        resume = page.evaluate("() => bench.resume()")
    finally:
        page.close()

    p99 = _p(times, 0.99)
    per_event_us = sum(times) * 1000 / max(1, live_events)
    note = (
        f"{minutes:g} min hands-free session, a turn per {TURN_S:g} s: {live_events} events in "
        f"{len(live)} frames of the kernel's EventLog+Outbox; Chromium headless, 2 shared cores; "
        f"{rows} rows kept (bound 500)"
    )
    return [
        Row(name, p99, "ms", f"<= {TARGET_FRAME_MS:g} ms", p99 <= TARGET_FRAME_MS, note),
        Row("event log (browser): per frame, median", statistics.median(times), "ms", "-", True),
        Row(
            "event log (browser): per event, mean",
            per_event_us,
            "us",
            "-",
            True,
            "all frames' time / events logged (folded appends and deltas counted one by one)",
        ),
        Row(
            "event log (browser): type filter toggle, 500 rows, median",
            statistics.median(toggles),
            "ms",
            f"<= {TARGET_INPUT_MS:g} ms",
            statistics.median(toggles) <= TARGET_INPUT_MS,
            f"response.* off/on x{len(toggles)}, layout included; max {max(toggles):.1f} ms",
        ),
        Row(
            "event log (browser): search, 500 rows, median",
            statistics.median(searches),
            "ms",
            f"<= {TARGET_INPUT_MS:g} ms",
            statistics.median(searches) <= TARGET_INPUT_MS,
            f"{len(searches)} searches over type, group and JSON; max {max(searches):.1f} ms",
        ),
        Row(
            f"event log (browser): resume after {paused_minutes:g} min paused",
            resume,
            "ms",
            f"<= {TARGET_RESUME_MS:g} ms",
            resume <= TARGET_RESUME_MS,
            f"{arrived} events arrived while paused; the view rebuilds from the bounded store",
        ),
    ]


if __name__ == "__main__":
    result = run(quick="--quick" in sys.argv)
    print(Row.table(result))
    if "--json" in sys.argv:
        print(json.dumps([r.as_dict() for r in result]))
