/**
 * Per-model controller (anywidget `initialize`): routes kernel messages, owns the shared audio
 * engine and conversation state, and tells the views what changed. Views only render and call
 * the actions below.
 */
import type { AnyModel } from "@anywidget/types";
import { AudioEngine, type PlayerProgress } from "../audio/engine";
import { CaptureError, MIC_MESSAGES, UNAVAILABLE_CODES, micUnavailable, watchPermission } from "../audio/mic-support";
import { ConversationState } from "./conversation";
import { type DownloadFormat, type DownloadReply, fileFromReply, saveFile } from "./download";
import { imageProblem } from "./images";
import { DEVICE_GONE, MIC_ENDED } from "./settings";
import type { ErrorEntry, Frame, KernelMessage, PlayedReport, ReplayAudio, WidgetTraits } from "./model";
import { parseKey, partKey } from "./model";

export type Change = "items" | "log" | "meters" | "capture" | "errors" | "traits";
export type Listener = (changes: Set<Change>) => void;

const PLAYED_REPORT_MS = 200; // <= 5 reports/s to the kernel
const SAVED_COPY_MS = 1000; // a notebook saved right after a change misses at most this much

/** Copy a comm buffer out so it can be transferred to a worklet. */
function copyBuffer(view: DataView): ArrayBuffer {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice().buffer as ArrayBuffer;
}

function toReports(played: [string, number][]): PlayedReport[] {
  return played.map(([key, samples]) => ({ ...parseKey(key), samples }));
}

export class Controller {
  model: AnyModel<WidgetTraits>;
  state = new ConversationState();
  engine: AudioEngine | null = null;
  listeners: Set<Listener> = new Set();
  localErrors: ErrorEntry[] = [];
  playedDirty: Map<string, number> = new Map();
  lastPlayedReport = 0;
  playedTimer: ReturnType<typeof setTimeout> | null = null;
  cutItems: Set<string> = new Set();
  /** MCP approval requests the user answered here, until the server records the answer. */
  mcpSent: Set<string> = new Set();
  streaming: Set<string> = new Set();
  audioSeq = 0;
  pttActive = false;
  /** Items whose first audio was played (and reported as `heard`); bounded. */
  heard = new Set<string>();
  micWanted = false;
  kernelGone = false;
  pendingNotify: Set<Change> = new Set();
  notifyScheduled = false;
  disposers: (() => void)[] = [];
  writingSaved = false;
  savedTimer: ReturnType<typeof setTimeout> | null = null;
  /**
   * Why this page can never capture (no getUserMedia, as in VS Code's webview; not a secure
   * context), or null. Known at start: the widget says so before anyone presses the microphone
   * button, and that button stays disabled.
   */
  micBlocked: CaptureError | null;

  constructor(model: AnyModel<WidgetTraits>) {
    this.model = model;
    this.micBlocked = micUnavailable();
    if (this.micBlocked) this.addLocalError(this.micBlocked.code, this.micBlocked.message);
    else this.disposers.push(watchPermission((state) => this.onMicPermission(state)));
    this.state.resetItems(model.get("items_snapshot") || []);
    this.state.resetLog(model.get("event_log") || []);
    const on = (event: string, cb: (...args: any[]) => void) => {
      model.on(event, cb);
      this.disposers.push(() => model.off(event as any, cb));
    };
    on("msg:custom", (msg: KernelMessage, buffers: DataView[]) => this.onMessage(msg, buffers));
    // A value from the kernel is newer than every patch before it on the same comm; our own
    // local writes (below) fire the same events and are skipped.
    on("change:items_snapshot", () => {
      if (this.writingSaved) return;
      this.state.resetItems(model.get("items_snapshot") || []);
      this.notify("items");
    });
    on("change:event_log", () => {
      if (this.writingSaved) return;
      this.state.resetLog(model.get("event_log") || []);
      this.notify("log");
    });
    on("change:errors", () => this.notify("errors"));
    on("change:turn_stats", () => this.notify("items"));
    for (const t of ["status", "usage", "notice", "settings", "settings_status", "hands_free", "response_active", "server_label", "mode", "language"]) {
      on(`change:${t}`, () => this.notify("traits"));
    }
    on("change:status", () => this.onStatus());
    on("change:hands_free", () => this.applyEchoGuard());
    on("change:echo_guard", () => this.applyEchoGuard());
    // ipywidgets signals a closed comm (kernel restarted or shut down, or the widget closed);
    // anywidget's model proxy forwards these events but not the `comm_live` flag itself.
    on("comm:close", () => this.onKernelGone());
    on("comm_live_update", () => this.onKernelGone());
  }

