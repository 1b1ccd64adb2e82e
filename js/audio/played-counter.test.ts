import { describe, expect, it } from "vitest";
import { PlayedCounter } from "./played-counter";

describe("PlayedCounter", () => {
  it("converts native frames to 24 kHz samples", () => {
    const c = new PlayedCounter(48000);
    c.received("a:0", 24000);
    c.played("a:0", 48000);
    expect(c.samples("a:0")).toBe(24000);
    const d = new PlayedCounter(44100);
    d.received("a:0", 24000);
    d.played("a:0", 4410);
    expect(d.samples("a:0")).toBe(2400);
  });

  it("never reports more than was received (resampler tail rounding)", () => {
    const c = new PlayedCounter(44100);
    c.received("a:0", 100);
    c.played("a:0", 190);
    expect(c.samples("a:0")).toBe(100);
  });

  it("sums every key in total and reports only keys played since the last dirty snapshot", () => {
    const c = new PlayedCounter(24000);
    c.received("a:0", 500);
    c.received("b:0", 500);
    c.played("a:0", 300);
    c.played("b:0", 200);
    expect(c.total()).toBe(500);
    expect(c.snapshot(true)).toEqual([
      ["a:0", 300],
      ["b:0", 200],
    ]);
    c.played("b:0", 100);
    expect(c.snapshot(true)).toEqual([["b:0", 300]]);
    expect(c.snapshot(false)).toEqual([
      ["a:0", 300],
      ["b:0", 300],
    ]);
  });

  it("reports zero for a key never played", () => {
    expect(new PlayedCounter(48000).samples("x:0")).toBe(0);
  });
});
