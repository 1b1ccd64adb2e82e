"""The echo tier's room works: Chromium's real capture hears Chromium's real playback.

``bench/bench_echo.py`` measures false barge-ins and residual echo in this room; these tests make
sure it can never silently measure silence: with echo cancellation off the page must capture its
own playback at about the level it played it (the loop is unity gain), and the simulated user's
voice must reach the page too. A bare page (no Jupyter) keeps those to a few seconds.

The last test runs the widget itself in the room (JupyterLab, the embedded server telling a long
story): its echo guard (``js/audio/echo-guard.ts``) must keep the answer playing on speakers
while the server's voice detection hears the room, and the user talking over it must still stop
it.
"""

from __future__ import annotations

import base64
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime_widget import LocalRealtimeServer
from tests.helpers import UNIT, require
from tests.ui.bare_page import BarePageServer
from tests.ui.chromium import chromium_available, launch_chromium_in_room
from tests.ui.delta_clock import DeltaClock
from tests.ui.echo_tap import (
    SILENT_DBFS,
    echo_tap_js,
    playback_stopped_at,
    residual_echo,
    speech_onset_s,
)
from tests.ui.jupyter_lab import JupyterLabServer, write_notebook
from tests.ui.lab_page import LabNotebook
from tests.ui.pulse_room import PulseRoom, pulse_available
from tests.ui.speech_wav import make_speech_wav, speech_tools_missing

pytestmark = pytest.mark.ui

# Plays PCM16 (base64, 48 kHz mono) through Web Audio while the microphone is open with the given
# constraints; the echo tap (init script) records both levels.
ROOM_PAGE = """<!doctype html><meta charset="utf-8"><title>echo room</title>
<script>
window.playAndCapture = async (b64, audio) => {
  const ctx = new AudioContext();
  await ctx.resume();
  const stream = await navigator.mediaDevices.getUserMedia({audio});
  ctx.createMediaStreamSource(stream);
  await new Promise((r) => setTimeout(r, 300));
  const bin = atob(b64), n = bin.length >> 1;
  const buffer = ctx.createBuffer(1, n, 48000), data = buffer.getChannelData(0);
  for (let i = 0; i < n; i++) {
    const v = bin.charCodeAt(2 * i) | (bin.charCodeAt(2 * i + 1) << 8);
    data[i] = ((v << 16) >> 16) / 32768;
  }
  const src = ctx.createBufferSource();
  src.buffer = buffer;
  src.connect(ctx.destination);
  src.start();
  await new Promise((r) => setTimeout(r, (n / 48000) * 1000 + 400));
  for (const t of stream.getTracks()) t.stop();
  await ctx.close();
  return globalThis.__rtwEcho.settings.at(-1);
};
window.listen = async (ms) => {
  const ctx = new AudioContext();
  const stream = await navigator.mediaDevices.getUserMedia({audio: {echoCancellation: false}});
  ctx.createMediaStreamSource(stream);
  window.listening = true;
  await new Promise((r) => setTimeout(r, ms));
  for (const t of stream.getTracks()) t.stop();
  await ctx.close();
};
</script>"""

RAW = {"echoCancellation": False, "noiseSuppression": False, "autoGainControl": False}


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Five seconds or so of espeak-ng speech at 48 kHz, -3 dBFS peak."""
    missing = speech_tools_missing()
    require(not missing, f"speech fixtures need {', '.join(missing)} on PATH")
    text = "The sea was calm and the ships sailed slowly toward the harbour at dawn"
    return make_speech_wav(tmp_path_factory.mktemp("echo") / "speech.wav", text, trail_silence_s=0)


@pytest.fixture(scope="module")
def room(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PulseRoom]:
    """A private PulseAudio room (Debian ``pulseaudio``; installed by ``.ci/run``)."""
    require(pulse_available(), "the echo tier needs pulseaudio, pactl and paplay on PATH")
    with PulseRoom(tmp_path_factory.mktemp("pulse")) as room:
        yield room


@pytest.fixture(scope="module")
def room_browser(room: PulseRoom, playwright_driver) -> Iterator[object]:
    """A Chromium that records the room's mic and plays into its speaker.

    It uses the session's Playwright driver: a second sync driver cannot start while the
    session's runs its loop (after any test that used ``chromium_for``, CI's order)."""
    require(chromium_available(), "Chromium and the playwright package")
    browser = launch_chromium_in_room(playwright_driver, room)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def room_page(room_browser) -> Iterator[object]:
    """A bare page in the room's Chromium, with the echo tap."""
    with BarePageServer() as pages:
        context = room_browser.new_context(permissions=["microphone"])
        context.add_init_script(echo_tap_js())
        page = context.new_page()
        page.goto(pages.add("room.html", ROOM_PAGE))
        yield page
        context.close()


