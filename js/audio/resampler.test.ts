import { describe, expect, it } from "vitest";
import { StreamingResampler } from "./resampler";

function sine(freq: number, rate: number, n: number, amp = 0.5): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return x;
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function rms(x: Float32Array, from = 0, to = x.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += x[i] * x[i];
  return Math.sqrt(s / Math.max(1, to - from));
}

/** Amplitude of `freq` in `x` (single-bin DFT), ignoring `skip` samples at each end. */
function tone(x: Float32Array, freq: number, rate: number, skip = 200): number {
  let re = 0;
  let im = 0;
  for (let i = skip; i < x.length - skip; i++) {
    re += x[i] * Math.cos((2 * Math.PI * freq * i) / rate);
    im += x[i] * Math.sin((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (x.length - 2 * skip);
}

function runAll(r: StreamingResampler, x: Float32Array, chunk: number[]): Float32Array {
  const parts: Float32Array[] = [];
  let i = 0;
  let k = 0;
  while (i < x.length) {
    const n = chunk[k++ % chunk.length];
    parts.push(r.process(x.subarray(i, i + n)));
    i += n;
  }
  parts.push(r.flush());
  return concat(parts);
}

describe("StreamingResampler", () => {
  it("passes samples through unchanged when rates are equal", () => {
    const x = sine(440, 24000, 1000);
    const r = new StreamingResampler(24000, 24000);
    expect(Array.from(r.process(x))).toEqual(Array.from(x));
    expect(r.flush().length).toBe(0);
  });

  it("produces ceil(n * dst / src) samples overall, for every rate pair used by browsers", () => {
    for (const [src, dst] of [
      [48000, 24000],
      [44100, 24000],
      [24000, 48000],
      [24000, 44100],
      [16000, 24000],
      [96000, 24000],
    ]) {
      const n = 12345;
      const out = runAll(new StreamingResampler(src, dst), sine(300, src, n), [128]);
      expect(out.length, `${src}->${dst}`).toBe(Math.ceil((n * dst) / src));
    }
  });

  it("gives the same output whatever the chunking", () => {
    const x = sine(1000, 44100, 20000);
    const whole = runAll(new StreamingResampler(44100, 24000), x, [x.length]);
    const pieces = runAll(new StreamingResampler(44100, 24000), x, [1, 128, 7, 500, 33]);
    expect(pieces.length).toBe(whole.length);
    for (let i = 0; i < whole.length; i++) expect(pieces[i]).toBeCloseTo(whole[i], 5);
  });

  it("keeps a 1 kHz tone's frequency and amplitude when downsampling 48k -> 24k", () => {
    const out = runAll(new StreamingResampler(48000, 24000), sine(1000, 48000, 48000), [128]);
    expect(tone(out, 1000, 24000)).toBeCloseTo(0.5, 2);
    expect(tone(out, 1100, 24000)).toBeLessThan(0.01);
  });

  it("keeps a 1 kHz tone when upsampling 24k -> 44.1k (playback path)", () => {
    const out = runAll(new StreamingResampler(24000, 44100), sine(1000, 24000, 24000), [960]);
    expect(tone(out, 1000, 44100)).toBeCloseTo(0.5, 2);
  });

  it("attenuates a tone above the new Nyquist frequency by more than 30 dB (anti-aliasing)", () => {
    const out = runAll(new StreamingResampler(48000, 24000), sine(15000, 48000, 48000), [128]);
    // 15 kHz would alias to 9 kHz at 24 kHz.
    expect(rms(out, 200, out.length - 200)).toBeLessThan((0.5 / Math.SQRT2) * 0.0316);
  });

  it("keeps DC gain at one and its latency under a millisecond", () => {
    const x = new Float32Array(4800).fill(0.25);
    const out = runAll(new StreamingResampler(48000, 24000), x, [128]);
    expect(out[1200]).toBeCloseTo(0.25, 4);
    const r = new StreamingResampler(48000, 24000);
    // After 10 ms of input, all but < 1 ms of output is available.
    expect(r.process(x.subarray(0, 480)).length).toBeGreaterThan(240 - 24);
  });

  it("rejects a non-positive rate with a message naming the rates", () => {
    expect(() => new StreamingResampler(0, 24000)).toThrow(/0 -> 24000/);
  });
});
