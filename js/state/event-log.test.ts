import { describe, expect, it } from "vitest";
import { LogStore, LogViewState, TailFollow, atEnd, foldSummary, matches, allShown, typeGroup } from "./event-log";
import type { LogEntry } from "./model";

function entry(seq: number, type: string, extra: Partial<LogEntry> = {}): LogEntry {
  return { seq, time: seq, dir: "<", type, count: 1, json: JSON.stringify({ type }), ...extra };
}

/** A folded entry as the kernel sends it again: same seq, higher count. */
function folded(seq: number, type: string, count: number, group: string, extra: Partial<LogEntry> = {}): LogEntry {
  return entry(seq, type, { count, group, first_time: seq, time: seq + count / 50, ...extra });
}

describe("typeGroup", () => {
  it("groups wire types by their prefix; error is its own; the rest is other", () => {
    expect(typeGroup("input_audio_buffer.append")).toBe("input_audio_buffer");
    expect(typeGroup("response.output_audio.delta")).toBe("response");
    expect(typeGroup("conversation.item.added")).toBe("conversation");
    expect(typeGroup("session.updated")).toBe("session");
    expect(typeGroup("error")).toBe("error");
    expect(typeGroup("rate_limits.updated")).toBe("other");
    expect(typeGroup("widget.interrupt_ignored")).toBe("other");
    expect(typeGroup("other.thing")).toBe("other");
  });
});

describe("matches (filter and search)", () => {
  const sent = entry(1, "input_audio_buffer.append", { dir: ">", group: "turn 2", count: 143 });
  const got = entry(2, "response.output_audio_transcript.delta", { json: '{"delta": "Hello World"}', group: "response resp_7" });
  const local = entry(3, "widget.interrupt_ignored", { dir: "=" });

  it("shows everything by default", () => {
    expect([sent, got, local].every((e) => matches(e, allShown()))).toBe(true);
  });
  it("filters by direction and by type group", () => {
    const f = allShown();
    f.dirs.delete(">");
    expect([sent, got, local].map((e) => matches(e, f))).toEqual([false, true, true]);
    f.groups.delete("other");
    expect([sent, got, local].map((e) => matches(e, f))).toEqual([false, true, false]);
  });
  it("searches the type, the fold group and the JSON, ignoring case", () => {
    const f = allShown();
    f.search = "hello world";
    expect([sent, got, local].map((e) => matches(e, f))).toEqual([false, true, false]);
    f.search = "TURN 2";
    expect([sent, got, local].map((e) => matches(e, f))).toEqual([true, false, false]);
    f.search = "interrupt";
    expect([sent, got, local].map((e) => matches(e, f))).toEqual([false, false, true]);
    f.search = "   ";
    expect([sent, got, local].every((e) => matches(e, f))).toBe(true);
  });
});

describe("LogStore", () => {
  it("updates a folded entry in place: one row per turn or response, its counter rising", () => {
    const store = new LogStore(10);
    store.patch([entry(1, "response.created"), folded(2, "response.output_audio.delta", 1, "response r1")]);
    for (let n = 2; n <= 87; n++) store.patch([folded(2, "response.output_audio.delta", n, "response r1")]);
    store.patch([entry(3, "response.done")]);
    expect(store.list().map((e) => [e.seq, e.count])).toEqual([
      [1, 1],
      [2, 87],
      [3, 1],
    ]);
    expect(store.totalEvents).toBe(89);
  });

  it("keeps the newest entries up to its limit, whatever the session's length", () => {
    const store = new LogStore(50);
    for (let s = 1; s <= 10_000; s++) store.patch([entry(s, "response.done")]);
    expect(store.list().length).toBe(50);
    expect(store.oldestSeq()).toBe(9951);
    // An update of an entry dropped already is not resurrected.
    store.patch([folded(3, "response.output_audio.delta", 9, "response r")]);
    expect(store.has(3)).toBe(false);
  });

  it("journals changes so a view gets only what changed since its revision", () => {
    const store = new LogStore(10);
    store.patch([entry(1, "a"), entry(2, "b")]);
    const rev = store.rev;
    store.patch([folded(2, "b", 5, "g"), entry(3, "c")]);
    store.patch([folded(2, "b", 6, "g")]);
    const changes = store.changesSince(rev);
    expect(changes.reset).toBe(false);
    expect(changes.changed.map((e) => [e.seq, e.count])).toEqual([
      [2, 6],
      [3, 1],
    ]);
    expect(store.changesSince(changes.rev).changed).toEqual([]);
  });

  it("asks a view to rebuild after a reset or when it lags beyond the bounded journal", () => {
    const store = new LogStore(5);
    store.patch([entry(1, "a")]);
    const rev = store.rev;
    store.reset([entry(7, "x"), entry(6, "y")]);
    expect(store.changesSince(rev).reset).toBe(true);
    expect(store.list().map((e) => e.seq)).toEqual([6, 7]);
    const after = store.rev;
    for (let s = 8; s < 100; s++) store.patch([entry(s, "z")]);
    expect(store.changesSince(after).reset).toBe(true);
    expect(store.changesSince(store.rev - 3).changed.map((e) => e.seq)).toEqual([97, 98, 99]);
  });
});

