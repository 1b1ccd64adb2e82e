import { describe, expect, it } from "vitest";
import { JitterBuffer } from "./jitter-buffer";

const ramp = (n: number, start = 1) => Float32Array.from({ length: n }, (_, i) => start + i);

function pullAll(j: JitterBuffer, blocks: number, size = 128) {
  const played: Record<string, number> = {};
  const out: number[] = [];
  for (let b = 0; b < blocks; b++) {
    const block = new Float32Array(size);
    j.pull(block, (k, n) => {
      played[k] = (played[k] || 0) + n;
    });
    out.push(...block);
  }
  return { played, out };
}

describe("JitterBuffer", () => {
  it("outputs silence until the prebuffer is filled", () => {
    const j = new JitterBuffer(300, 10000);
    j.push("a:0", ramp(200));
    expect(pullAll(j, 1).out.every((v) => v === 0)).toBe(true);
    j.push("a:0", ramp(200, 201));
    const { out, played } = pullAll(j, 1);
    expect(out.slice(0, 3)).toEqual([1, 2, 3]);
    expect(played).toEqual({ "a:0": 128 });
  });

  it("plays segments of several keys in order and accounts frames per key", () => {
    const j = new JitterBuffer(0, 0);
    j.push("a:0", ramp(100));
    j.push("b:0", ramp(100, 101));
    j.end("a:0");
    j.end("b:0");
    const { out, played } = pullAll(j, 2);
    expect(out.slice(0, 200)).toEqual(Array.from(ramp(200)));
    expect(played).toEqual({ "a:0": 100, "b:0": 100 });
    expect(j.underruns).toBe(0);
  });

  it("keeps running through an underrun with zeros, counts it, and resumes", () => {
    const j = new JitterBuffer(128, 100000);
    j.push("a:0", ramp(192));
    const first = pullAll(j, 2);
    expect(first.out.slice(128, 192)).toEqual(Array.from(ramp(64, 129)));
    expect(first.out.slice(192).every((v) => v === 0)).toBe(true);
    expect(j.underruns).toBe(1);
    j.push("a:0", ramp(128, 193));
    const second = pullAll(j, 1);
    expect(second.out[0]).toBe(193);
    expect(first.played["a:0"] + second.played["a:0"]).toBe(320);
  });

  it("plays out an ended stream shorter than the prebuffer at once", () => {
    const j = new JitterBuffer(4800, 100000);
    j.push("a:0", ramp(50));
    j.end("a:0");
    const { played } = pullAll(j, 1);
    expect(played).toEqual({ "a:0": 50 });
    expect(j.underruns).toBe(0);
  });

  it("starts anyway after maxWait frames when the end never comes", () => {
    const j = new JitterBuffer(4800, 256);
    j.push("a:0", ramp(50));
    expect(pullAll(j, 1).played).toEqual({});
    expect(pullAll(j, 1).played).toEqual({ "a:0": 50 });
  });

  it("drops everything on clear and plays nothing more of it", () => {
    const j = new JitterBuffer(0, 0);
    j.push("a:0", ramp(1000));
    pullAll(j, 1);
    expect(j.clear()).toBe(872);
    expect(j.buffered()).toBe(0);
    const { out, played } = pullAll(j, 2);
    expect(out.every((v) => v === 0)).toBe(true);
    expect(played).toEqual({});
  });
});
