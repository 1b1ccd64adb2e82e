"""Browser latency: first assistant sample played after the server sent its first audio delta.

Side by side in one run, against the same embedded server behind one timing relay
(``tests/ui/delta_clock.py``, which stamps when each response's first delta leaves the server):

* **widget**: ``RealtimeWidget`` in JupyterLab in headless Chromium; a typed message per turn, so
  the audio goes server -> kernel -> comm -> the widget's AudioWorklet player;
* **bare**: a page that opens the server's websocket itself and plays the deltas with Web Audio,
  once with the widget player's prebuffer (isolates what the kernel/Jupyter path adds: the issue's
  target) and once with no prebuffer at all (for reference).

"Played" is when the first audible sample reaches the AudioContext destination, read by the same
sniffer worklet in every page (``tests/ui/audio_sniffer.py``), as epoch ms via
``getOutputTimestamp``; the relay stamps with ``time.time()`` on the same machine. Turns are
interleaved (widget, bare, bare-0, widget, ...) so machine noise hits all paths alike; medians.
"""

from __future__ import annotations

import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests/ui harness (JupyterLab, Chromium, relay, sniffer)
sys.path.insert(0, str(ROOT / "bench"))

from _rows import Row  # noqa: E402

from tests.ui.audio_sniffer import AUDIO_SNIFFER_JS  # noqa: E402
from tests.ui.bare_page import BarePageServer  # noqa: E402
from tests.ui.chromium import chromium_available, launch_chromium  # noqa: E402
from tests.ui.delta_clock import DeltaClock  # noqa: E402
from tests.ui.jupyter_lab import JupyterLabServer, write_notebook  # noqa: E402
from tests.ui.lab_page import LabNotebook  # noqa: E402
from tests.ui.speech_wav import make_silence_wav  # noqa: E402

TEXTS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
TARGET_MS = 30.0

# A minimal direct client: GA session without VAD, a text turn per call, deltas played by
# scheduling AudioBufferSourceNodes back to back once `prebuffer` ms are queued (or the audio ends).
BARE_PAGE = """<!doctype html><meta charset="utf-8"><title>bare realtime page</title>
<script>
const params = new URLSearchParams(location.search);
const prebufferMs = Number(params.get('prebuffer') || 0);
const ctx = new AudioContext();
const gain = ctx.createGain();
gain.connect(ctx.destination);
let next = 0, queued = [], queuedSamples = 0, started = false;
function schedule(f) {
  const buf = ctx.createBuffer(1, f.length, 24000);
  buf.copyToChannel(f, 0);
  const src = ctx.createBufferSource();
  src.buffer = buf;
  src.connect(gain);
  next = Math.max(next, ctx.currentTime);
  src.start(next);
  next += f.length / 24000;
}
function flush() {
  for (const f of queued) schedule(f);
  queued = []; queuedSamples = 0; started = true;
}
function onDelta(b64) {
  const bin = atob(b64), n = bin.length >> 1, f = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    f[i] = ((v << 16) >> 16) / 32768;
  }
  if (started) return schedule(f);
  queued.push(f); queuedSamples += n;
  if (queuedSamples * 1000 / 24000 >= prebufferMs) flush();
}
window.ready = new Promise((resolve, reject) => {
  const ws = new WebSocket(params.get('ws'));
  window.ws = ws;
  ws.onopen = () => {
    ws.send(JSON.stringify({type: 'session.update', session: {type: 'realtime',
      output_modalities: ['audio'], audio: {input: {turn_detection: null}}}}));
    resolve(true);
  };
  ws.onerror = () => reject(new Error('websocket failed'));
  ws.onmessage = (e) => {
    const ev = JSON.parse(e.data);
    if (ev.type === 'response.output_audio.delta') onDelta(ev.delta);
    else if (ev.type === 'response.output_audio.done' && !started) flush();
    else if (ev.type === 'response.created') started = false;
  };
});
window.turn = (text) => {
  window.ws.send(JSON.stringify({type: 'conversation.item.create', item: {type: 'message',
    role: 'user', content: [{type: 'input_text', text}]}}));
  window.ws.send(JSON.stringify({type: 'response.create'}));
};
</script>"""

WIDGET_CELL = """
import os
from realtime_widget import RealtimeWidget
w = RealtimeWidget(url=os.environ["RTW_BENCH_URL"])
w.hands_free = False
w
"""


def _widget_prebuffer_ms() -> int:
    """The widget player's prebuffer, read from its source (the bare page copies it)."""
    src = ROOT / "js" / "audio" / "engine.ts"
    match = re.search(r"prebufferMs:\s*(\d+)", src.read_text()) if src.exists() else None
    return int(match.group(1)) if match else 0