describe("LogViewState (pause)", () => {
  it("freezes the view while paused, counts the events that arrive, and catches up on resume", () => {
    const store = new LogStore(100);
    const view = new LogViewState(store);
    store.patch([entry(1, "session.created"), folded(2, "input_audio_buffer.append", 10, "turn 1")]);
    expect(view.take()?.changed.length).toBe(2);
    view.pause();
    store.patch([folded(2, "input_audio_buffer.append", 40, "turn 1")]); // 30 more appends
    store.patch([entry(3, "input_audio_buffer.committed"), folded(4, "response.output_audio.delta", 7, "response r")]);
    expect(view.take()).toBeNull();
    expect(view.arrived()).toBe(38);
    view.resume();
    expect(view.arrived()).toBe(0);
    const caught = view.take();
    expect(caught?.changed.map((e) => [e.seq, e.count])).toEqual([
      [2, 40],
      [3, 1],
      [4, 7],
    ]);
  });

  it("counts a new conversation's events after a reset while paused", () => {
    const store = new LogStore(100);
    const view = new LogViewState(store);
    store.patch([entry(1, "a"), entry(2, "b"), entry(3, "c")]);
    view.take();
    view.pause();
    store.reset([]);
    store.patch([entry(1, "session.updated")]);
    expect(view.arrived()).toBe(1);
    view.resume();
    expect(view.take()?.reset).toBe(true);
  });
});

describe("foldSummary", () => {
  it("says how many events a folded entry holds, over what time, how much audio, per what", () => {
    const e = entry(5, "input_audio_buffer.append", { count: 143, first_time: 100, time: 102.86, bytes: 137280, group: "turn 3" });
    expect(foldSummary(e)).toBe("143 events · over 2.9 s · 137280 bytes of audio · per turn 3. The first event:");
    expect(foldSummary(entry(6, "response.done"))).toBe("");
  });
});

describe("TailFollow (scroll to the newest row)", () => {
  it("counts a list within a few pixels of its end as at its end", () => {
    expect(atEnd(760, 1000, 240)).toBe(true);
    expect(atEnd(755, 1000, 240)).toBe(true);
    expect(atEnd(700, 1000, 240)).toBe(false);
    expect(atEnd(0, 0, 0)).toBe(true); // never laid out (closed): follows
  });

  it("reads the layout only when no scroll is pending, and scrolls once per animation frame", () => {
    const tail = new TailFollow();
    let reads = 0;
    const read = (at: boolean) => () => {
      reads += 1;
      return at;
    };
    expect(tail.following(read(true))).toBe(true);
    expect(tail.request()).toBe(true); // schedule the frame's scroll
    // More frames before the animation frame: the new rows are below the fold, yet the view
    // follows without reading the (now dirty) layout, and schedules nothing more.
    expect(tail.following(read(false))).toBe(true);
    expect(tail.request()).toBe(false);
    expect(reads).toBe(1);
    expect(tail.scheduled).toBe(true);
    tail.done();
    expect(tail.scheduled).toBe(false);
    // The user scrolled up meanwhile: the next frame reads it and stops following.
    expect(tail.following(read(false))).toBe(false);
    expect(reads).toBe(2);
  });
});
