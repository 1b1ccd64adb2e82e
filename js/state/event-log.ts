/**
 * The event log's pure state (issue 15 point 4): the bounded store of entries every view of a
 * widget shares, and each view's own filter, search and pause.
 *
 * The kernel folds audio appends and deltas into one counter per turn or response (a folded entry
 * comes again with the same `seq` and a higher `count`), so the store holds a few entries per
 * turn and at most `limit` of them. Views render incrementally: the store journals which entries
 * changed, and a view asks for the changes since the revision it last rendered (`changesSince`),
 * so an incoming frame costs the entries it carries, not the whole log. Filtering and search run
 * over the bounded entries only.
 */
import type { LogEntry } from "./model";

export type Direction = LogEntry["dir"];

/** Directions in the order the filter shows them, with their labels. */
export const DIRECTIONS: { dir: Direction; label: string }[] = [
  { dir: ">", label: "client → server" },
  { dir: "<", label: "server → client" },
  { dir: "=", label: "local" },
];

/** Type groups of the filter: a prefix of the wire type (`error` is the type itself). */
export const TYPE_GROUPS = ["input_audio_buffer", "response", "conversation", "session", "error", "other"] as const;
export type TypeGroup = (typeof TYPE_GROUPS)[number];

/** The label of a type group in the filter (`response.*`). */
export function groupLabel(group: TypeGroup): string {
  return group === "error" || group === "other" ? group : `${group}.*`;
}

/** The filter group of a wire event type. */
export function typeGroup(type: string): TypeGroup {
  if (type === "error") return "error";
  const prefix = type.split(".", 1)[0];
  return (TYPE_GROUPS as readonly string[]).includes(prefix) && prefix !== "error" && prefix !== "other"
    ? (prefix as TypeGroup)
    : "other";
}

export interface LogFilter {
  /** Directions shown. */
  dirs: Set<Direction>;
  /** Type groups shown. */
  groups: Set<TypeGroup>;
  /** Case-insensitive text looked for in the type, the fold group and the JSON ("" = all). */
  search: string;
}

export function allShown(): LogFilter {
  return { dirs: new Set(DIRECTIONS.map((d) => d.dir)), groups: new Set(TYPE_GROUPS), search: "" };
}

// Lower-cased search text per entry object (a folded entry's update is a new object).
const haystacks = new WeakMap<LogEntry, string>();

function haystack(e: LogEntry): string {
  let text = haystacks.get(e);
  if (text === undefined) {
    text = `${e.type}\n${e.group ?? ""}\n${e.json}`.toLowerCase();
    haystacks.set(e, text);
  }
  return text;
}

/** Whether an entry passes a filter. */
export function matches(e: LogEntry, f: LogFilter): boolean {
  if (!f.dirs.has(e.dir) || !f.groups.has(typeGroup(e.type))) return false;
  const needle = f.search.trim().toLowerCase();
  return !needle || haystack(e).includes(needle);
}

/** What a view must do to catch up: the entries changed since its revision, oldest first. */
export interface LogChanges {
  rev: number;
  /** New or updated entries (an updated one keeps its `seq` and place). */
  changed: LogEntry[];
  /** True when the view must rebuild from `list()` (the store was reset, or the view lagged
   * further behind than the journal reaches). */
  reset: boolean;
}

/**
 * The entries of one widget, bounded, shared by its views.
 *
 * Entries are kept in `seq` order; the oldest are dropped past `limit`. `totalEvents` counts
 * events (a folded entry's count increments), for the "N new while paused" counter.
 */
export class LogStore {
  limit: number;
  entries: Map<number, LogEntry> = new Map();
  /** Events seen since the last reset (folded increments included). */
  totalEvents = 0;
  rev = 0;
  // seqs touched at revisions journalBase + 1 ... rev; trimmed so it stays bounded.
  private journal: number[] = [];
  private journalBase = 0;
  private resetRev = 0;
  /** Resets so far (a paused view tells a reset from growth). */
  generation = 0;

  constructor(limit = 500) {
    this.limit = limit;
  }

  /** Replace everything (a kernel snapshot, or a new conversation). */
  reset(entries: LogEntry[]): void {
    const sorted = [...entries].sort((a, b) => a.seq - b.seq).slice(-this.limit);
    this.entries = new Map(sorted.map((e) => [e.seq, e]));
    this.totalEvents = sorted.reduce((n, e) => n + e.count, 0);
    this.rev += 1;
    this.generation += 1;
    this.resetRev = this.rev;
    this.journal = [];
    this.journalBase = this.rev;
  }

  /** New or updated entries from a frame. */
  patch(entries: LogEntry[]): void {
    for (const e of entries) {
      const old = this.entries.get(e.seq);
      if (old === undefined && this.entries.size && e.seq < this.oldestSeq()) continue; // dropped already
      this.totalEvents += Math.max(0, e.count - (old?.count ?? 0));
      if (old === undefined && this.entries.size && e.seq < this.newestSeq()) {
        // Out of order (never from one kernel): keep the map in seq order.
        this.entries = new Map([...this.entries, [e.seq, e] as [number, LogEntry]].sort((a, b) => a[0] - b[0]));
      } else {
        this.entries.set(e.seq, e);
      }
      this.rev += 1;
      this.journal.push(e.seq);
    }
    while (this.entries.size > this.limit) this.entries.delete(this.oldestSeq());
    // Keep the journal bounded: a view further behind rebuilds from the (bounded) entries.
    if (this.journal.length > 4 * this.limit) {
      const cut = this.journal.length - 2 * this.limit;
      this.journal = this.journal.slice(cut);
      this.journalBase += cut;
    }
  }

