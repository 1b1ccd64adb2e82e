/**
 * Echo guard: a residual-echo gate on the capture path, keyed to what the widget itself plays.
 *
 * Chrome's echo canceller removes most of the assistant's voice from the microphone, but now and
 * then it leaks for a second or two (under load, when its delay estimate jumps), and the server's
 * voice detection then takes the leak for the user talking over the answer and cuts it. The widget
 * knows the reference exactly (the player's output, fed to the capture worklet as a second
 * input), so it can judge each 10 ms capture frame before it leaves the browser:
 *
 * - the playback's short-term power is kept for the last `maxDelayMs`; the echo path's delay is
 *   estimated by correlating the capture's and the playback's amplitude envelopes at every lag
 *   (on capture frames loud enough to matter) and kept once convincing. Until then the loudest
 *   playback frame of the whole window stands in (conservative);
 * - the echo return (capture power / playback power on frames judged echo-only) is tracked with a
 *   fast attack and a slow release, never below `minEchoReturnDb`: a canceller that worked for a
 *   minute may leak at any moment, so the guard keeps assuming a leak can be that loud;
 * - a frame is near-end speech (double talk) when its power exceeds the predicted echo by
 *   `marginDb`, is loud enough to be speech at all, and does not follow the playback: a leak
 *   louder than expected (gain control boosts it) is still the playback times a gain, so the
 *   capture-minus-playback level stays steady over the last `echoWindowMs` at the path's delay,
 *   while a talker's level has nothing to do with the playback's. Speech fills the playback's
 *   dips between syllables and words, where the predicted echo is low, so a real barge-in trips
 *   this within a few hundred milliseconds;
 * - the gate opens when `onsetFrames` of the last `onsetWindow` frames are near-end (a stray
 *   frame does not open it) and stays open for `hangoverMs` after the last near-end frame, so the
 *   talker's words are not chopped;
 * - while the playback is audible (or was, within the echo window) and the gate is not open,
 *   capture frames are muted (`attenuationDb`; 5 ms ramps, no clicks): the server hears silence
 *   instead of the leak (measured: 40 dB down was not enough, Silero still heard the echo). Without playback the gate is open: nothing is ever taken
 *   from the user while the assistant is quiet.
 *
 * Pure DSP, no I/O: inlined into the capture worklet with `Function.prototype.toString`
 * (js/audio/worklet-source.ts), so self-contained: no class fields with initializers, nothing
 * from outside its body.
 */

/** Tuning of an `EchoGuard` (all optional; the defaults are what bench/bench_echo.py measured). */
export interface EchoGuardOptions {
  /** Analysis frame, ms (decisions are made per frame). */
  frameMs?: number;
  /** Longest echo path (playback -> capture delay) the guard covers, ms. */
  maxDelayMs?: number;
  /** Near-end speech must exceed the predicted echo by this much, dB. */
  marginDb?: number;
  /** Lowest echo return assumed (capture re playback level), dB. */
  minEchoReturnDb?: number;
  /** Highest echo return learnt, dB (bounds a runaway estimate). */
  maxEchoReturnDb?: number;
  /** Release of the learnt echo return, dB per second of echo-only playback. */
  releaseDbPerS?: number;
  /** Gate stays open this long after the last near-end frame, ms. */
  hangoverMs?: number;
  /** Capture frames below this power (dBFS) are never near-end speech. */
  speechFloorDbfs?: number;
  /** Playback below this power (dBFS) counts as silent. */
  playbackFloorDbfs?: number;
  /** Attenuation of echo-only frames, dB (default Infinity: silence. A neural voice detector
   * such as Silero hears speech 40 dB down as well as at full level). */
  attenuationDb?: number;
  /** Envelope correlation at the best lag above which the delay estimate is trusted. */
  minCorrelation?: number;
  /** A frame loud enough to be the user is still echo if, over the last `echoWindowMs`, the
   * capture's level minus the playback's (at the path's delay) varies by less than this
   * (standard deviation, dB): echo is the playback times a gain, whatever the gain; a talker's
   * level has nothing to do with the playback's. */
  echoSpreadDb?: number;
  /** Window of that check, ms. */
  echoWindowMs?: number;
  /** The gate opens when at least `onsetFrames` of the last `onsetWindow` frames are near-end
   * (one stray frame does not open it for a whole hangover). */
  onsetFrames?: number;
  onsetWindow?: number;
}

