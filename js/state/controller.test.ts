import type { AnyModel } from "@anywidget/types";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Controller } from "./controller";
import type { Frame, ItemView, LogEntry, WidgetTraits } from "./model";
import { item } from "./test-items";

/**
 * A stand-in for the host framework only: anywidget's model proxy over a Backbone model (get, a
 * `set` that fires `change:<name>` at once, `save_changes`, `on`/`off`, `send`). It records what
 * the controller asks of the host; the saved-copy logic under test is the real controller's.
 */
class HostModel {
  values: Record<string, unknown>;
  handlers = new Map<string, Set<(...args: any[]) => void>>();
  sets: { name: string; value: unknown; at: number }[] = [];
  saves = 0;
  sent: unknown[] = [];

  constructor(values: Partial<WidgetTraits>) {
    this.values = { ...values };
  }
  get(name: string): any {
    return this.values[name];
  }
  set(name: string, value: unknown): void {
    const changed = this.values[name] !== value;
    this.values[name] = value;
    this.sets.push({ name, value, at: Date.now() });
    if (changed) this.emit(`change:${name}`);
  }
  save_changes(): void {
    this.saves += 1;
  }
  on(event: string, cb: (...args: any[]) => void): void {
    if (!this.handlers.has(event)) this.handlers.set(event, new Set());
    this.handlers.get(event)!.add(cb);
  }
  off(event: string, cb: (...args: any[]) => void): void {
    this.handlers.get(event)?.delete(cb);
  }
  send(content: unknown): void {
    this.sent.push(content);
  }
  emit(event: string, ...args: unknown[]): void {
    for (const cb of [...(this.handlers.get(event) ?? [])]) cb(...args);
  }
  /** A kernel `frame` custom message, as ipywidgets delivers it. */
  frame(parts: Partial<Frame>): void {
    const frame: Frame = {
      type: "frame",
      seq: 0,
      clear: false,
      items: [],
      removed: [],
      audio: [],
      audio_done: [],
      log: [],
      ...parts,
    };
    this.emit("msg:custom", frame, []);
  }
  setsOf(name: string) {
    return this.sets.filter((s) => s.name === name);
  }
}

function logEntry(seq: number, type: string): LogEntry {
  return { seq, time: seq, dir: "<", type, count: 1, json: "{}" };
}

function setup(items: ItemView[] = []) {
  const host = new HostModel({ status: "connected", items_snapshot: items, event_log: [], errors: [] });
  const controller = new Controller(host as unknown as AnyModel<WidgetTraits>);
  return { host, controller };
}

const texts = (host: HostModel) =>
  (host.get("items_snapshot") as ItemView[]).map((i) => [i.id, i.text]);

describe("Controller's saved copy of items_snapshot and event_log", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("writes frame patches into items_snapshot and event_log locally, never saving them", () => {
    const { host } = setup([item("a", "hel")]);
    host.frame({ items: [item("a", "hello"), item("b", "new")], log: [logEntry(1, "response.created")] });
    vi.advanceTimersByTime(1000);
    expect(texts(host)).toEqual([
      ["a", "hello"],
      ["b", "new"],
    ]);
    expect((host.get("event_log") as LogEntry[]).map((e) => e.type)).toEqual(["response.created"]);
    expect(host.saves).toBe(0);
    expect(host.sent).toEqual([]);
  });

  it("does not re-render the views for its own saved-copy write", () => {
    const { host, controller } = setup();
    const renders: string[][] = [];
    controller.subscribe((changes) => renders.push([...changes]));
    host.frame({ items: [item("a", "one")], log: [logEntry(1, "response.created")] });
    vi.advanceTimersByTime(1);
    expect(renders).toEqual([["items", "log"]]);
    vi.advanceTimersByTime(1000);
    expect(texts(host)).toEqual([["a", "one"]]);
    expect(renders).toHaveLength(1);
  });

  it("writes the saved copy at most once a second however fast frames come", () => {
    const { host } = setup();
    const start = Date.now();
    // 40 frames/s (one per 25 ms, the kernel's frame cap) for 3 s.
    for (let t = 0; t < 3000; t += 25) {
      host.frame({ items: [item("a", `word ${t}`)] });
      vi.advanceTimersByTime(25);
    }
    vi.advanceTimersByTime(1000);
    const writes = host.setsOf("items_snapshot");
    expect(writes[0].at - start).toBe(1000);
    expect(writes.length).toBeGreaterThanOrEqual(3);
    expect(writes.length).toBeLessThanOrEqual(4);
    for (let k = 1; k < writes.length; k++) {
      expect(writes[k].at - writes[k - 1].at).toBeGreaterThanOrEqual(1000);
    }
    expect(texts(host)).toEqual([["a", "word 2975"]]);
    expect(host.saves).toBe(0);
  });

  it("does not write the saved copy before a second has passed since the first patch", () => {
    const { host } = setup();
    const start = Date.now();
    host.frame({ items: [item("a", "x")] });
    vi.advanceTimersByTime(999);
    expect(host.setsOf("items_snapshot")).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(host.setsOf("items_snapshot").map((s) => s.at - start)).toEqual([1000]);
  });

  it("drops removed items from items_snapshot", () => {
    const { host } = setup([item("a", "keep"), item("b", "gone"), item("c", "also kept")]);
    host.frame({ removed: ["b"] });
    vi.advanceTimersByTime(1000);
    expect(texts(host)).toEqual([
      ["a", "keep"],
      ["c", "also kept"],
    ]);
    expect(host.saves).toBe(0);
  });

  it("takes a later kernel value of items_snapshot as the conversation", () => {
    const { host, controller } = setup([item("a", "old")]);
    host.set("items_snapshot", [item("k", "from the kernel")]);
    expect(controller.state.list().map((i) => i.id)).toEqual(["k"]);
  });
});

describe("Controller's MCP approvals", () => {
  it("sends one mcp_approve per request, even on a double click", () => {
    const { host, controller } = setup();
    controller.decideMcp("mcpr_1", true);
    controller.decideMcp("mcpr_1", false);
    controller.decideMcp("mcpr_2", false);
    expect(host.sent).toEqual([
      { type: "mcp_approve", request_id: "mcpr_1", approve: true },
      { type: "mcp_approve", request_id: "mcpr_2", approve: false },
    ]);
    expect([...controller.mcpSent]).toEqual(["mcpr_1", "mcpr_2"]);
  });
});
