"""Levels of what a page captures and what it plays, side by side in time (the echo tier).

``echo_tap_js()`` returns an init script that, in every page of the context:

* optionally overrides ``echoCancellation`` in ``getUserMedia`` audio constraints (the widget asks
  for ``true``; the bench's "without" rows force ``false``), keeping every other constraint, and
  records the track's ``getSettings()`` so a run can prove which setting Chromium applied;
* taps the microphone: each ``createMediaStreamSource`` also feeds an ``AnalyserNode`` in the
  same context, i.e. the samples the widget's capture worklet gets, after Chromium's echo
  canceller, noise suppression and gain control;
* taps the playback: anything connected to a context's destination also feeds an ``AnalyserNode``
  (the same hook as ``audio_sniffer.py``), i.e. what goes to the speaker;
* taps what the widget sends: the widget's capture worklet (``rtw-capture``) reports with each
  chunk the RMS of the samples it packs, after its echo guard (``js/audio/echo-guard.ts``); the
  tap listens on that node's port too and keeps the latest (and the guard's stats in
  ``__rtwEcho.guard``);
* every ``FRAME_MS`` reads both analysers and appends ``[epoch_ms, mic_dbfs, out_dbfs,
  sent_dbfs]`` to a bounded list that ``globalThis.__rtwEcho.take()`` returns and empties
  (``sent_dbfs`` is None until the widget's capture worklet has posted a chunk).

Analysers are pulled by Chromium even when connected to nothing, so the tap changes no sound.
``residual_echo`` turns frames into the figures the bench prints.
"""

from __future__ import annotations

import array
import json
import math
import statistics
import wave
from dataclasses import dataclass
from pathlib import Path

FRAME_MS = 40
"""Polling period of the tap (the analysers' window is 2048 samples, ~43 ms at 48 kHz)."""

AUDIBLE_DBFS = -45.0
"""Playback frames at or above this level count as "the assistant is audible"."""

SILENT_DBFS = -80.0
"""Playback frames below this level count as "nothing plays" (the capture's noise floor)."""

LEAK_DBFS = -40.0
"""Capture frames at or above this level during playback count as an audible echo leak (speech
level for a voice activity detector: the room plays the assistant at about -20 dBFS)."""

MAX_FRAMES = 30000
"""Frames kept in the page between two ``take()`` calls (20 minutes at ``FRAME_MS``)."""

_TAP_JS = r"""
(() => {
  if (globalThis.__rtwEcho) return;
  const override = __OVERRIDE__;
  const state = {frames: [], settings: [], mic: null, out: null, timer: null, sent: null,
                 guard: null};
  const level = (an, buf) => {
    if (!an) return -120;
    an.getFloatTimeDomainData(buf);
    let s = 0;
    for (let i = 0; i < buf.length; i++) s += buf[i] * buf[i];
    return 10 * Math.log10(s / buf.length + 1e-12);
  };
  const start = () => {
    if (state.timer) return;
    const buf = new Float32Array(2048);
    state.timer = setInterval(() => {
      if (state.frames.length >= __MAX__) state.frames.shift();
      state.frames.push([Date.now(), level(state.mic, buf), level(state.out, buf), state.sent]);
    }, __FRAME_MS__);
  };
  const analyser = (ctx) => {
    const an = ctx.createAnalyser();
    an.fftSize = 2048;
    return an;
  };
  const md = navigator.mediaDevices;
  if (md && md.getUserMedia) {
    const gum = md.getUserMedia.bind(md);
    md.getUserMedia = async (constraints) => {
      if (override !== null && constraints && constraints.audio) {
        const audio = typeof constraints.audio === 'object' ? {...constraints.audio} : {};
        audio.echoCancellation = override;
        constraints = {...constraints, audio};
      }
      const stream = await gum(constraints);
      for (const t of stream.getAudioTracks()) state.settings.push(t.getSettings());
      return stream;
    };
  }
  const createSource = AudioContext.prototype.createMediaStreamSource;
  AudioContext.prototype.createMediaStreamSource = function (stream) {
    const node = createSource.call(this, stream);
    state.mic = analyser(this);
    connect.call(node, state.mic);
    start();
    return node;
  };
  const connect = AudioNode.prototype.connect;
  const outs = new WeakMap();  // AudioContext -> its playback analyser
  AudioNode.prototype.connect = function (target, ...rest) {
    const result = connect.call(this, target, ...rest);
    if (target instanceof AudioDestinationNode) {
      const ctx = this.context;
      if (!outs.has(ctx)) outs.set(ctx, analyser(ctx));
      state.out = outs.get(ctx);
      connect.call(this, state.out);
      start();
    }
    return result;
  };
  const Worklet = globalThis.AudioWorkletNode;
  if (Worklet) {
    globalThis.AudioWorkletNode = class extends Worklet {
      constructor(ctx, name, options) {
        super(ctx, name, options);
        if (name !== 'rtw-capture') return;
        this.port.addEventListener('message', (e) => {
          const m = e.data || {};
          if (m.type !== 'chunk' || typeof m.sent !== 'number') return;
          state.sent = 20 * Math.log10(m.sent + 1e-6);
          state.guard = m.guard || null;
        });
      }
    };
  }
  state.take = () => state.frames.splice(0);
  globalThis.__rtwEcho = state;
})();
"""