/** What the guard saw so far (for tests, the bench and the meters). */
export interface EchoGuardStats {
  /** Frames judged echo-only and attenuated. */
  gatedFrames: number;
  /** Frames judged near-end speech during playback. */
  nearEndFrames: number;
  /** Frames passed while something played (near-end or hangover). */
  passedWhilePlaying: number;
  /** The learnt echo return, dB. */
  echoReturnDb: number;
  /** The estimated echo path delay, ms (-1 while unsure). */
  delayMs: number;
}

export class EchoGuard {
  enabled: boolean;
  frameSamples: number;
  frameMs: number;
  lags: number;
  margin: number;
  minErl: number;
  maxErl: number;
  release: number;
  hangoverFrames: number;
  speechFloor: number;
  playbackFloor: number;
  attenuation: number;
  minCorrelation: number;
  echoSpread: number;
  speechFloorDb: number;
  playbackFloorDb: number;
  window: number;
  onsetFrames: number;
  onsetWindow: number;
  recent: number;
  micLevels: Float64Array;
  size: number;
  ring: Float64Array;
  head: number;
  micAcc: number;
  refAcc: number;
  fill: number;
  erl: number;
  hang: number;
  gain: number;
  target: number;
  rampStep: number;
  alpha: number;
  mx: number;
  sxx: number;
  my: number;
  syy: number;
  sxy: Float64Array;
  delay: number;
  gatedFrames: number;
  nearEndFrames: number;
  passedWhilePlaying: number;
  scratch: Float32Array;

  /**
   * @param rate - sample rate of the capture and the reference (the AudioContext's).
   * @param options - tuning; see `EchoGuardOptions`.
   */
  constructor(rate: number, options?: EchoGuardOptions) {
    const o = options || {};
    const db = (v: number | undefined, d: number) => Math.pow(10, (v === undefined ? d : v) / 10);
    if (!(rate > 0)) throw new Error(`rate must be positive, got ${rate}`);
    this.enabled = true;
    this.frameMs = o.frameMs || 10;
    this.frameSamples = Math.max(1, Math.round((rate * this.frameMs) / 1000));
    this.lags = Math.max(1, Math.ceil((o.maxDelayMs || 400) / this.frameMs)) + 1;
    this.margin = db(o.marginDb, 6);
    this.minErl = db(o.minEchoReturnDb, -6);
    this.maxErl = db(o.maxEchoReturnDb, 12);
    // Per-frame release factor of the power ratio.
    this.release = Math.pow(10, -((o.releaseDbPerS === undefined ? 1 : o.releaseDbPerS) * this.frameMs) / 1000 / 10);
    this.hangoverFrames = Math.round((o.hangoverMs === undefined ? 600 : o.hangoverMs) / this.frameMs);
    this.speechFloor = db(o.speechFloorDbfs, -55);
    this.playbackFloor = db(o.playbackFloorDbfs, -60);
    this.attenuation = Math.pow(10, -(o.attenuationDb === undefined ? Infinity : o.attenuationDb) / 20);
    this.minCorrelation = o.minCorrelation === undefined ? 0.6 : o.minCorrelation;
    this.echoSpread = o.echoSpreadDb === undefined ? 6 : o.echoSpreadDb;
    this.speechFloorDb = 10 * Math.log10(this.speechFloor);
    this.playbackFloorDb = 10 * Math.log10(this.playbackFloor);
    this.window = Math.max(4, Math.round((o.echoWindowMs || 200) / this.frameMs));
    this.onsetFrames = o.onsetFrames || 3;
    this.onsetWindow = Math.max(this.onsetFrames, o.onsetWindow || 5);
    this.recent = 0; // bit i: frame t-i was near-end
    // Playback power per frame for every lag plus the correlation window; capture levels (dB)
    // for the window.
    this.size = this.lags + this.window;
    this.ring = new Float64Array(this.size);
    this.micLevels = new Float64Array(this.window);
    this.head = 0;
    this.micAcc = 0;
    this.refAcc = 0;
    this.fill = 0;
    this.erl = 1; // 0 dB until learnt: as loud as the playback (an open laptop, no canceller)
    this.hang = 0;
    this.gain = 1;
    this.target = 1;
    this.rampStep = 1 / Math.max(1, Math.round(rate * 0.005)); // 5 ms ramps
    // Envelope statistics with ~2 s memory (frames while something plays).
    this.alpha = this.frameMs / 2000;
    this.mx = 0;
    this.sxx = 0;
    this.my = 0;
    this.syy = 0;
    this.sxy = new Float64Array(this.lags);
    this.delay = -1;
    this.gatedFrames = 0;
    this.nearEndFrames = 0;
    this.passedWhilePlaying = 0;
    this.scratch = new Float32Array(128);
  }

