import { describe, expect, it } from "vitest";
import { EchoGuard } from "./echo-guard";

const RATE = 48000;
const QUANTUM = 128; // what an AudioWorklet gets per call

/** A deterministic PRNG (mulberry32), so every run sees the same "speech". */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Speech-like signal: noise shaped by syllables of 80-250 ms at levels within 12 dB of `rms`,
 * separated by 20-150 ms gaps (espeak's rhythm, roughly). Independent seeds = independent talkers.
 */
function speech(seconds: number, rms: number, seed: number): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(Math.round(seconds * RATE));
  let i = 0;
  while (i < out.length) {
    const syllable = Math.round((0.08 + 0.17 * r()) * RATE);
    const level = rms * Math.pow(10, (-12 * r()) / 20) * Math.sqrt(3);
    for (let k = 0; k < syllable && i < out.length; k++, i++) {
      const env = Math.sin((Math.PI * k) / syllable);
      out[i] = level * env * (2 * r() - 1);
    }
    i += Math.round((0.02 + 0.13 * r()) * RATE);
  }
  return out;
}

function delayed(x: Float32Array, ms: number, gainDb: number): Float32Array {
  const d = Math.round((ms * RATE) / 1000);
  const g = Math.pow(10, gainDb / 20);
  const out = new Float32Array(x.length);
  for (let i = d; i < x.length; i++) out[i] = g * x[i - d];
  return out;
}

function mix(...xs: Float32Array[]): Float32Array {
  const out = new Float32Array(xs[0].length);
  for (const x of xs) for (let i = 0; i < out.length; i++) out[i] += x[i];
  return out;
}

/** The microphone's own noise (-70 dBFS white noise). */
function noise(seconds: number, seed = 99): Float32Array {
  const r = rng(seed);
  const rms = Math.pow(10, -70 / 20) * Math.sqrt(3);
  return Float32Array.from({ length: Math.round(seconds * RATE) }, () => rms * (2 * r() - 1));
}

function silence(seconds: number): Float32Array {
  return new Float32Array(Math.round(seconds * RATE));
}

/** Run the guard over whole signals in worklet-sized blocks; returns what it lets out. */
function run(guard: EchoGuard, mic: Float32Array, ref: Float32Array | null): Float32Array {
  const out = new Float32Array(mic.length);
  for (let i = 0; i < mic.length; i += QUANTUM) {
    const m = mic.subarray(i, i + QUANTUM);
    out.set(guard.process(m, ref ? ref.subarray(i, i + QUANTUM) : null), i);
  }
  return out;
}

function energy(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return s;
}

const sec = (s: number) => Math.round(s * RATE);
const db = (ratio: number) => 10 * Math.log10(ratio);

