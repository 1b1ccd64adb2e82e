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
  sentBuffers: (ArrayBuffer[] | undefined)[] = [];
  send(content: unknown, _callbacks?: unknown, buffers?: ArrayBuffer[]): void {
    this.sent.push(content);
    this.sentBuffers.push(buffers);
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

/** A page with a microphone (secure, getUserMedia present); node has neither. */
function stubPageWithMicrophone(): void {
  vi.stubGlobal("isSecureContext", true);
  vi.stubGlobal("navigator", { mediaDevices: { getUserMedia: () => Promise.reject(new Error("not in node")) } });
}

beforeEach(stubPageWithMicrophone);
afterEach(() => {
  vi.unstubAllGlobals();
});

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

describe("Controller.sendImage (pasted and dropped images)", () => {
  it("sends a PNG's bytes as a binary buffer with the typed words", async () => {
    const { host, controller } = setup();
    const png = new File([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], "shot.png", { type: "image/png" });
    expect(await controller.sendImage(png, "what is this?")).toBe(true);
    expect(host.sent).toEqual([{ type: "image", name: "shot.png", mime: "image/png", text: "what is this?" }]);
    expect(new Uint8Array(host.sentBuffers[0]![0])).toEqual(new Uint8Array([0x89, 0x50, 0x4e, 0x47]));
  });

  it("shows a notice for a non-image or a too-large image and sends nothing", async () => {
    const { host, controller } = setup();
    const pdf = new File(["%PDF"], "doc.pdf", { type: "application/pdf" });
    expect(await controller.sendImage(pdf)).toBe(false);
    const big = { name: "big.png", type: "image/png", size: 9 * 1024 * 1024 } as unknown as File;
    expect(await controller.sendImage(big)).toBe(false);
    expect(host.sent).toEqual([]);
    const [notice] = controller.errors();
    expect(notice.code).toBe("invalid_image");
    expect(notice.message).toMatch(/^big\.png is 9\.4 MB, over the 8\.4 MB limit/);
    // A good image afterwards clears the notice.
    await controller.sendImage(new File([new Uint8Array([0xff, 0xd8, 0xff])], "p.jpg", { type: "image/jpeg" }));
    expect(controller.errors()).toEqual([]);
  });
});

describe("Controller: new conversation and downloads", () => {
  it("asks the kernel to clear, and drops its copy when the kernel says cleared", () => {
    const { host, controller } = setup([item("a", "old"), item("b", "older")]);
    host.frame({ log: [logEntry(1, "response.created")] });
    controller.newConversation();
    expect(host.sent).toContainEqual({ type: "clear" });
    expect(controller.state.list().length).toBe(2); // nothing dropped before the kernel answers
    host.emit("msg:custom", { type: "cleared" }, []);
    expect(controller.state.list()).toEqual([]);
    expect(controller.state.logList()).toEqual([]);
    expect(host.get("items_snapshot")).toEqual([]);
    expect(host.get("event_log")).toEqual([]);
    expect(host.saves).toBe(0);
  });

  it("requests a download by format; an error reply saves nothing and adds no second alert", () => {
    const { host, controller } = setup();
    controller.download("wav");
    expect(host.sent).toEqual([expect.objectContaining({ type: "download", format: "wav" })]);
    host.emit("msg:custom", { type: "download", request_id: "x", error: "no audio" }, []);
    expect(controller.localErrors).toEqual([]);
  });

  it("reports a download whose bytes did not all arrive", () => {
    const { host, controller } = setup();
    const bytes = new Uint8Array([1, 2, 3]);
    host.emit("msg:custom", { type: "download", request_id: "x", filename: "a.md", mime: "text/markdown", size: 5 }, [
      new DataView(bytes.buffer),
    ]);
    expect(controller.localErrors.map((e) => e.code)).toEqual(["download_failed"]);
  });
});

describe("Controller: Stop (issue 15)", () => {
  it("sends stop with what was heard, then cancel_tools so running tools end too", async () => {
    const { host, controller } = setup();
    controller.stop();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(host.sent).toEqual([{ type: "stop", played: [] }, { type: "cancel_tools" }]);
  });
  it("does not cancel tools when push-to-talk starts or the user disconnects", async () => {
    const { host, controller } = setup();
    controller.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(host.sent).not.toContainEqual({ type: "cancel_tools" });
  });
});

describe("Controller where the page has no microphone (VS Code's webview, plain http, denied)", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("says so at once, without a press, reports it to the kernel, and never shows the mic as on", async () => {
    vi.stubGlobal("navigator", {}); // no navigator.mediaDevices at all
    const { host, controller } = setup();
    expect(controller.micBlocked?.code).toBe("no_microphone");
    const [notice] = controller.errors();
    expect(notice.code).toBe("no_microphone");
    expect(notice.message).toMatch(/not available here.*Typed messages and playback still work/);
    expect(host.sent).toContainEqual({ type: "browser_error", code: "no_microphone", message: notice.message });
    // Pressing anyway (hands-free toggle or push-to-talk) leaves nothing stuck on.
    host.set("hands_free", true);
    expect(await controller.startMic()).toBe(false);
    expect(controller.capturing()).toBe(false);
    host.set("hands_free", false);
    await controller.pttStart();
    expect(controller.pttActive).toBe(false);
    expect(controller.capturing()).toBe(false);
    expect(controller.errors().map((e) => e.code)).toEqual(["no_microphone"]); // one notice, not one per press
    // Typed messages still go to the kernel.
    controller.sendText("hello");
    expect(host.sent).toContainEqual({ type: "text", text: "hello" });
  });

  it("says so on a page that is not a secure context", () => {
    vi.stubGlobal("isSecureContext", false);
    const { controller } = setup();
    expect(controller.micBlocked?.code).toBe("no_secure_context");
    expect(controller.errors()[0].message).toMatch(/https/);
  });

  it("shows a denied permission before a press, and drops the notice once it is granted", async () => {
    const status: { state: string; onchange: (() => void) | null } = { state: "denied", onchange: null };
    vi.stubGlobal("navigator", {
      mediaDevices: { getUserMedia: () => Promise.reject(Object.assign(new Error("no"), { name: "NotAllowedError" })) },
      permissions: { query: () => Promise.resolve(status) },
    });
    const { host, controller } = setup();
    await vi.runAllTimersAsync();
    expect(controller.micBlocked).toBeNull(); // the button stays usable: the user may allow it
    expect(controller.errors().map((e) => e.code)).toEqual(["mic_denied"]);
    expect(host.sent).toContainEqual(expect.objectContaining({ type: "browser_error", code: "mic_denied" }));
    status.state = "granted";
    status.onchange?.();
    expect(controller.errors()).toEqual([]);
  });

  it("a denied press leaves the microphone off in both modes", async () => {
    vi.stubGlobal("navigator", {
      mediaDevices: { getUserMedia: () => Promise.reject(Object.assign(new Error("no"), { name: "NotAllowedError" })) },
    });
    const { host, controller } = setup();
    controller.getEngine().ensureContext = () => Promise.resolve({} as AudioContext);
    host.set("hands_free", true);
    expect(await controller.startMic()).toBe(false);
    expect(controller.micWanted).toBe(false);
    host.set("hands_free", false);
    await controller.pttStart();
    expect(controller.pttActive).toBe(false);
    expect(controller.errors().map((e) => e.code)).toEqual(["mic_denied"]);
  });

  it("a microphone that goes away mid-turn ends the turn with what was said and says why", async () => {
    const { host, controller } = setup();
    host.set("hands_free", false);
    controller.pttActive = true; // talking (push-to-talk)
    controller.onCaptureEnded();
    await vi.runAllTimersAsync();
    expect(controller.pttActive).toBe(false);
    expect(host.sent).toContainEqual({ type: "ptt_stop" }); // the kernel commits the turn
    expect(controller.errors().map((e) => e.code)).toEqual(["mic_ended"]);
    expect(controller.capturing()).toBe(false);
  });
});

describe("echo guard", () => {
  it("runs in hands-free unless the kernel's echo_guard says false, never in push-to-talk", () => {
    const { host, controller } = setup();
    host.set("hands_free", true);
    const engine = controller.getEngine();
    expect(engine.echoGuard).toBe(true); // a kernel without the trait: on
    host.set("echo_guard", false);
    expect(engine.echoGuard).toBe(false);
    host.set("echo_guard", true);
    expect(engine.echoGuard).toBe(true);
    host.set("hands_free", false); // push-to-talk cuts playback when pressed: nothing to guard
    expect(engine.echoGuard).toBe(false);
  });
});