  /**
   * Gate one block of capture samples against the reference played at the same time (same
   * length; missing or short reference = silence). Returns the gated samples (a buffer the guard
   * reuses: consume it before the next call). Disabled, it returns the input untouched.
   */
  process(mic: Float32Array, ref?: Float32Array | null): Float32Array {
    if (!this.enabled) return mic;
    if (this.scratch.length < mic.length) this.scratch = new Float32Array(mic.length);
    const out = this.scratch.length === mic.length ? this.scratch : this.scratch.subarray(0, mic.length);
    for (let i = 0; i < mic.length; i++) {
      const m = mic[i];
      const r = ref && i < ref.length ? ref[i] : 0;
      this.micAcc += m * m;
      this.refAcc += r * r;
      this.fill += 1;
      if (this.fill >= this.frameSamples) this.endFrame();
      if (this.gain < this.target) this.gain = Math.min(this.target, this.gain + this.rampStep);
      else if (this.gain > this.target) this.gain = Math.max(this.target, this.gain - this.rampStep);
      out[i] = m * this.gain;
    }
    return out;
  }

  /** Turn the guard on or off (off: the gate opens at once and forgets nothing it learnt). */
  setEnabled(on: boolean): void {
    this.enabled = on;
    if (!on) {
      this.gain = 1;
      this.target = 1;
      this.hang = 0;
    }
  }

  /** The playback's power `k` frames ago (0 = the current frame). */
  past(k: number): number {
    return this.ring[(this.head - k + this.size * 2) % this.size];
  }

  /** The capture's level (dB) `k` frames ago (k < window). */
  micPast(k: number): number {
    return this.micLevels[(this.head - k + this.window * this.size) % this.window];
  }

  /**
   * Spread (standard deviation, dB) over the last `window` frames of the capture's level minus
   * the playback's at lag `d`, on frames where both are audible; Infinity with too few such
   * frames. Echo keeps it small (a gain, plus jitter of the path); a talker does not.
   */
  echoSpreadAt(d: number): number {
    let n = 0;
    let sum = 0;
    let squares = 0;
    for (let j = 0; j < this.window; j++) {
      const x = this.micPast(j);
      const y = 10 * Math.log10(this.past(d + j) + 1e-12);
      if (x < this.speechFloorDb || y < this.playbackFloorDb) continue;
      n += 1;
      sum += x - y;
      squares += (x - y) * (x - y);
    }
    if (n < Math.max(3, this.window / 4)) return Infinity;
    return Math.sqrt(Math.max(0, squares / n - (sum / n) * (sum / n)));
  }

