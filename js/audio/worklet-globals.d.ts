// Globals of the AudioWorkletGlobalScope, referenced by the processor bodies in worklet-source.ts
// (which run there, not in the page).
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, ctor: unknown): void;
declare const sampleRate: number;
