/**
 * The audio engine of one widget model: one microphone capture and one player, shared by all of
 * its views (two views must not play the answer twice). See DESIGN §4.
 *
 * Both worklets run in AudioContexts at the device's native rate (Firefox will not connect a mic
 * to a context of another rate, and only cancels echo of audio played in the mic's own graph);
 * the worklets resample to and from the wire's 24 kHz themselves.
 */
import { CaptureError, captureError, micUnavailable } from "./mic-support";
import type { EchoGuardStats } from "./echo-guard";
import { track } from "./resources";
import {
  CAPTURE_PROCESSOR,
  PLAYER_PROCESSOR,
  WIRE_RATE,
  captureWorkletSource,
  playerWorkletSource,
} from "./worklet-source";

// Capture failures and their messages live in mic-support.ts; re-exported for the controller.
export { CaptureError, captureError, type CaptureErrorCode } from "./mic-support";

export interface PlayerProgress {
  played: [string, number][];
  total: number;
  level: number;
}

export interface EngineEvents {
  /** A 24 kHz Int16 chunk from the microphone (transferable buffer); `level` is the raw mic's
   * RMS (before the echo guard). */
  onChunk(pcm: ArrayBuffer, level: number): void;
  /** Player progress, every ~50 ms while the context runs. */
  onProgress(progress: PlayerProgress): void;
  /** The context's state changed ("suspended" until a user gesture, under autoplay rules). */
  onContextState(state: string): void;
  /** The microphone's track ended while capturing (unplugged, taken by another application). */
  onCaptureEnded?(): void;
}

const CAPTURE_CHUNK = 960; // 40 ms at 24 kHz (the issue asks for 20-100 ms chunks)

export class AudioEngine {
  events: EngineEvents;
  context: AudioContext | null = null;
  player: AudioWorkletNode | null = null;
  capture: AudioWorkletNode | null = null;
  stream: MediaStream | null = null;
  source: MediaStreamAudioSourceNode | null = null;
  releases: (() => void)[] = [];
  captureReleases: (() => void)[] = [];
  playedTotal = 0;
  capturedSamples = 0;
  inputLevel = 0;
  outputLevel = 0;
  capturing = false;
  /** RMS of the last chunk as sent (after the echo guard). */
  sentLevel = 0;
  /** The echo guard's last report (null before the first chunk). */
  guardStats: EchoGuardStats | null = null;
  /** Whether the capture's echo guard is on (hands-free with `echo_guard`; see setEchoGuard). */
  echoGuard = true;
  contextReady: Promise<AudioContext> | null = null;
  pendingClear: ((p: PlayerProgress) => void)[] = [];
  replaySources: Set<AudioBufferSourceNode> = new Set();
  closed = false;
  generation = 0;

  constructor(events: EngineEvents) {
    this.events = events;
  }

  /** Create (once) the native-rate context with the player worklet loaded. */
  ensureContext(): Promise<AudioContext> {
    if (!this.contextReady) this.contextReady = this.createContext();
    return this.contextReady;
  }

  async createContext(): Promise<AudioContext> {
    const Ctx = (globalThis as unknown as { AudioContext?: typeof AudioContext }).AudioContext;
    if (!Ctx) throw new CaptureError("audio_failed", "This browser has no Web Audio API.");
    const context = new Ctx(); // native rate on purpose: see the module comment
    context.onstatechange = () => this.events.onContextState(context.state);
    this.events.onContextState(context.state);
    this.releases.push(track("audioContexts"), () => void context.close().catch(() => {}));
    this.context = context;
    await this.addModule(context, playerWorkletSource());
    await this.addModule(context, captureWorkletSource());
    const player = new AudioWorkletNode(context, PLAYER_PROCESSOR, {
      numberOfInputs: 0,
      outputChannelCount: [1],
      processorOptions: { prebufferMs: 80, reportMs: 50 },
    });
    this.releases.push(track("worklets"), () => player.disconnect());
    player.port.onmessage = (e) => this.onPlayerMessage(e.data);
    player.connect(context.destination);
    this.player = player;
    if (this.closed) this.release();
    return context;
  }

