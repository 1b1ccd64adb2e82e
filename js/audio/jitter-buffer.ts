/**
 * Jitter buffer for streamed playback, at the output (native) rate.
 *
 * Segments are tagged with a key ("item_id:content_index"). Playback starts once `prebuffer`
 * frames are queued, when every queued key has ended, or after `maxWait` frames of waiting, so a
 * short last chunk never sticks. On underrun it outputs silence and keeps running (the worklet
 * never stops) and waits for the prebuffer again. `pull` reports how many frames of each key it
 * played, which is what played-sample accounting and truncation rely on (DESIGN §4).
 *
 * Inlined into the player worklet with `Function.prototype.toString`: self-contained, no class
 * fields, nothing from outside its body.
 */
export class JitterBuffer {
  prebuffer: number;
  maxWait: number;
  segments: { key: string; data: Float32Array; read: number }[];
  ended: Set<string>;
  bufferedFrames: number;
  playing: boolean;
  waited: number;
  underruns: number;

  /**
   * @param prebuffer - frames to queue before (re)starting playback.
   * @param maxWait - frames to wait with something queued before starting anyway.
   */
  constructor(prebuffer: number, maxWait: number) {
    this.prebuffer = prebuffer;
    this.maxWait = maxWait;
    this.segments = [];
    this.ended = new Set();
    this.bufferedFrames = 0;
    this.playing = false;
    this.waited = 0;
    this.underruns = 0;
  }

  /** Queue samples for `key`. */
  push(key: string, data: Float32Array): void {
    if (data.length === 0) return;
    this.ended.delete(key);
    this.segments.push({ key, data, read: 0 });
    this.bufferedFrames += data.length;
  }

  /** No more samples will come for `key`: play out what is queued without waiting. */
  end(key: string): void {
    this.ended.add(key);
  }

  /** Frames queued and not yet played. */
  buffered(): number {
    return this.bufferedFrames;
  }

  /** Drop everything queued (interruption); returns the number of frames dropped. */
  clear(): number {
    const dropped = this.bufferedFrames;
    this.segments = [];
    this.ended.clear();
    this.bufferedFrames = 0;
    this.playing = false;
    this.waited = 0;
    return dropped;
  }

  allQueuedEnded(): boolean {
    for (const s of this.segments) if (!this.ended.has(s.key)) return false;
    return this.segments.length > 0;
  }

  /**
   * Fill `out` (zeros where nothing is playable).
   *
   * @param out - output block, fully overwritten.
   * @param onPlayed - called with (key, frames) for every key that contributed frames.
   * @returns frames of real audio written.
   */
  pull(out: Float32Array, onPlayed?: (key: string, frames: number) => void): number {
    out.fill(0);
    if (!this.playing) {
      if (this.bufferedFrames === 0) {
        this.waited = 0;
        return 0;
      }
      this.waited += out.length;
      const ready =
        this.bufferedFrames >= this.prebuffer || this.allQueuedEnded() || this.waited >= this.maxWait;
      if (!ready) return 0;
      this.playing = true;
      this.waited = 0;
    }
    let written = 0;
    let lastKey = "";
    while (written < out.length && this.segments.length > 0) {
      const seg = this.segments[0];
      const take = Math.min(out.length - written, seg.data.length - seg.read);
      out.set(seg.data.subarray(seg.read, seg.read + take), written);
      seg.read += take;
      written += take;
      this.bufferedFrames -= take;
      lastKey = seg.key;
      if (onPlayed) onPlayed(seg.key, take);
      if (seg.read === seg.data.length) this.segments.shift();
    }
    if (this.segments.length === 0) {
      // Ran dry: an underrun unless the stream had ended (then it is simply finished).
      if (written < out.length && !this.ended.has(lastKey)) this.underruns++;
      this.playing = false;
    }
    return written;
  }
}