  has(seq: number): boolean {
    return this.entries.has(seq);
  }

  oldestSeq(): number {
    return this.entries.keys().next().value ?? 0;
  }

  newestSeq(): number {
    let last = 0;
    // Maps have no last(); entries are few and this runs only on out-of-order checks.
    for (const seq of this.entries.keys()) last = seq;
    return last;
  }

  /** Entries oldest first. */
  list(): LogEntry[] {
    return Array.from(this.entries.values());
  }

  /** What changed since `rev` (a view's last rendered revision). */
  changesSince(rev: number): LogChanges {
    if (rev < this.resetRev || rev < this.journalBase) return { rev: this.rev, changed: [], reset: true };
    const seqs = new Set(this.journal.slice(rev - this.journalBase));
    const changed: LogEntry[] = [];
    for (const seq of [...seqs].sort((a, b) => a - b)) {
      const e = this.entries.get(seq);
      if (e) changed.push(e);
    }
    return { rev: this.rev, changed, reset: false };
  }
}

/**
 * One view's way of looking at the store: its filter and search, and its pause.
 *
 * Paused, the view keeps showing what it showed (the session goes on); `arrived()` counts the
 * events that came meanwhile, and resuming catches up through `changesSince`.
 */
export class LogViewState {
  filter: LogFilter = allShown();
  paused = false;
  /** The store revision this view has rendered. */
  rev = 0;
  private eventsAtPause = 0;
  private generationAtPause = 0;

  constructor(private store: LogStore) {}

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.eventsAtPause = this.store.totalEvents;
    this.generationAtPause = this.store.generation;
  }

  resume(): void {
    this.paused = false;
  }

  /** Events that arrived while paused (0 when not paused). After a reset while paused (a new
   * conversation), what the new log holds. */
  arrived(): number {
    if (!this.paused) return 0;
    if (this.store.generation !== this.generationAtPause) return this.store.totalEvents;
    return this.store.totalEvents - this.eventsAtPause;
  }

  /** Changes to render now: none while paused. Advances `rev`. */
  take(): LogChanges | null {
    if (this.paused) return null;
    const changes = this.store.changesSince(this.rev);
    this.rev = changes.rev;
    return changes;
  }

  /** Start over (the view was rebuilt from `list()`). */
  synced(): void {
    this.rev = this.store.rev;
  }

  shows(e: LogEntry): boolean {
    return matches(e, this.filter);
  }

  toggleDir(dir: Direction, on: boolean): void {
    if (on) this.filter.dirs.add(dir);
    else this.filter.dirs.delete(dir);
  }

  toggleGroup(group: TypeGroup, on: boolean): void {
    if (on) this.filter.groups.add(group);
    else this.filter.groups.delete(group);
  }

  setSearch(text: string): void {
    this.filter.search = text;
  }
}

/** "×143" for a folded entry, "" for a single event. */
export function countLabel(e: LogEntry): string {
  return e.count > 1 ? `×${e.count}` : "";
}

/** What an expanded folded entry says above its first event's JSON. */
export function foldSummary(e: LogEntry): string {
  if (e.count <= 1) return "";
  const first = e.first_time ?? e.time;
  const span = Math.max(0, e.time - first);
  const parts = [`${e.count} events`, `over ${span.toFixed(1)} s`];
  if (e.bytes) parts.push(`${e.bytes} bytes of audio`);
  if (e.group) parts.push(`per ${e.group}`);
  return `${parts.join(" · ")}. The first event:`;
}

/** How close (px) to its end a scrolled list counts as showing its newest row. */
export const FOLLOW_SLACK_PX = 8;

/** Whether a list scrolled to `top` shows its end (within `FOLLOW_SLACK_PX`). */
export function atEnd(top: number, scrollHeight: number, clientHeight: number): boolean {
  return scrollHeight - top - clientHeight < FOLLOW_SLACK_PX;
}

/**
 * When the log scrolls to its newest row: the decisions, apart from the DOM.
 *
 * Reading a list's scroll metrics right after changing its rows forces a synchronous layout, and
 * so does writing its scrollTop; once per frame that doubled the log's layout work. So the view
 * reads whether it is at the end *before* writing anything (the layout is still clean from the
 * last rendering), and scrolls at most once per animation frame (in requestAnimationFrame, where
 * the layout it needs is the one the rendering does anyway). While a scroll is pending, the
 * newest rows are not on screen yet but the view is following: it does not read again.
 */
export class TailFollow {
  private pending = false;

  /** Whether rows added now should bring the list to its end; `readAtEnd` (a layout read) is
   * called only when no scroll is pending. */
  following(readAtEnd: () => boolean): boolean {
    return this.pending || readAtEnd();
  }

  /** A scroll to the end is wanted: true when the caller must schedule it (once per frame). */
  request(): boolean {
    if (this.pending) return false;
    this.pending = true;
    return true;
  }

  /** Whether a scroll is scheduled and not done yet. */
  get scheduled(): boolean {
    return this.pending;
  }

  /** The scheduled scroll ran. */
  done(): void {
    this.pending = false;
  }
}