  endFrame(): void {
    const mic = this.micAcc / this.fill;
    const ref = this.refAcc / this.fill;
    this.micAcc = 0;
    this.refAcc = 0;
    this.fill = 0;
    this.head += 1;
    this.ring[this.head % this.size] = ref;
    this.micLevels[this.head % this.window] = Math.max(-80, 10 * Math.log10(mic + 1e-12));
    this.head %= this.size * this.window;
    let loudest = 0;
    for (let k = 0; k < this.lags; k++) loudest = Math.max(loudest, this.past(k));
    const playing = loudest >= this.playbackFloor;
    this.recent = (this.recent << 1) & ((1 << this.onsetWindow) - 1);
    if (!playing) {
      if (this.hang > 0) this.hang -= 1;
      this.target = 1;
      return;
    }
    // Only frames loud enough to matter teach the delay (a canceller's faint residual under
    // the noise floor would correlate with anything).
    if (mic >= this.speechFloor) this.trackDelay(mic);
    // Predicted echo: the playback around the estimated delay (reverberation and jitter of the
    // path: a few frames on either side), or the loudest of the whole window while unsure.
    let near = 0;
    if (this.delay >= 0) {
      for (let k = Math.max(0, this.delay - 3); k <= Math.min(this.lags - 1, this.delay + 5); k++) {
        near = Math.max(near, this.past(k));
      }
    } else {
      near = loudest;
    }
    const ratio = mic / Math.max(near, 1e-12);
    let nearEnd = mic >= this.speechFloor && ratio > this.erl * this.margin;
    // Loud, but shaped like the playback: a leak (louder than learnt), not the user.
    let echoLike = false;
    if (nearEnd && this.delay >= 0) {
      let spread = Infinity;
      for (let k = Math.max(0, this.delay - 1); k <= Math.min(this.lags - 1, this.delay + 1); k++) {
        spread = Math.min(spread, this.echoSpreadAt(k));
      }
      if (spread <= this.echoSpread) {
        nearEnd = false;
        echoLike = true;
      }
    }
    if (nearEnd) {
      this.nearEndFrames += 1;
      this.recent |= 1;
    }
    let onset = 0;
    for (let r = this.recent; r; r >>= 1) onset += r & 1;
    if (nearEnd && (this.hang > 0 || onset >= this.onsetFrames)) {
      this.hang = this.hangoverFrames;
    } else if (this.hang > 0) {
      this.hang -= 1;
    } else if (!nearEnd && near >= this.playbackFloor) {
      // Echo-only: learn how loud the echo returns. Fast up (a leak starts), slow down.
      if (ratio > this.erl) this.erl += (echoLike ? 0.5 : 0.2) * (ratio - this.erl);
      else this.erl = Math.max(ratio, this.erl * this.release);
      this.erl = Math.min(this.maxErl, Math.max(this.minErl, this.erl));
    }
    if (this.hang > 0) {
      this.passedWhilePlaying += 1;
      this.target = 1;
    } else {
      this.gatedFrames += 1;
      this.target = this.attenuation;
    }
  }

  /** Update the envelope correlation at every lag; keep the best lag if it is convincing. */
  trackDelay(mic: number): void {
    const a = this.alpha;
    const x = Math.sqrt(mic);
    const y = Math.sqrt(this.past(0));
    this.mx += a * (x - this.mx);
    this.sxx += a * (x * x - this.sxx);
    this.my += a * (y - this.my);
    this.syy += a * (y * y - this.syy);
    let best = -1;
    let bestCorr = this.minCorrelation;
    const vx = this.sxx - this.mx * this.mx;
    const vy = this.syy - this.my * this.my;
    for (let k = 0; k < this.lags; k++) {
      this.sxy[k] += a * (x * Math.sqrt(this.past(k)) - this.sxy[k]);
      if (vx > 1e-12 && vy > 1e-12) {
        const corr = (this.sxy[k] - this.mx * this.my) / Math.sqrt(vx * vy);
        if (corr > bestCorr) {
          bestCorr = corr;
          best = k;
        }
      }
    }
    // Keep the last convincing lag: the path changes rarely, and while the canceller works well
    // the capture is too quiet to correlate with anything.
    if (best >= 0) this.delay = best;
  }

  /** What the guard saw so far. */
  stats(): EchoGuardStats {
    return {
      gatedFrames: this.gatedFrames,
      nearEndFrames: this.nearEndFrames,
      passedWhilePlaying: this.passedWhilePlaying,
      echoReturnDb: 10 * Math.log10(this.erl),
      delayMs: this.delay < 0 ? -1 : this.delay * this.frameMs,
    };
  }
}
