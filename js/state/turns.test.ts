import { describe, expect, it } from "vitest";
import { latencyLabel, statsByItem, stripHeights } from "./turns";

describe("turn statistics", () => {
  it("indexes a turn's items: the latency and the strip on the first answer", () => {
    const map = statsByItem([
      { turn: 1, user_item_id: "u1", assistant_item_ids: ["a1", "a2"], latency_ms: 640, interrupted: true, user_levels: [0.1], assistant_levels: [0.2, 0.3] },
      { turn: 2, user_item_id: null, assistant_item_ids: [], latency_ms: null, interrupted: false, user_levels: [], assistant_levels: [] },
    ]);
    expect(map.get("u1")).toEqual({ turn: 1, role: "user", levels: [0.1], latency_ms: null, interrupted: false });
    expect(map.get("a1")?.latency_ms).toBe(640);
    expect(map.get("a1")?.levels).toEqual([0.2, 0.3]);
    expect(map.get("a2")?.latency_ms).toBeNull();
    expect(map.size).toBe(3);
  });

  it("labels latencies and scales levels into 0..1", () => {
    expect(latencyLabel(849.6)).toBe("latency 850 ms");
    expect(latencyLabel(1234)).toBe("latency 1.2 s");
    const h = stripHeights([0, 0.03, 1, -1]);
    expect(h[0]).toBe(0);
    expect(h[1]).toBeCloseTo(0.3);
    expect(h[2]).toBe(1);
    expect(h[3]).toBe(0);
  });
});