  async addModule(context: AudioContext, source: string): Promise<void> {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    const untrack = track("blobUrls");
    try {
      await context.audioWorklet.addModule(url);
    } finally {
      // The module is loaded (or failed); the URL is no longer needed.
      URL.revokeObjectURL(url);
      untrack();
    }
  }

  /** Resume a context the autoplay policy suspended (call from a user gesture). */
  resume(): void {
    if (this.context && this.context.state === "suspended") void this.context.resume();
  }

  onPlayerMessage(m: { type: string; played: [string, number][]; total: number; level?: number }): void {
    const progress = { played: m.played, total: m.total, level: m.level ?? 0 };
    this.playedTotal = m.total;
    if (m.type === "progress") {
      this.outputLevel = progress.level;
      this.events.onProgress(progress);
    } else if (m.type === "cleared") {
      this.outputLevel = 0;
      for (const resolve of this.pendingClear.splice(0)) resolve(progress);
    }
  }

  /** Queue 24 kHz Int16 audio of one part ("item_id:content_index"). */
  async play(key: string, pcm: ArrayBuffer): Promise<void> {
    const generation = this.generation;
    await this.ensureContext();
    // A clear while the context was starting cancels audio queued before it.
    if (generation !== this.generation) return;
    this.player?.port.postMessage({ type: "audio", key, pcm }, [pcm]);
  }

  /** No more audio for this part (queued behind the audio `play` was given before it). */
  async end(key: string): Promise<void> {
    if (!this.contextReady) return;
    const generation = this.generation;
    await this.contextReady;
    if (generation !== this.generation) return;
    this.player?.port.postMessage({ type: "end", key });
  }

  /** Stop playback at once; resolves with the final played counts. */
  clear(): Promise<PlayerProgress> {
    this.generation += 1;
    for (const s of this.replaySources) s.stop();
    if (!this.player) return Promise.resolve({ played: [], total: this.playedTotal, level: 0 });
    const done = new Promise<PlayerProgress>((resolve) => this.pendingClear.push(resolve));
    this.player.port.postMessage({ type: "clear" });
    return done;
  }

  /** Play a whole part once (Replay), outside the live player's accounting. */
  async replay(pcm: ArrayBuffer): Promise<void> {
    const context = await this.ensureContext();
    const samples = new Int16Array(pcm);
    if (samples.length === 0) return;
    const buffer = context.createBuffer(1, samples.length, WIRE_RATE);
    const data = buffer.getChannelData(0);
    for (let i = 0; i < samples.length; i++) data[i] = samples[i] / 32768;
    const node = context.createBufferSource();
    node.buffer = buffer;
    node.connect(context.destination);
    // A replay is echo too: the guard's reference (when capturing as it starts).
    if (this.capture) node.connect(this.capture, 0, 1);
    this.replaySources.add(node);
    node.onended = () => {
      node.disconnect();
      this.replaySources.delete(node);
    };
    node.start();
  }

