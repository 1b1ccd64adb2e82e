/**
 * AudioWorklet sources, built from the same DSP classes the unit tests exercise.
 *
 * anywidget loads our module from a Blob, so worklets cannot be loaded by URL next to it; each
 * worklet is a Blob URL made from this source text. Single source of truth: the DSP classes
 * (resampler, PCM packing, jitter buffer, played-sample accounting, echo guard) are inlined with
 * `Function.prototype.toString`, and the processor bodies below receive them as arguments, so
 * nothing depends on names the bundler might choose. Those classes must stay self-contained.
 */
import { EchoGuard } from "./echo-guard";
import { JitterBuffer } from "./jitter-buffer";
import { PcmPacker } from "./pcm";
import { PlayedCounter } from "./played-counter";
import { StreamingResampler } from "./resampler";

/** Wire rate of the Realtime API's PCM16 audio. */
export const WIRE_RATE = 24000;
export const CAPTURE_PROCESSOR = "rtw-capture";
export const PLAYER_PROCESSOR = "rtw-player";

interface Deps {
  StreamingResampler: typeof StreamingResampler;
  PcmPacker: typeof PcmPacker;
  JitterBuffer: typeof JitterBuffer;
  PlayedCounter: typeof PlayedCounter;
  EchoGuard: typeof EchoGuard;
}

/**
 * Capture processor: native-rate mic -> 24 kHz Int16 chunks posted as transferable buffers.
 * Input 0 is the microphone; input 1 (optional) is what the player plays, the echo guard's
 * reference: the guard (on with `processorOptions.echoGuard`, switched by a "guard" message)
 * attenuates echo-only frames before they are resampled and sent. `level` is the raw mic's RMS
 * (the input meter), `sent` the RMS of what is sent.
 * Runs in the worklet scope; only `d` and worklet globals may be referenced.
 */
function captureMain(d: Deps, name: string, wireRate: number): void {
  class RtwCapture extends AudioWorkletProcessor {
    resampler: StreamingResampler;
    packer: PcmPacker;
    guard: EchoGuard;
    running: boolean;
    sumSquares: number;
    sentSquares: number;
    count: number;
    constructor(options: { processorOptions?: { chunkSamples?: number; echoGuard?: boolean } }) {
      super();
      const o = options.processorOptions || {};
      const chunk = o.chunkSamples || 960;
      this.resampler = new d.StreamingResampler(sampleRate, wireRate);
      this.packer = new d.PcmPacker(chunk);
      this.guard = new d.EchoGuard(sampleRate);
      this.guard.setEnabled(!!o.echoGuard);
      this.running = true;
      this.sumSquares = 0;
      this.sentSquares = 0;
      this.count = 0;
      this.port.onmessage = (e: MessageEvent) => {
        if (e.data && e.data.type === "flush") this.flush(false);
        if (e.data && e.data.type === "stop") this.flush(true);
        if (e.data && e.data.type === "guard") this.guard.setEnabled(!!e.data.on);
      };
    }
    flush(stop: boolean): void {
      const tail = this.packer.push(this.resampler.flush());
      const rest = this.packer.flush();
      if (rest) tail.push(rest);
      for (const c of tail) this.post(c);
      this.port.postMessage({ type: "flushed" });
      if (stop) this.running = false;
    }
    post(chunk: Int16Array): void {
      const level = this.count > 0 ? Math.sqrt(this.sumSquares / this.count) : 0;
      const sent = this.count > 0 ? Math.sqrt(this.sentSquares / this.count) : 0;
      this.sumSquares = 0;
      this.sentSquares = 0;
      this.count = 0;
      const guard = this.guard.stats();
      this.port.postMessage({ type: "chunk", pcm: chunk.buffer, level, sent, guard }, [chunk.buffer]);
    }
    process(inputs: Float32Array[][]): boolean {
      const channel = inputs[0] && inputs[0][0];
      if (channel && channel.length > 0) {
        const gated = this.guard.process(channel, inputs[1] && inputs[1][0]);
        for (let i = 0; i < channel.length; i++) {
          this.sumSquares += channel[i] * channel[i];
          this.sentSquares += gated[i] * gated[i];
        }
        this.count += channel.length;
        for (const c of this.packer.push(this.resampler.process(gated))) this.post(c);
      }
      return this.running;
    }
  }
  registerProcessor(name, RtwCapture);
}

