import { describe, expect, it } from "vitest";
import { emptyHint } from "./empty-hint";

describe("emptyHint", () => {
  it("names the real Mic label of each turn mode once connected", () => {
    expect(emptyHint("connected", true)).toBe("Press ● Mic and talk, or type a message below.");
    expect(emptyHint("connected", false)).toMatch(/^Hold ● Talk while you speak/);
  });
  it("mentions Connect only when the widget is not connected or connecting", () => {
    expect(emptyHint("connecting", true)).toBe("Connecting… then press ● Mic and talk, or type a message below.");
    expect(emptyHint("disconnected", true)).toMatch(/^Press Connect, then press ● Mic/);
    expect(emptyHint("error", false)).toMatch(/^Press Connect, then hold ● Talk/);
  });
  it("says nothing when the kernel is gone (the status says so)", () => {
    expect(emptyHint("connected", true, true)).toBe("");
  });
});