def _pcm_b64(wav: Path) -> str:
    with wave.open(str(wav), "rb") as f:
        assert (f.getframerate(), f.getnchannels(), f.getsampwidth()) == (48000, 1, 2)
        return base64.b64encode(f.readframes(f.getnframes())).decode()


def test_room_carries_the_users_voice_to_the_page(room_page, speech, room) -> None:
    # First in the module: the shared page has played nothing yet. After the playback tests a
    # tail of their playback stayed in the tap's frames (clean-clone CI run: "the page itself
    # played something").
    room_page.evaluate("() => globalThis.__rtwEcho.take()")
    room_page.evaluate("() => { window.__listen = listen(6000); }")
    room_page.wait_for_function("() => window.listening", timeout=10_000 * UNIT)
    player = room.play_user(speech)
    try:
        player.wait(timeout=15 * UNIT)
    finally:
        if player.poll() is None:
            player.kill()
    room_page.evaluate("() => window.__listen")
    frames = room_page.evaluate("() => globalThis.__rtwEcho.take()")
    assert frames, "the tap saw no microphone"
    assert all(f[2] < SILENT_DBFS for f in frames), "the page itself played something"
    loudest = max(f[1] for f in frames)
    assert loudest > -30.0, f"the user's voice did not reach the page (peak {loudest:.1f} dBFS)"


def test_room_capture_hears_playback_without_echo_cancellation(room_page, speech, room) -> None:
    room_page.evaluate("() => globalThis.__rtwEcho.take()")
    settings = room_page.evaluate("([b, a]) => playAndCapture(b, a)", [_pcm_b64(speech), RAW])
    assert settings["echoCancellation"] is False, settings
    levels = residual_echo(room_page.evaluate("() => globalThis.__rtwEcho.take()"))
    assert levels is not None, f"the page played nothing audible; pulseaudio: {room.log_tail()}"
    assert levels.audible_s > 1.0, levels
    # Unity-gain loop: the capture is the playback, give or take resampling and a frame of delay.
    assert -6.0 < levels.residual_db < 3.0, levels
    assert levels.capture_dbfs > -40.0, levels


def test_room_echo_cancellation_removes_most_of_the_playback(room_page, speech) -> None:
    # The widget's constraints (js/audio/engine.ts). Chrome's canceller takes everything Chrome
    # plays as its reference (DESIGN §4); measured here: 25-60 dB less than with it off. The
    # median frame, with a loose bound: under load the canceller sometimes leaks for a second or
    # two (bench/bench_echo.py counts that); this guards the room and the constraints.
    widget = {"echoCancellation": True, "noiseSuppression": True, "autoGainControl": True}
    room_page.evaluate("() => globalThis.__rtwEcho.take()")
    settings = room_page.evaluate("([b, a]) => playAndCapture(b, a)", [_pcm_b64(speech), widget])
    assert settings["echoCancellation"] is True, settings
    levels = residual_echo(room_page.evaluate("() => globalThis.__rtwEcho.take()"))
    assert levels is not None and levels.audible_s > 1.0, levels
    assert levels.median_residual_db < -20.0, levels


STORY = (
    "Once upon a time there was a small harbour town by the sea where the fishing boats came "
    "home every evening with the tide and the children ran along the pier to count them one by "
    "one while the old lighthouse keeper told stories about the storms of long ago and the "
    "ships that sailed far beyond the horizon to find new islands full of birds and forests"
)
"""The brain's answer to every turn: about 25 s of espeak-ng speech (bench/bench_echo.py's)."""

