import { describe, expect, it } from "vitest";
import { type ItemStat, latencyLabel, MAX_ITEM_STATS, mergeStats, statsByItem, stripHeights, type TurnStat } from "./turns";

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

  it("merges live updates (the last few turns) into what the view has; empty clears", () => {
    const turn = (n: number, latency: number | null = null): TurnStat => ({
      turn: n, user_item_id: `u${n}`, assistant_item_ids: [`a${n}`], latency_ms: latency, interrupted: false, user_levels: [0.1], assistant_levels: [0.2],
    });
    const stats = new Map<string, ItemStat>();
    mergeStats(stats, [1, 2, 3].map((n) => turn(n))); // a view's snapshot
    mergeStats(stats, [turn(3, 500), turn(4)]); // a live update: older turns are not in it
    expect(stats.get("u1")?.turn).toBe(1); // kept
    expect(stats.get("a3")?.latency_ms).toBe(500); // updated
    expect(stats.get("a4")?.turn).toBe(4); // added
    mergeStats(stats, []); // New conversation
    expect(stats.size).toBe(0);
  });

  it("stays bounded, dropping the oldest turns' entries first", () => {
    const stats = new Map<string, ItemStat>();
    for (let n = 1; n <= MAX_ITEM_STATS; n++) {
      mergeStats(stats, [{ turn: n, user_item_id: `u${n}`, assistant_item_ids: [`a${n}`], latency_ms: null, interrupted: false, user_levels: [], assistant_levels: [] }]);
    }
    expect(stats.size).toBe(MAX_ITEM_STATS);
    expect(stats.has("u1")).toBe(false);
    expect(stats.has(`a${MAX_ITEM_STATS}`)).toBe(true);
  });
});
