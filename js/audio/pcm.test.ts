import { describe, expect, it } from "vitest";
import { PcmPacker } from "./pcm";

describe("PcmPacker", () => {
  it("converts float to Int16 against a literal, clipping and rounding", () => {
    const p = new PcmPacker(4);
    const x = new Float32Array([-1, -0.5, 0, 0.5, 1, 2, -2, Number.NaN, 1 / 32767]);
    expect(Array.from(p.floatToInt16(x))).toEqual([
      -32768, -16384, 0, 16384, 32767, 32767, -32768, 0, 1,
    ]);
  });

  it("converts Int16 to float against a literal", () => {
    const p = new PcmPacker(4);
    const y = p.int16ToFloat(new Int16Array([-32768, -16384, 0, 32767]));
    expect(Array.from(y)).toEqual([-1, -0.5, 0, 1]);
  });

  it("round-trips every Int16 value exactly", () => {
    const p = new PcmPacker(4);
    const all = new Int16Array(65536);
    for (let i = 0; i < all.length; i++) all[i] = i - 32768;
    expect(p.floatToInt16(p.int16ToFloat(all))).toEqual(all);
  });

  it("emits fixed-size chunks and keeps the remainder for flush", () => {
    const p = new PcmPacker(960);
    const x = new Float32Array(2500).fill(0.5);
    const chunks = p.push(x.subarray(0, 1000)).concat(p.push(x.subarray(1000)));
    expect(chunks.map((c) => c.length)).toEqual([960, 960]);
    const rest = p.flush();
    expect(rest?.length).toBe(580);
    expect(p.flush()).toBeNull();
  });

  it("gives each chunk its own buffer so it can be transferred", () => {
    const p = new PcmPacker(10);
    const chunks = p.push(new Float32Array(30));
    expect(new Set(chunks.map((c) => c.buffer)).size).toBe(3);
    expect(chunks.every((c) => c.byteOffset === 0 && c.buffer.byteLength === 20)).toBe(true);
  });
});
