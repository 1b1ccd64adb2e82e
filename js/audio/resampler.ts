/**
 * Streaming windowed-sinc resampler (mono, Float32).
 *
 * Used on both audio paths (DESIGN §4): capture resamples the device's native rate to the wire's
 * 24 kHz, playback resamples 24 kHz to the native rate inside the worklet (Firefox only cancels
 * echo of audio played in the microphone's own graph, i.e. at the native rate).
 *
 * This class is inlined into the AudioWorklet source with `Function.prototype.toString`
 * (js/audio/worklet-source.ts), so it must be self-contained: no class fields, no references to
 * anything outside its own body except JavaScript globals.
 */
export class StreamingResampler {
  srcRate: number;
  dstRate: number;
  /** Input samples advanced per output sample. */
  step: number;
  /** Kernel half width in input samples. */
  half: number;
  /** Kernel table: `TABLE_RES` points per input sample over [-half, half]. */
  table: Float32Array;
  res: number;
  /** Pending input; `buf[0]` is absolute input index `bufStart`. */
  buf: Float32Array;
  bufLen: number;
  bufStart: number;
  /** Outputs produced so far; output k sits at input position `k * step` (no drift). */
  produced: number;
  /** Total input samples seen. */
  seen: number;

  /**
   * @param srcRate - input sample rate (Hz).
   * @param dstRate - output sample rate (Hz).
   * @param zeroCrossings - kernel half width in zero crossings of the low-pass filter.
   */
  constructor(srcRate: number, dstRate: number, zeroCrossings = 8) {
    if (!(srcRate > 0) || !(dstRate > 0)) {
      throw new Error(`sample rates must be positive, got ${srcRate} -> ${dstRate}`);
    }
    this.srcRate = srcRate;
    this.dstRate = dstRate;
    this.step = srcRate / dstRate;
    // Cut off just under the lower Nyquist frequency: anti-aliasing when going down, anti-imaging
    // when going up. 0.92 leaves a transition band for the short kernel.
    const cutoff = Math.min(1, dstRate / srcRate) * 0.92;
    this.half = Math.ceil(zeroCrossings / cutoff);
    this.res = 128;
    const n = 2 * this.half * this.res + 1;
    this.table = new Float32Array(n);
    for (let k = 0; k < n; k++) {
      const t = k / this.res - this.half;
      const x = Math.PI * cutoff * t;
      const sinc = t === 0 ? 1 : Math.sin(x) / x;
      // Blackman window over [-half, half].
      const w = 0.42 + 0.5 * Math.cos((Math.PI * t) / this.half) + 0.08 * Math.cos((2 * Math.PI * t) / this.half);
      this.table[k] = cutoff * sinc * w;
    }
    this.buf = new Float32Array(4096);
    this.bufLen = 0;
    this.bufStart = 0;
    this.produced = 0;
    this.seen = 0;
  }

  /** True when input and output rates are equal (samples pass through unchanged). */
  get identity(): boolean {
    return this.srcRate === this.dstRate;
  }

  /** Feed a chunk; returns the output samples that are now complete. */
  process(input: Float32Array): Float32Array {
    if (this.identity) {
      this.seen += input.length;
      return input.slice();
    }
    this.append(input);
    return this.drain(this.seen - 1);
  }

  /** Emit the remaining output (the input is treated as followed by silence). */
  flush(): Float32Array {
    if (this.identity) return new Float32Array(0);
    // Outputs exist for positions < seen; pad so their kernels are complete.
    const last = this.seen;
    this.append(new Float32Array(this.half + 1));
    const out = this.drain(this.seen - 1, last);
    this.bufLen = 0;
    this.bufStart = 0;
    this.produced = 0;
    this.seen = 0;
    return out;
  }

  /** Number of output samples `inputLength` input samples turn into overall. */
  outputLength(inputLength: number): number {
    return this.identity ? inputLength : Math.ceil(inputLength / this.step);
  }

  append(input: Float32Array): void {
    if (this.bufLen + input.length > this.buf.length) {
      const bigger = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + input.length));
      bigger.set(this.buf.subarray(0, this.bufLen));
      this.buf = bigger;
    }
    this.buf.set(input, this.bufLen);
    this.bufLen += input.length;
    this.seen += input.length;
  }

  /**
   * Produce outputs whose kernel ends at or before absolute input index `available`, and (when
   * given) whose position is before `limit`.
   */
  drain(available: number, limit = Infinity): Float32Array {
    const half = this.half;
    const step = this.step;
    // Output k needs input up to floor(k * step) + half <= available.
    let end = Math.floor((available - half + 1) / step);
    while (end * step < available - half + 1) end++;
    while (end > 0 && Math.floor((end - 1) * step) + half > available) end--;
    if (limit !== Infinity) end = Math.min(end, Math.ceil(limit / step));
    const n = Math.max(0, end - this.produced);
    const out = new Float32Array(n);
    const table = this.table;
    const res = this.res;
    for (let j = 0; j < n; j++) {
      const p = (this.produced + j) * step;
      const base = Math.floor(p);
      let acc = 0;
      let norm = 0;
      for (let i = base - half + 1; i <= base + half; i++) {
        const t = (p - i + half) * res;
        const k = Math.floor(t);
        const frac = t - k;
        const h = k + 1 < table.length ? table[k] + (table[k + 1] - table[k]) * frac : table[k];
        const idx = i - this.bufStart;
        // Indices before the stream start are silence.
        if (idx >= 0) acc += this.buf[idx] * h;
        norm += h;
      }
      out[j] = norm > 0 ? acc / norm : 0;
    }
    this.produced += n;
    // Drop input no future kernel needs.
    const keepFrom = Math.floor(this.produced * step) - half + 1 - this.bufStart;
    if (keepFrom > 0) {
      const drop = Math.min(keepFrom, this.bufLen);
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart += drop;
    }
    return out;
  }
}
