/**
 * PCM16 packing: Float32 <-> Int16 and fixed-size chunking of the capture stream.
 *
 * Inlined into the capture worklet with `Function.prototype.toString` (js/audio/worklet-source.ts):
 * self-contained, no class fields, nothing from outside its body.
 */
export class PcmPacker {
  chunkSamples: number;
  pending: Int16Array;
  fill: number;

  /** @param chunkSamples - samples per emitted chunk (e.g. 960 = 40 ms at 24 kHz). */
  constructor(chunkSamples: number) {
    if (!(chunkSamples > 0)) throw new Error(`chunkSamples must be positive, got ${chunkSamples}`);
    this.chunkSamples = chunkSamples;
    this.pending = new Int16Array(chunkSamples);
    this.fill = 0;
  }

  /** Float samples in [-1, 1] -> Int16 (clipped, rounded; -1 -> -32768, 1 -> 32767). */
  floatToInt16(x: Float32Array): Int16Array {
    const out = new Int16Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const s = x[i] > 1 ? 1 : x[i] < -1 ? -1 : x[i] || 0;
      out[i] = Math.round(s < 0 ? s * 32768 : s * 32767);
    }
    return out;
  }

  /** Int16 -> Float samples in [-1, 1], the exact inverse of `floatToInt16` on its outputs. */
  int16ToFloat(x: Int16Array): Float32Array {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] < 0 ? x[i] / 32768 : x[i] / 32767;
    return out;
  }

  /** Add float samples; returns the complete Int16 chunks (each a fresh, transferable buffer). */
  push(x: Float32Array): Int16Array[] {
    const pcm = this.floatToInt16(x);
    const chunks: Int16Array[] = [];
    let i = 0;
    while (i < pcm.length) {
      const take = Math.min(this.chunkSamples - this.fill, pcm.length - i);
      this.pending.set(pcm.subarray(i, i + take), this.fill);
      this.fill += take;
      i += take;
      if (this.fill === this.chunkSamples) {
        chunks.push(this.pending);
        this.pending = new Int16Array(this.chunkSamples);
        this.fill = 0;
      }
    }
    return chunks;
  }

  /** The partial chunk, if any (end of push-to-talk), as its own buffer. */
  flush(): Int16Array | null {
    if (this.fill === 0) return null;
    const out = this.pending.slice(0, this.fill);
    this.fill = 0;
    return out;
  }
}