def echo_tap_js(echo_cancellation: bool | None = None) -> str:
    """The tap's init script; ``echo_cancellation`` overrides the page's constraint if not None."""
    return (
        _TAP_JS.replace("__OVERRIDE__", json.dumps(echo_cancellation))
        .replace("__MAX__", str(MAX_FRAMES))
        .replace("__FRAME_MS__", str(FRAME_MS))
    )


@dataclass(frozen=True)
class EchoLevels:
    """What the page captured while it played, from the tap's frames.

    Attributes:
        playback_dbfs: mean power of the playback over the audible frames, in dBFS.
        capture_dbfs: mean power of the capture over the same frames, in dBFS.
        floor_dbfs: mean power of the capture while nothing played (None if no such frame).
        audible_s: seconds of audible playback (frames at or above ``AUDIBLE_DBFS``).
        median_residual_db: median over those frames of capture minus playback (the typical
            frame; the power mean above is dominated by the loudest leaks).
        leak_fraction: share of those frames whose capture is at or above ``LEAK_DBFS``.
        sent_dbfs: mean power over the same frames of what the widget sent (after its echo
            guard), or None when the frames carry no sent level (no widget capture).
        sent_leak_fraction: share of those frames whose sent level is at or above ``LEAK_DBFS``
            (None likewise).
    """

    playback_dbfs: float
    capture_dbfs: float
    floor_dbfs: float | None
    audible_s: float
    median_residual_db: float
    leak_fraction: float
    sent_dbfs: float | None = None
    sent_leak_fraction: float | None = None

    @property
    def residual_db(self) -> float:
        """Capture minus playback level during playback: 0 dB hears it all, lower is better."""
        return self.capture_dbfs - self.playback_dbfs

    @property
    def sent_residual_db(self) -> float | None:
        """What the widget sent minus the playback level during playback (after its echo guard;
        None without a widget capture)."""
        return None if self.sent_dbfs is None else self.sent_dbfs - self.playback_dbfs


def _mean_db(values: list[float]) -> float:
    power = sum(10 ** (v / 10) for v in values) / len(values)
    return 10 * math.log10(power + 1e-12)


def residual_echo(frames: list[list[float]]) -> EchoLevels | None:
    """Average the tap's ``[epoch_ms, mic_dbfs, out_dbfs, sent_dbfs]`` frames (older three-column
    frames too); None if nothing was audible.

    Power means (not dB means) so a few loud syllables weigh as they sound. The echo path's
    ~40 ms delay is within a frame or two, which averaging over seconds absorbs.
    """
    audible = [f for f in frames if f[2] >= AUDIBLE_DBFS]
    if not audible:
        return None
    silent = [f[1] for f in frames if f[2] < SILENT_DBFS]
    sent = [f[3] for f in audible if len(f) > 3 and f[3] is not None]
    return EchoLevels(
        playback_dbfs=_mean_db([f[2] for f in audible]),
        capture_dbfs=_mean_db([f[1] for f in audible]),
        floor_dbfs=_mean_db(silent) if silent else None,
        audible_s=len(audible) * FRAME_MS / 1000,
        median_residual_db=statistics.median(f[1] - f[2] for f in audible),
        leak_fraction=sum(f[1] >= LEAK_DBFS for f in audible) / len(audible),
        sent_dbfs=_mean_db(sent) if sent else None,
        sent_leak_fraction=sum(v >= LEAK_DBFS for v in sent) / len(sent) if sent else None,
    )


def speaking_seconds(frames: list[list[float]], *, bridge_ms: float = 600.0) -> float:
    """Seconds during which the page was playing something, pauses shorter than ``bridge_ms``
    (between words and clauses) counted as playing: the "minutes of assistant speech" a false
    barge-in rate is divided by."""
    playing = [f[0] for f in frames if f[2] >= SILENT_DBFS]
    if not playing:
        return 0.0
    total, start, last = 0.0, playing[0], playing[0]
    for t in playing[1:]:
        if t - last > bridge_ms:
            total += last - start + FRAME_MS
            start = t
        last = t
    total += last - start + FRAME_MS
    return total / 1000.0


def playback_stopped_at(
    frames: list[list[float]], after_ms: float, *, quiet_ms: float = 600.0
) -> float | None:
    """Epoch ms of the first tap frame after ``after_ms`` that starts a playback silence of at
    least ``quiet_ms`` (longer than the pauses between an answer's words: the page stopped
    playing), or None if the playback never stopped for that long in ``frames``."""
    start: float | None = None
    for t, _mic, out, *_ in frames:
        if t < after_ms:
            continue
        if out < SILENT_DBFS:
            start = t if start is None else start
            if t - start + FRAME_MS >= quiet_ms:
                return start
        else:
            start = None
    return None


def speech_onset_s(wav: Path, *, threshold_dbfs: float = -40.0) -> float:
    """Seconds from the start of a 16-bit mono WAV to its first 10 ms window at or above
    ``threshold_dbfs`` (where the talker starts speaking)."""
    with wave.open(str(wav), "rb") as f:
        rate = f.getframerate()
        data = f.readframes(f.getnframes())
    samples = array.array("h", data)
    window = rate // 100
    threshold = (10 ** (threshold_dbfs / 20) * 32768) ** 2
    for i in range(0, len(samples) - window, window):
        power = sum(s * s for s in samples[i : i + window]) / window
        if power >= threshold:
            return i / rate
    raise ValueError(f"{wav}: no speech above {threshold_dbfs} dBFS")