  /**
   * Open the microphone (`deviceId`, or the default for "") and start sending chunks. A chosen
   * device that is gone falls back to the default; the result says so. Throws a CaptureError.
   */
  async startCapture(deviceId = ""): Promise<{ fellBack: boolean }> {
    if (this.capturing) return { fellBack: false };
    const unavailable = micUnavailable();
    if (unavailable) throw unavailable;
    const context = await this.ensureContext();
    this.capturing = true;
    let stream: MediaStream;
    let fellBack = false;
    const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 };
    try {
      try {
        stream = await navigator.mediaDevices.getUserMedia({
          audio: deviceId ? { ...audio, deviceId: { exact: deviceId } } : audio,
        });
      } catch (err) {
        const name = (err as { name?: string })?.name;
        if (!deviceId || (name !== "OverconstrainedError" && name !== "NotFoundError")) throw err;
        fellBack = true; // the picked device is gone: the default rather than no microphone
        stream = await navigator.mediaDevices.getUserMedia({ audio });
      }
    } catch (err) {
      this.capturing = false;
      throw captureError(err);
    }
    const tracks = stream.getTracks();
    // A track ends by itself when the device goes away; stop() (ours) fires no "ended".
    const onEnded = () => {
      if (this.stream === stream) this.events.onCaptureEnded?.();
    };
    for (const t of tracks) t.addEventListener("ended", onEnded);
    this.captureReleases.push(track("mediaStreamTracks", tracks.length), () => {
      for (const t of tracks) {
        t.removeEventListener("ended", onEnded);
        t.stop();
      }
    });
    if (!this.capturing || this.closed) {
      this.stopCapture();
      return { fellBack };
    }
    this.stream = stream;
    const source = context.createMediaStreamSource(stream);
    // Input 0: the microphone; input 1: what the player plays (the echo guard's reference, in
    // the same context, so the same clock: the guard compares them frame by frame).
    const node = new AudioWorkletNode(context, CAPTURE_PROCESSOR, {
      numberOfInputs: 2,
      numberOfOutputs: 0,
      processorOptions: { chunkSamples: CAPTURE_CHUNK, echoGuard: this.echoGuard },
    });
    const player = this.player;
    this.captureReleases.push(track("worklets"), () => {
      node.port.postMessage({ type: "stop" });
      source.disconnect();
      if (player) player.disconnect(node);
      node.disconnect();
    });
    node.port.onmessage = (e) => {
      const m = e.data as { type: string; pcm?: ArrayBuffer; level?: number; sent?: number; guard?: EchoGuardStats };
      if (m.type === "chunk" && m.pcm && this.capturing) {
        this.capturedSamples += m.pcm.byteLength / 2;
        this.inputLevel = m.level ?? 0;
        this.sentLevel = m.sent ?? this.inputLevel;
        this.guardStats = m.guard ?? null;
        this.events.onChunk(m.pcm, this.inputLevel);
      }
    };
    source.connect(node, 0, 0);
    if (player) player.connect(node, 0, 1);
    this.source = source;
    this.capture = node;
    return { fellBack };
  }

  /**
   * Turn the capture's echo guard on or off (the controller: on in hands-free with the widget's
   * `echo_guard`; push-to-talk cuts playback when pressed, so it has no echo to guard against).
   * Applies to the running capture at once and to the next one.
   */
  setEchoGuard(on: boolean): void {
    this.echoGuard = on;
    this.capture?.port.postMessage({ type: "guard", on });
  }

  /** Send the partial last chunk (end of push-to-talk) and wait until it was posted. */
  flushCapture(): Promise<void> {
    const node = this.capture;
    if (!node) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = node.port.onmessage;
      const timer = setTimeout(resolve, 200);
      node.port.onmessage = (e) => {
        previous?.call(node.port, e);
        if ((e.data as { type: string }).type === "flushed") {
          clearTimeout(timer);
          node.port.onmessage = previous;
          resolve();
        }
      };
      node.port.postMessage({ type: "flush" });
    });
  }

  /** Close the microphone (tracks stopped, worklet node released). */
  stopCapture(): void {
    this.capturing = false;
    this.inputLevel = 0;
    for (const release of this.captureReleases.splice(0).reverse()) release();
    this.stream = null;
    this.source = null;
    this.capture = null;
  }

  /** Release everything: mic tracks, worklet nodes, the AudioContext. */
  release(): void {
    this.closed = true;
    this.stopCapture();
    for (const s of this.replaySources) s.stop();
    for (const release of this.releases.splice(0).reverse()) release();
    this.player = null;
    this.context = null;
    for (const resolve of this.pendingClear.splice(0)) resolve({ played: [], total: this.playedTotal, level: 0 });
  }
}
