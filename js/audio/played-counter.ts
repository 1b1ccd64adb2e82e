/**
 * Played-sample accounting per (item_id, content_index), in wire (24 kHz) samples.
 *
 * The player plays at the native rate; truncation (`conversation.item.truncate.audio_end_ms`)
 * speaks in wire samples. Played native frames are converted back and capped at what was received,
 * so the kernel truncates at what the user really heard and never past the audio it has.
 *
 * Inlined into the player worklet with `Function.prototype.toString`: self-contained.
 */
export class PlayedCounter {
  nativeRate: number;
  wireRate: number;
  receivedByKey: Map<string, number>;
  nativeByKey: Map<string, number>;
  dirty: Set<string>;

  constructor(nativeRate: number, wireRate = 24000) {
    this.nativeRate = nativeRate;
    this.wireRate = wireRate;
    this.receivedByKey = new Map();
    this.nativeByKey = new Map();
    this.dirty = new Set();
  }

  /** Record `samples` wire samples received for `key`. */
  received(key: string, samples: number): void {
    this.receivedByKey.set(key, (this.receivedByKey.get(key) || 0) + samples);
  }

  /** Record `frames` native frames of `key` played. */
  played(key: string, frames: number): void {
    this.nativeByKey.set(key, (this.nativeByKey.get(key) || 0) + frames);
    this.dirty.add(key);
  }

  /** Wire samples of `key` played so far: min(played, received). */
  samples(key: string): number {
    const native = this.nativeByKey.get(key) || 0;
    const wire = Math.round((native * this.wireRate) / this.nativeRate);
    return Math.min(wire, this.receivedByKey.get(key) || 0);
  }

  /** Sum of `samples` over every key. */
  total(): number {
    let sum = 0;
    for (const key of this.nativeByKey.keys()) sum += this.samples(key);
    return sum;
  }

  /** `[key, samples]` of keys played since the last call with `onlyDirty` (or of all keys). */
  snapshot(onlyDirty = false): [string, number][] {
    const keys = onlyDirty ? Array.from(this.dirty) : Array.from(this.nativeByKey.keys());
    this.dirty.clear();
    return keys.map((key) => [key, this.samples(key)] as [string, number]);
  }
}