UNCUT_S = 12.0
"""How long the answer must play on speakers, uncut by its own echo, before the user talks."""

SPEECH_STARTED = ("<", "input_audio_buffer.speech_started")

BARGE_IN_BOUND_S = 8.0
"""The user's speech onset -> the page stopped playing (bench/bench_echo.py, canceller on: median
2.5 s, 1.3-3.8 s over 6 trials at load 6; here the canceller is off, the echo as loud as the
voice: 6.5 s seen while the full suite ran beside it). The bench's "missed" bound."""


def test_echo_guard_keeps_the_answer_on_speakers_and_the_user_still_barges_in(
    room_browser, room: PulseRoom, lab_server: JupyterLabServer, artifacts: Path, tmp_path: Path
) -> None:
    # The canceller forced off: the room then returns the whole answer at unity gain, the worst
    # leak there is (without the guard, server VAD cut the answer within seconds every time).
    user = make_speech_wav(
        tmp_path / "user.wav",
        "Wait a moment please I have another question about the harbour",
        trail_silence_s=0,
    )
    with (
        LocalRealtimeServer(brain=lambda _text: STORY) as server,
        DeltaClock(server.url) as relay,
    ):
        name = "echo_guard.ipynb"
        cell = (
            f"from realtime_widget import RealtimeWidget\nw = RealtimeWidget(url={relay.url!r})\nw"
        )
        write_notebook(lab_server.root / name, [cell])
        context = room_browser.new_context(permissions=["microphone"])
        context.add_init_script(echo_tap_js(echo_cancellation=False))
        nb = LabNotebook(context.new_page(), lab_server, name, artifacts)
        try:
            nb.open()
            nb.run_all()
            view = nb.wait_widget()
            view.wait_status("connected")
            view.listen_hands_free()
            page = nb.page
            frames: list[list[float]] = []

            def take() -> None:
                frames.extend(page.evaluate("() => globalThis.__rtwEcho.take()"))

            take()
            view.send_message("Tell me a story")
            deadline = time.time() + 60 * UNIT
            while not any(f[2] >= SILENT_DBFS for f in frames):
                assert time.time() < deadline, "the answer never played"
                time.sleep(0.1)
                take()
            began = next(f[0] for f in frames if f[2] >= SILENT_DBFS)
            settings = page.evaluate("() => globalThis.__rtwEcho.settings.at(-1)")
            assert settings["echoCancellation"] is False, settings
            while time.time() * 1000 < began + UNCUT_S * 1000:
                time.sleep(0.2)
                take()
            cut = playback_stopped_at(frames, began)
            kinds = [(d, k) for t, d, k in list(relay.events) if t * 1000 >= began]
            assert cut is None, (
                f"the answer stopped {(cut - began) / 1000:.1f} s in, by its own echo: "
                f"{[k for d, k in kinds if k.startswith('input_audio_buffer')]}; "
                f"guard: {page.evaluate('() => globalThis.__rtwEcho.guard')}"
            )
            assert (">", "conversation.item.truncate") not in kinds
            guard = page.evaluate("() => globalThis.__rtwEcho.guard")
            assert guard and guard["gatedFrames"] > 0, guard

            started = time.time()
            onset_ms = (started + speech_onset_s(user)) * 1000
            player = room.play_user(user)
            try:
                stopped = None
                while time.time() - started < 12 * UNIT and stopped is None:
                    time.sleep(0.1)
                    take()
                    stopped = playback_stopped_at(frames, onset_ms - 200)
            finally:
                player.wait(timeout=30)
            assert stopped is not None, "the user talking over the answer did not stop it"
            latency = (stopped - onset_ms) / 1000
            assert latency < BARGE_IN_BOUND_S * UNIT, f"barge-in took {latency:.1f} s"
            # The server's voice detection heard the user (the guard let the voice through).
            heard = [t for t, d, k in list(relay.events) if (d, k) == SPEECH_STARTED]
            assert any(t * 1000 >= onset_ms - 200 for t in heard), heard
        finally:
            nb.close()
            context.close()
            lab_server.shutdown_sessions()
