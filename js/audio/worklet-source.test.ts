import { build } from "esbuild";
import { describe, expect, it } from "vitest";

/**
 * The worklet sources are built with Function.prototype.toString, so what matters is the text the
 * production bundle produces: bundle this module with the same esbuild options as `npm run build`
 * and run the sources in a stand-in AudioWorkletGlobalScope.
 */
async function bundledSources(): Promise<{ capture: string; player: string }> {
  const result = await build({
    entryPoints: ["js/audio/worklet-source.ts"],
    bundle: true,
    format: "esm",
    target: "es2020",
    write: false,
  });
  const code = result.outputFiles[0].text;
  const mod = await import(`data:text/javascript,${encodeURIComponent(code)}`);
  return { capture: mod.captureWorkletSource(), player: mod.playerWorkletSource() };
}

interface FakeProcessor {
  port: { postMessage: (m: unknown) => void; onmessage: ((e: { data: unknown }) => void) | null };
  process: (inputs: Float32Array[][], outputs: Float32Array[][]) => boolean;
}

/** Evaluate a worklet source with the scope's globals; returns a factory for its processor. */
function loadWorklet(source: string, rate: number) {
  const posted: any[] = [];
  let ctor: any = null;
  class AudioWorkletProcessor {
    port = {
      onmessage: null as ((e: { data: unknown }) => void) | null,
      postMessage: (m: unknown) => posted.push(m),
    };
  }
  const registerProcessor = (_name: string, c: unknown) => {
    ctor = c;
  };
  new Function("AudioWorkletProcessor", "registerProcessor", "sampleRate", source)(
    AudioWorkletProcessor,
    registerProcessor,
    rate,
  );
  expect(ctor).not.toBeNull();
  return {
    posted,
    create: (processorOptions: object) => new ctor({ processorOptions }) as FakeProcessor,
  };
}

function tone(n: number, rate: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate));
}

describe("worklet sources built from the bundled DSP classes", () => {
  it("capture worklet turns 1 s of 48 kHz mic into 25 transferable 40 ms Int16 chunks", async () => {
    const { capture } = await bundledSources();
    const w = loadWorklet(capture, 48000);
    const p = w.create({ chunkSamples: 960 });
    const x = tone(48000 + 128 * 4, 48000);
    for (let i = 0; i + 128 <= x.length; i += 128) p.process([[x.subarray(i, i + 128)]], []);
    const chunks = w.posted.filter((m) => m.type === "chunk");
    expect(chunks.length).toBe(25);
    expect(chunks.every((c) => c.pcm.byteLength === 960 * 2)).toBe(true);
    expect(chunks[10].level).toBeGreaterThan(0.3);
    const pcm = new Int16Array(chunks[10].pcm);
    expect(Math.max(...pcm)).toBeGreaterThan(15000);
    p.port.onmessage?.({ data: { type: "stop" } });
    expect(w.posted[w.posted.length - 1]).toEqual({ type: "flushed" });
    expect(p.process([[x.subarray(0, 128)]], [])).toBe(false);
  });

  it("player worklet plays 24 kHz audio at 48 kHz, counts played samples and clears at once", async () => {
    const { player } = await bundledSources();
    const w = loadWorklet(player, 48000);
    const p = w.create({ prebufferMs: 20, reportMs: 50 });
    const pcm = new Int16Array(4800).fill(8000); // 200 ms at 24 kHz
    p.port.onmessage?.({ data: { type: "audio", key: "item_1:0", pcm: pcm.buffer } });
    let audible = 0;
    for (let b = 0; b < 75; b++) {
      // 75 blocks of 128 frames at 48 kHz = 200 ms
      const out = [new Float32Array(128), new Float32Array(128)];
      expect(p.process([], [out])).toBe(true);
      audible += out[0].filter((v) => Math.abs(v) > 0.2).length;
      expect(out[1]).toEqual(out[0]);
    }
    expect(audible).toBeGreaterThan(9000);
    const progress = w.posted.filter((m) => m.type === "progress");
    expect(progress.length).toBeGreaterThanOrEqual(3);
    p.port.onmessage?.({ data: { type: "clear" } });
    const cleared = w.posted[w.posted.length - 1];
    expect(cleared.type).toBe("cleared");
    const [[key, samples]] = cleared.played;
    expect(key).toBe("item_1:0");
    // 9600 frames pulled at 48 kHz = 4800 wire samples minus the resampler's sub-ms latency.
    expect(samples).toBeGreaterThan(4700);
    expect(samples).toBeLessThanOrEqual(4800);
    expect(cleared.total).toBe(samples);
    const out = [new Float32Array(128)];
    p.process([], [out]);
    expect(out[0].every((v) => v === 0)).toBe(true);
  });

  it("player worklet keeps running through an underrun and resumes on new audio", async () => {
    const { player } = await bundledSources();
    const w = loadWorklet(player, 24000);
    const p = w.create({ prebufferMs: 10, reportMs: 50 });
    for (let b = 0; b < 10; b++) expect(p.process([], [[new Float32Array(128)]])).toBe(true);
    p.port.onmessage?.({ data: { type: "audio", key: "a:0", pcm: new Int16Array(480).fill(9000).buffer } });
    p.port.onmessage?.({ data: { type: "end", key: "a:0" } });
    let audible = 0;
    for (let b = 0; b < 10; b++) {
      const out = [new Float32Array(128)];
      p.process([], [out]);
      audible += out[0].filter((v) => v > 0.2).length;
    }
    expect(audible).toBeGreaterThan(400);
  });

  it("capture worklet gates its second input's echo when the guard is on, and only then", async () => {
    const { capture } = await bundledSources();
    const w = loadWorklet(capture, 48000);
    // The "mic" hears the "player" (input 1) 40 ms later at the same level: echo, no canceller.
    const x = tone(48000 * 2, 48000);
    const mic = new Float32Array(x.length);
    mic.set(x.subarray(0, x.length - 1920), 1920);
    const sent = (guard: boolean) => {
      w.posted.length = 0;
      const p = w.create({ chunkSamples: 960, echoGuard: guard });
      for (let i = 0; i + 128 <= x.length; i += 128) {
        p.process([[mic.subarray(i, i + 128)], [x.subarray(i, i + 128)]], []);
      }
      const chunks = w.posted.filter((m) => m.type === "chunk").slice(-20); // the last 0.8 s
      return Math.max(...chunks.map((c) => c.sent));
    };
    expect(sent(false)).toBeGreaterThan(0.3);
    expect(sent(true)).toBeLessThan(0.01);
    // Switched off by message: the echo goes through again.
    w.posted.length = 0;
    const p = w.create({ chunkSamples: 960, echoGuard: true });
    p.port.onmessage?.({ data: { type: "guard", on: false } });
    for (let i = 0; i + 128 <= x.length; i += 128) {
      p.process([[mic.subarray(i, i + 128)], [x.subarray(i, i + 128)]], []);
    }
    const chunks = w.posted.filter((m) => m.type === "chunk");
    expect(chunks[chunks.length - 1].sent).toBeGreaterThan(0.3);
    expect(chunks[chunks.length - 1].guard.gatedFrames).toBe(0);
  });
});
