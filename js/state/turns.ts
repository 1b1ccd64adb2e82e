/**
 * Per-turn statistics (issue 15, point 6): the kernel's `turn_stats` trait indexed by item, and
 * how a level strip and a latency read. Pure; the view draws them on the turns.
 */

/** One entry of the `turn_stats` trait (RealtimeWidget.turn_stats). */
export interface TurnStat {
  turn: number;
  user_item_id: string | null;
  assistant_item_ids: string[];
  latency_ms: number | null;
  interrupted: boolean;
  user_levels: number[];
  assistant_levels: number[];
}

/** What one item's turn shows on it. */
export interface ItemStat {
  turn: number;
  role: "user" | "assistant";
  levels: number[];
  /** Only on the turn's first answer (where the latency ends). */
  latency_ms: number | null;
  interrupted: boolean;
}

/** Index the turns' statistics by item id. */
export function statsByItem(stats: TurnStat[]): Map<string, ItemStat> {
  const out = new Map<string, ItemStat>();
  for (const s of stats) {
    if (s.user_item_id) {
      out.set(s.user_item_id, { turn: s.turn, role: "user", levels: s.user_levels || [], latency_ms: null, interrupted: false });
    }
    s.assistant_item_ids.forEach((id, i) => {
      out.set(id, {
        turn: s.turn,
        role: "assistant",
        levels: i === 0 ? s.assistant_levels || [] : [],
        latency_ms: i === 0 ? s.latency_ms : null,
        interrupted: s.interrupted,
      });
    });
  }
  return out;
}

/** Items whose statistics a view keeps (the kernel shows at most 100 turns). */
export const MAX_ITEM_STATS = 1000;

/** Merge a `turn_stats` update into what the view has. Live updates carry only the last few
 * turns (the ones that can still change) and a view's snapshot the last 100: entries of older
 * turns stay. An empty update is a cleared conversation: everything goes. Returns `into`. */
export function mergeStats(into: Map<string, ItemStat>, update: TurnStat[]): Map<string, ItemStat> {
  if (update.length === 0) {
    into.clear();
    return into;
  }
  for (const [id, stat] of statsByItem(update)) {
    into.delete(id); // re-inserted last: the oldest entries are the first to go
    into.set(id, stat);
  }
  for (const id of into.keys()) {
    if (into.size <= MAX_ITEM_STATS) break;
    into.delete(id);
  }
  return into;
}

/** "latency 850 ms" or "latency 1.2 s". */
export function latencyLabel(ms: number): string {
  return ms < 1000 ? `latency ${Math.round(ms)} ms` : `latency ${(ms / 1000).toFixed(1)} s`;
}

/** Bar heights (0..1) for RMS levels: speech sits around 0.05-0.3 RMS, so a square root keeps
 * quiet speech visible and loud speech under the top. */
export function stripHeights(levels: number[]): number[] {
  return levels.map((l) => Math.min(1, Math.sqrt(Math.max(0, l) * 3)));
}