describe("EchoGuard", () => {
  it("passes the microphone untouched while nothing plays", () => {
    const guard = new EchoGuard(RATE);
    const mic = speech(2, 0.1, 1);
    const out = run(guard, mic, silence(2));
    expect(Array.from(out)).toEqual(Array.from(mic));
    expect(guard.stats().gatedFrames).toBe(0);
  });

  it("returns its input unchanged when disabled", () => {
    const guard = new EchoGuard(RATE);
    guard.setEnabled(false);
    const ref = speech(2, 0.1, 2);
    const mic = delayed(ref, 40, 0);
    const block = mic.subarray(sec(1), sec(1) + QUANTUM);
    expect(guard.process(block, ref.subarray(sec(1), sec(1) + QUANTUM))).toBe(block);
  });

  it("gates an unity-gain echo (no canceller) by more than 30 dB", () => {
    const guard = new EchoGuard(RATE);
    const ref = speech(8, 0.1, 3);
    const mic = delayed(ref, 40, 0);
    const out = run(guard, mic, ref);
    // After a second to find the path, the echo is down by the attenuation.
    expect(db(energy(out, sec(1)) / energy(mic, sec(1)))).toBeLessThan(-30);
    expect(guard.stats().delayMs).toBeGreaterThanOrEqual(30);
    expect(guard.stats().delayMs).toBeLessThanOrEqual(50);
  });

  for (const leakDb of [-3, 8]) {
    it(`gates a canceller's sudden ${leakDb} dB leak after a minute of clean cancellation`, () => {
      const guard = new EchoGuard(RATE);
      const ref = speech(62, 0.1, 4);
      // -45 dB residual for 60 s, then the canceller leaks for 1.5 s (+8 dB: gain control
      // boosted it above the playback's level: only its shape gives it away).
      const mic = mix(delayed(ref, 40, -45), noise(62));
      mic.set(mix(delayed(ref, 40, leakDb), noise(62)).subarray(sec(60), sec(61.5)), sec(60));
      const out = run(guard, mic, ref);
      const leaked = energy(out, sec(60), sec(61.5)) / energy(mic, sec(60), sec(61.5));
      expect(db(leaked)).toBeLessThan(-20);
    });
  }

  it("lets a user talking over the answer through within 300 ms, not chopped", () => {
    const guard = new EchoGuard(RATE);
    const ref = speech(10, 0.1, 5);
    const echo = mix(delayed(ref, 40, -30), noise(10)); // what a working canceller leaves
    const user = mix(silence(10));
    const talk = speech(3, 0.1, 6); // as loud as the playback
    user.set(talk, sec(5));
    const mic = mix(echo, user);
    const out = run(guard, mic, ref);
    // Before the user speaks: the echo is gated.
    expect(db(energy(out, sec(1), sec(5)) / energy(mic, sec(1), sec(5)))).toBeLessThan(-20);
    // From 300 ms after onset, nearly all of the user's speech is sent.
    const kept = energy(out, sec(5.3), sec(8)) / energy(mic, sec(5.3), sec(8));
    expect(db(kept)).toBeGreaterThan(-1);
    expect(guard.stats().nearEndFrames).toBeGreaterThan(10);
  });

  it("holds the gate open for the hangover after the user stops, then closes it", () => {
    const guard = new EchoGuard(RATE, { hangoverMs: 600 });
    const ref = speech(8, 0.1, 7);
    const mic = delayed(ref, 40, -20);
    mic.set(mix(mic.subarray(sec(3), sec(4)), speech(1, 0.3, 8)), sec(3));
    const out = run(guard, mic, ref);
    // 0-400 ms after the user stops: still open (the echo passes too).
    expect(db(energy(out, sec(4), sec(4.4)) / energy(mic, sec(4), sec(4.4)))).toBeGreaterThan(-1);
    // A second later: gated again.
    expect(db(energy(out, sec(5.5), sec(8)) / energy(mic, sec(5.5), sec(8)))).toBeLessThan(-20);
  });

  it("keeps the gate open while the playback has been silent for longer than the echo path", () => {
    const guard = new EchoGuard(RATE);
    const ref = mix(speech(4, 0.1, 9));
    ref.fill(0, sec(2));
    const mic = mix(delayed(ref, 40, -10), mix(silence(4)));
    mic.set(speech(1.5, 0.01, 10), sec(2.5)); // a quiet talker after the answer ended
    const out = run(guard, mic, ref);
    expect(db(energy(out, sec(2.5), sec(4)) / energy(mic, sec(2.5), sec(4)))).toBeGreaterThan(-0.5);
  });

  it("opens at once when switched off mid-answer", () => {
    const guard = new EchoGuard(RATE);
    const ref = speech(4, 0.1, 11);
    const mic = delayed(ref, 40, 0);
    run(guard, mic.subarray(0, sec(2)), ref.subarray(0, sec(2)));
    guard.setEnabled(false);
    const rest = mic.subarray(sec(2));
    expect(guard.process(rest, ref.subarray(sec(2)))).toBe(rest);
  });

  it("rejects a nonsensical rate", () => {
    expect(() => new EchoGuard(0)).toThrow(/rate must be positive/);
  });
});