/**
 * Player processor: 24 kHz Int16 chunks tagged "item_id:content_index" -> jitter buffer at the
 * native rate; reports played wire samples per key. Runs in the worklet scope.
 */
function playerMain(d: Deps, name: string, wireRate: number): void {
  class RtwPlayer extends AudioWorkletProcessor {
    jitter: JitterBuffer;
    counter: PlayedCounter;
    packer: PcmPacker;
    resamplers: Map<string, StreamingResampler>;
    sinceReport: number;
    reportEvery: number;
    sumSquares: number;
    count: number;
    constructor(options: { processorOptions?: { prebufferMs?: number; reportMs?: number } }) {
      super();
      const o = options.processorOptions || {};
      const prebuffer = Math.round((sampleRate * (o.prebufferMs || 80)) / 1000);
      this.jitter = new d.JitterBuffer(prebuffer, prebuffer * 2);
      this.counter = new d.PlayedCounter(sampleRate, wireRate);
      this.packer = new d.PcmPacker(1);
      this.resamplers = new Map();
      this.sinceReport = 0;
      this.reportEvery = Math.round((sampleRate * (o.reportMs || 50)) / 1000);
      this.sumSquares = 0;
      this.count = 0;
      this.port.onmessage = (e: MessageEvent) => this.onMessage(e.data);
    }
    resamplerFor(key: string): StreamingResampler {
      let r = this.resamplers.get(key);
      if (!r) {
        r = new d.StreamingResampler(wireRate, sampleRate);
        this.resamplers.set(key, r);
      }
      return r;
    }
    onMessage(m: { type: string; key?: string; pcm?: ArrayBuffer }): void {
      if (m.type === "audio" && m.key && m.pcm) {
        const pcm = new Int16Array(m.pcm);
        this.counter.received(m.key, pcm.length);
        this.jitter.push(m.key, this.resamplerFor(m.key).process(this.packer.int16ToFloat(pcm)));
      } else if (m.type === "end" && m.key) {
        const r = this.resamplers.get(m.key);
        if (r) this.jitter.push(m.key, r.flush());
        this.resamplers.delete(m.key);
        this.jitter.end(m.key);
      } else if (m.type === "clear") {
        this.jitter.clear();
        this.resamplers.clear();
        this.port.postMessage({
          type: "cleared",
          played: this.counter.snapshot(false),
          total: this.counter.total(),
        });
      }
    }
    process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
      const out = outputs[0];
      if (!out || out.length === 0) return true;
      const first = out[0];
      this.jitter.pull(first, (key, frames) => this.counter.played(key, frames));
      for (let c = 1; c < out.length; c++) out[c].set(first);
      for (let i = 0; i < first.length; i++) this.sumSquares += first[i] * first[i];
      this.count += first.length;
      this.sinceReport += first.length;
      if (this.sinceReport >= this.reportEvery) {
        this.sinceReport = 0;
        const level = Math.sqrt(this.sumSquares / Math.max(1, this.count));
        this.sumSquares = 0;
        this.count = 0;
        this.port.postMessage({
          type: "progress",
          played: this.counter.snapshot(true),
          total: this.counter.total(),
          buffered: this.jitter.buffered(),
          underruns: this.jitter.underruns,
          level,
        });
      }
      // Keep running on underrun: the player must be ready the moment audio arrives.
      return true;
    }
  }
  registerProcessor(name, RtwPlayer);
}

function depsSource(): string {
  const classes = { StreamingResampler, PcmPacker, JitterBuffer, PlayedCounter, EchoGuard };
  const parts = Object.entries(classes).map(([k, v]) => `${k}: (${v.toString()})`);
  return `{${parts.join(",\n")}}`;
}

/** Source text of the capture worklet module. */
export function captureWorkletSource(): string {
  return `(${captureMain.toString()})(${depsSource()}, ${JSON.stringify(CAPTURE_PROCESSOR)}, ${WIRE_RATE});\n`;
}

/** Source text of the player worklet module. */
export function playerWorkletSource(): string {
  return `(${playerMain.toString()})(${depsSource()}, ${JSON.stringify(PLAYER_PROCESSOR)}, ${WIRE_RATE});\n`;
}