  // ---------------------------------------------------------------- views
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      // The last view closed: release the mic and audio (DESIGN §5).
      if (this.listeners.size === 0) this.releaseAudio();
    };
  }

  notify(change: Change): void {
    this.pendingNotify.add(change);
    if (this.notifyScheduled) return;
    this.notifyScheduled = true;
    // Coalesce bursts into one render per task.
    setTimeout(() => {
      this.notifyScheduled = false;
      const changes = this.pendingNotify;
      this.pendingNotify = new Set();
      for (const l of this.listeners) l(changes);
    }, 0);
  }

  errors(): ErrorEntry[] {
    const kernel = (this.model.get("errors") || []).filter((e) => e.source !== "browser");
    return kernel.concat(this.localErrors).slice(-5);
  }

  addLocalError(code: string, message: string, report = true): void {
    this.localErrors = this.localErrors.filter((e) => e.code !== code);
    this.localErrors.push({ time: Date.now() / 1000, source: "browser", code, message });
    this.notify("errors");
    if (report) this.send({ type: "browser_error", code, message });
  }

  dismissLocalError(code: string): void {
    this.localErrors = this.localErrors.filter((e) => e.code !== code);
    this.notify("errors");
  }

  /** The browser's microphone permission, where it reports one (and whenever it changes). */
  onMicPermission(state: string): void {
    if (state === "denied") this.addLocalError("mic_denied", MIC_MESSAGES.mic_denied);
    else this.dismissLocalError("mic_denied");
  }

  onKernelGone(): void {
    if (this.kernelGone) return;
    this.kernelGone = true;
    this.stopMic();
    this.addLocalError(
      "kernel_gone",
      "The kernel is gone (restarted or shut down) or the widget was closed. Re-run the cell " +
        "to get a new widget.",
      false,
    );
  }

  send(content: object, buffers?: ArrayBuffer[]): void {
    if (this.kernelGone) return;
    try {
      this.model.send(content, undefined, buffers);
    } catch (err) {
      this.onKernelGone();
    }
  }

  // ---------------------------------------------------------------- kernel messages
  onMessage(msg: KernelMessage, buffers: DataView[]): void {
    if (msg.type === "frame") this.onFrame(msg, buffers);
    else if (msg.type === "replay_audio") this.onReplayAudio(msg, buffers);
    else if (msg.type === "cleared") this.onCleared();
    else if (msg.type === "download") this.onDownload(msg, buffers);
  }

  /** The kernel started a new conversation: drop this copy of the items and the event log. */
  onCleared(): void {
    this.state.resetItems([]);
    this.state.resetLog([]);
    this.cutItems.clear();
    this.streaming.clear();
    this.notify("items");
    this.notify("log");
    this.writeSavedCopy();
  }

  onDownload(reply: DownloadReply, buffers: DataView[]): void {
    if (reply.error) return; // the kernel lists why in `errors`, shown as an alert
    const file = fileFromReply(reply, buffers);
    if (!file) {
      this.addLocalError("download_failed", "The download arrived incomplete: try again.");
      return;
    }
    try {
      saveFile(file);
    } catch (err) {
      this.addLocalError("download_failed", `The browser could not save ${file.filename}: ${String(err)}`);
    }
  }

  onFrame(frame: Frame, buffers: DataView[]): void {
    if (frame.clear) this.clearPlayback("interrupted");
    if (frame.items.length || frame.removed.length) {
      this.state.patch(frame.items, frame.removed);
      this.notify("items");
    }
    for (const a of frame.audio) {
      if (this.cutItems.has(a.item_id)) continue;
      const view = buffers[a.buffer];
      if (!view) continue;
      this.streaming.add(a.item_id);
      void this.getEngine().play(partKey(a.item_id, a.content_index), copyBuffer(view)).catch((err) => {
        this.addLocalError("audio_failed", `Audio playback could not start: ${String(err)}`);
      });
    }
    for (const d of frame.audio_done) {
      this.streaming.delete(d.item_id);
      void this.engine?.end(partKey(d.item_id, d.content_index)).catch(() => {});
    }
    if (frame.log.length) {
      this.state.patchLog(frame.log);
      this.notify("log");
    }
    if (frame.items.length || frame.removed.length || frame.log.length) this.scheduleSavedCopy();
  }

  /**
   * Keep the saved-state traits current in the browser, so a notebook saved from here holds the
   * conversation as shown, while the kernel sends them only when a view opens, on disconnect and
   * on close (their size grows with the conversation). `model.set` without `save_changes`: the
   * values stay local (the kernel ignores them if a later save of another trait carries them).
   * At most once per SAVED_COPY_MS, since each write copies the whole conversation.
   */
  scheduleSavedCopy(): void {
    if (this.savedTimer) return;
    this.savedTimer = setTimeout(() => {
      this.savedTimer = null;
      this.writeSavedCopy();
    }, SAVED_COPY_MS);
  }

  writeSavedCopy(): void {
    if (this.kernelGone) return;
    this.writingSaved = true;
    try {
      this.model.set("items_snapshot", this.state.list());
      this.model.set("event_log", this.state.logList());
    } finally {
      this.writingSaved = false;
    }
  }

  onReplayAudio(msg: ReplayAudio, buffers: DataView[]): void {
    const view = buffers[0];
    if (!view) return;
    void this.getEngine().replay(copyBuffer(view));
  }

  onStatus(): void {
    const status = this.model.get("status");
    if (status === "connected" && this.model.get("hands_free") && this.micWanted) void this.startMic();
    if (status === "disconnected" || status === "error") this.stopMic();
  }

  // ---------------------------------------------------------------- audio
  getEngine(): AudioEngine {
    if (!this.engine) {
      this.engine = new AudioEngine({
        onChunk: (pcm) => {
          this.audioSeq += 1;
          this.send({ type: "audio", seq: this.audioSeq }, [pcm]);
          this.notify("meters");
        },
        onProgress: (p) => this.onProgress(p),
        onContextState: (state) => {
          // Autoplay rules: audio stays silent until the user interacts with the page.
          if (state === "suspended") {
            this.addLocalError(
              "audio_suspended",
              "The browser holds sound until you interact: click anywhere in the widget.",
              false,
            );
          } else {
            this.dismissLocalError("audio_suspended");
          }
        },
        onCaptureEnded: () => this.onCaptureEnded(),
      });
      this.engine.setEchoGuard(this.echoGuardWanted());
    }
    return this.engine;
  }

  /**
   * Whether the capture's echo guard should run: hands-free (server voice detection hears the
   * room while the answer plays) with the widget's `echo_guard` (on unless the kernel says
   * false). Push-to-talk cuts playback when pressed: nothing to guard.
   */
  echoGuardWanted(): boolean {
    return !!this.model.get("hands_free") && this.model.get("echo_guard") !== false;
  }

  applyEchoGuard(): void {
    this.engine?.setEchoGuard(this.echoGuardWanted());
  }

  onProgress(p: PlayerProgress): void {
    for (const [key, samples] of p.played) {
      this.playedDirty.set(key, samples);
      if (samples > 0) this.noteHeard(parseKey(key).item_id);
    }
    this.notify("meters");
    if (this.playedDirty.size === 0 || this.playedTimer) return;
    const wait = Math.max(0, this.lastPlayedReport + PLAYED_REPORT_MS - Date.now());
    this.playedTimer = setTimeout(() => {
      this.playedTimer = null;
      this.lastPlayedReport = Date.now();
      const played = Array.from(this.playedDirty.entries());
      this.playedDirty.clear();
      if (played.length) this.send({ type: "played", played: toReports(played) });
    }, wait);
  }

  /** The first audio of an item played: told to the kernel at once (a turn's latency ends here,
   * so it is not held for the throttled played report). Once per item. */
  noteHeard(itemId: string): void {
    if (this.heard.has(itemId)) return;
    this.heard.add(itemId);
    if (this.heard.size > 1000) this.heard.delete(this.heard.values().next().value as string);
    this.send({ type: "heard", item_id: itemId });
  }

  /** Stop playback now and tell the kernel what was heard (`reason`: interrupted/stop/ptt_start). */
  async clearPlayback(reason: "interrupted" | "stop" | "ptt_start"): Promise<void> {
    // Audio of these parts still in flight from the kernel must not play after the cut.
    for (const id of this.streaming) this.cutItems.add(id);
    this.streaming.clear();
    if (!this.engine) {
      this.send({ type: reason, played: [] });
      return;
    }
    const progress = await this.engine.clear();
    this.playedDirty.clear();
    this.send({ type: reason, played: toReports(progress.played) });
    this.notify("meters");
  }

  /** Resume audio after a user gesture (autoplay policy). */
  gesture(): void {
    this.engine?.resume();
  }

  async startMic(): Promise<boolean> {
    this.micWanted = true;
    this.notify("capture");
    const engine = this.getEngine();
    if (engine.capturing) return true;
    try {
      const device = this.model.get("settings")?.mic_device || "";
      const { fellBack } = await engine.startCapture(device);
      if (fellBack) this.micDeviceGone();
      for (const code of [...UNAVAILABLE_CODES, "mic_ended"]) this.dismissLocalError(code);
      this.notify("capture");
      return true;
    } catch (err) {
      this.micWanted = false;
      const e = err instanceof CaptureError ? err : new CaptureError("audio_failed", String(err));
      this.addLocalError(e.code, e.message);
      this.notify("capture");
      return false;
    }
  }

  /** The microphone's track ended mid-capture: stop cleanly and say what to do (never stuck). */
  onCaptureEnded(): void {
    const pushToTalk = this.pttActive;
    this.stopMic();
    // Mid push-to-talk: what was said so far is committed (the turn gets its answer).
    if (pushToTalk) this.send({ type: "ptt_stop" });
    this.addLocalError("mic_ended", MIC_ENDED);
  }

  /** The picked microphone is gone: forget it (the default is used) and say so. */
  micDeviceGone(): void {
    const settings = this.model.get("settings") || {};
    if (settings.mic_device) this.setSettings({ ...settings, mic_device: "" });
    this.addLocalError("mic_device_gone", DEVICE_GONE, false);
  }

  /** Pick the microphone; a running capture moves to it at once. */
  setMicDevice(deviceId: string): void {
    this.setSettings({ ...(this.model.get("settings") || {}), mic_device: deviceId });
    this.dismissLocalError("mic_device_gone");
    if (this.engine?.capturing) {
      this.engine.stopCapture();
      void this.startMic();
    }
  }

  stopMic(): void {
    this.micWanted = false;
    this.pttActive = false;
    this.engine?.stopCapture();
    this.notify("capture");
  }

  /** Whether the microphone is on or starting (what the Microphone button's aria-pressed shows). */
  capturing(): boolean {
    return this.model.get("hands_free") ? this.micWanted : this.pttActive;
  }

  /** Push-to-talk pressed: cut playback at once, then capture. */
  async pttStart(): Promise<void> {
    if (this.pttActive) return;
    this.pttActive = true;
    this.notify("capture");
    await this.clearPlayback("ptt_start");
    const ok = await this.startMic();
    if (!ok) this.pttActive = false;
    this.notify("capture");
  }

  /** Push-to-talk released: send the last partial chunk, then commit. */
  async pttStop(): Promise<void> {
    if (!this.pttActive) return;
    this.pttActive = false;
    await this.engine?.flushCapture();
    this.stopMic();
    this.send({ type: "ptt_stop" });
  }

  // ---------------------------------------------------------------- actions from views
  connect(): void {
    this.gesture();
    if (this.model.get("hands_free")) this.micWanted = true;
    // Create the context inside the click so the autoplay policy lets it run.
    void this.getEngine().ensureContext().catch(() => {});
    this.send({ type: "connect" });
  }

  disconnect(): void {
    this.stopMic();
    void this.clearPlayback("stop");
    this.send({ type: "disconnect" });
  }

  setHandsFree(on: boolean): void {
    this.model.set("hands_free", on);
    this.model.save_changes();
    // Switching modes stops the microphone; the Microphone button starts it again.
    this.stopMic();
  }

  /**
   * Send a pasted or dropped image (and the text box's words) to the kernel as raw bytes; a
   * file that is not a PNG/JPEG or is too large gets a notice instead (the session goes on).
   * Returns whether it was sent.
   */
  async sendImage(file: Blob & { name?: string }, text?: string): Promise<boolean> {
    const problem = imageProblem(file);
    if (problem) {
      this.addLocalError("invalid_image", problem, false);
      return false;
    }
    this.dismissLocalError("invalid_image");
    const bytes = await file.arrayBuffer();
    this.send({ type: "image", name: file.name || "pasted image", mime: file.type, text: text || null }, [bytes]);
    return true;
  }

  sendText(text: string): void {
    this.gesture();
    void this.getEngine().ensureContext().catch(() => {});
    this.send({ type: "text", text });
  }

  /** The Stop button: the answer (playback, response) and the tools still running (issue 15). */
  stop(): void {
    void this.clearPlayback("stop")
      .catch(() => {})
      .then(() => this.send({ type: "cancel_tools" }));
  }

  /** "New conversation": the kernel cancels the answer and deletes every item (w.clear()). */
  newConversation(): void {
    void this.clearPlayback("stop");
    this.send({ type: "clear" });
  }

  /** Ask the kernel for the transcript (Markdown) or the audio (WAV); saved when it arrives. */
  download(format: DownloadFormat): void {
    this.send({ type: "download", format, request_id: `${format}:${Date.now()}` });
  }

  decide(callId: string, approve: boolean): void {
    this.send({ type: approve ? "approve" : "deny", call_id: callId });
  }

  /** Answer an MCP approval request (the kernel sends `mcp_approval_response`). */
  decideMcp(requestId: string, approve: boolean): void {
    if (this.mcpSent.has(requestId)) return; // one answer per request, even on a double click
    this.mcpSent.add(requestId);
    this.send({ type: "mcp_approve", request_id: requestId, approve });
    this.notify("items");
  }

  replay(itemId: string): void {
    this.gesture();
    this.send({ type: "replay", item_id: itemId, request_id: `${itemId}:${Date.now()}` });
  }

  setSettings(settings: WidgetTraits["settings"]): void {
    this.model.set("settings", settings);
    this.model.save_changes();
  }

  releaseAudio(): void {
    this.engine?.release();
    this.engine = null;
    this.micWanted = false;
    this.pttActive = false;
    if (this.playedTimer) clearTimeout(this.playedTimer);
    this.playedTimer = null;
  }

  dispose(): void {
    if (this.savedTimer) clearTimeout(this.savedTimer);
    this.savedTimer = null;
    this.releaseAudio();
    for (const d of this.disposers.splice(0)) d();
    this.listeners.clear();
  }
}