class _Path:
    """One way of playing a turn: its page, how it sends a turn, its latencies."""

    def __init__(self, name: str, page, send) -> None:
        self.name, self.page, self.send = name, page, send
        self.latencies: list[float] = []

    def play_turn(self, clock, text: str, measure: bool, timeout: float = 30.0) -> None:
        """Send one turn and wait until its reply has played out.

        With ``measure``, record first-played minus first-delta. A warm-up turn (``measure=False``)
        only creates the page's AudioContext, so its sniffer exists for the measured turns.
        """
        if measure:
            armed = self.page.evaluate("() => globalThis.__rtwSniffer.arm()")
            assert armed, f"{self.name}: no audio graph to listen to (run a warm-up turn first)"
        index = clock.count()
        self.send(text)
        timing = clock.wait_response(index, timeout)
        if measure:
            deadline = time.monotonic() + timeout
            played = None
            while played is None and time.monotonic() < deadline:
                played = self.page.evaluate("() => globalThis.__rtwSniffer.result")
                time.sleep(0.005)
            if played is None:
                raise TimeoutError(f"{self.name}: no sample played within {timeout}s")
            self.latencies.append(played - timing.first_delta * 1000)
        # Let the reply play out so turns never overlap: done + remaining audio + a margin.
        done = clock.wait_response(index, timeout, done=True)
        audio_s = done.audio_bytes / 48000
        time.sleep(max(0.0, timing.first_delta + audio_s + 0.4 - time.time()))


def run(quick: bool = False) -> list[Row]:
    """Measure both paths side by side; return the bench rows (see the module docstring)."""
    if not chromium_available():
        return [
            Row(
                "browser first-sample latency",
                float("nan"),
                "ms",
                f"<= {TARGET_MS} ms added",
                False,
                "skipped: no Chromium/playwright",
            )
        ]
    return _measure(turns=3 if quick else 10)


def _measure(turns: int) -> list[Row]:
    from playwright.sync_api import sync_playwright

    from realtime_widget import LocalRealtimeServer

    prebuffer = _widget_prebuffer_ms()
    with tempfile.TemporaryDirectory(prefix="rtw-bench-") as tmp, LocalRealtimeServer() as server:
        base = Path(tmp)
        with DeltaClock(server.url) as clock, BarePageServer() as pages, sync_playwright() as pw:
            lab = JupyterLabServer(base / "lab", env={"RTW_BENCH_URL": clock.url})
            lab.start()
            browser = launch_chromium(pw, make_silence_wav(base / "silence.wav"))
            try:
                paths = [
                    _widget_path(browser, lab, base),
                    *_bare_paths(browser, pages, clock.url, prebuffer),
                ]
                for p in paths:  # warm-up: creates each page's AudioContext and sniffer
                    p.play_turn(clock, "warm up", measure=False)
                for i in range(turns):
                    for p in paths:
                        p.play_turn(clock, TEXTS[i % len(TEXTS)], measure=True)
            finally:
                browser.close()
                lab.stop()
    return _rows(paths, prebuffer, turns)


def _widget_path(browser, lab: JupyterLabServer, base: Path) -> _Path:
    """The widget in JupyterLab, connected (through the relay) before the first turn."""
    name = "bench_browser.ipynb"
    write_notebook(lab.root / name, [WIDGET_CELL])
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.add_init_script(AUDIO_SNIFFER_JS)
    nb = LabNotebook(ctx.new_page(), lab, name, base)
    nb.open()
    nb.run_all()
    view = nb.wait_widget()
    view.wait_status("connected")
    return _Path("widget", nb.page, view.send_message)


def _bare_paths(browser, pages: BarePageServer, ws_url: str, prebuffer: int) -> list[_Path]:
    """Direct pages: one with the widget's prebuffer, one with none."""
    url = pages.add("bare.html", BARE_PAGE)
    paths = []
    for label, ms in (("bare", prebuffer), ("bare-0", 0)):
        ctx = browser.new_context()
        ctx.add_init_script(AUDIO_SNIFFER_JS)
        page = ctx.new_page()
        page.goto(f"{url}?ws={ws_url}&prebuffer={ms}")
        page.evaluate("() => window.ready")
        paths.append(
            _Path(label, page, lambda text, page=page: page.evaluate("t => turn(t)", text))
        )
    return paths


def _rows(paths: list[_Path], prebuffer: int, turns: int) -> list[Row]:
    med = {p.name: statistics.median(p.latencies) for p in paths}
    added = med["widget"] - med["bare"]
    note = f"median of {turns} interleaved turns; Chromium headless, embedded server, 2 cores"
    return [
        Row(
            "browser: server first delta -> first sample played, widget",
            med["widget"],
            "ms",
            "-",
            True,
            note,
        ),
        Row(
            f"browser: same, bare page ({prebuffer} ms prebuffer like the widget)",
            med["bare"],
            "ms",
            "-",
            True,
            note,
        ),
        Row("browser: same, bare page (no prebuffer)", med["bare-0"], "ms", "-", True, note),
        Row(
            "browser: widget path adds over a direct page (same prebuffer)",
            added,
            "ms",
            f"<= {TARGET_MS:g} ms",
            added <= TARGET_MS,
            f"widget median - bare median; spread widget {_spread(paths[0])}",
        ),
        Row(
            "browser: widget path adds over a direct page with no prebuffer",
            med["widget"] - med["bare-0"],
            "ms",
            "-",
            True,
            "reference: a page that plays each delta at once",
        ),
    ]


def _spread(path: _Path) -> str:
    xs = sorted(path.latencies)
    return f"{xs[0]:.0f}..{xs[-1]:.0f} ms"


if __name__ == "__main__":
    print(Row.table(run(quick="--quick" in sys.argv)))
