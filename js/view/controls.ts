/**
 * The control bar: Connect/Disconnect, status, Microphone (push-to-talk), Hands-free, Stop,
 * New conversation, the downloads (transcript .md, audio .wav) and the level meters. Accessible names are the UI contract of docs/widget-protocol.md.
 */
import type { Controller } from "../state/controller";
import { attr, h, listen, text } from "./dom";

const HOLD_MS = 300; // a press longer than this is "hold to talk"; shorter toggles
const MIC_TITLE = "Hold to talk, or click to toggle (space bar when focused)";

export class Controls {
  el: HTMLElement;
  connect: HTMLButtonElement;
  status: HTMLElement;
  mic: HTMLButtonElement;
  handsFree: HTMLButtonElement;
  stop: HTMLButtonElement;
  clear: HTMLButtonElement;
  saveTranscript: HTMLButtonElement;
  saveAudio: HTMLButtonElement;
  inputMeter: HTMLMeterElement;
  outputMeter: HTMLMeterElement;
  pressedAt = 0;
  toggled = false;

  constructor(private c: Controller, disposers: (() => void)[]) {
    this.connect = h("button", { type: "button", class: "rtw-connect", "aria-label": "Connect" }, "Connect");
    this.status = h("span", { role: "status", "aria-label": "Connection status", "aria-live": "polite", class: "rtw-status" });
    this.mic = h("button", { type: "button", class: "rtw-mic", "aria-label": "Microphone", "aria-pressed": "false", title: MIC_TITLE }, "● Talk");
    this.handsFree = h("button", { type: "button", role: "switch", class: "rtw-switch", "aria-label": "Hands-free", "aria-checked": "false", title: "Server voice detection decides when you finished speaking" }, "Hands-free");
    this.stop = h("button", { type: "button", class: "rtw-stop", "aria-label": "Stop", title: "Stop the answer" }, "■ Stop");
    this.clear = h("button", { type: "button", class: "rtw-clear", "aria-label": "New conversation", title: "Stop the answer and delete the conversation (w.clear()); download it first to keep it" }, "New conversation");
    this.saveTranscript = h("button", { type: "button", class: "rtw-download", "aria-label": "Download transcript", title: "Save the conversation as Markdown" }, "Transcript (.md)");
    this.saveAudio = h("button", { type: "button", class: "rtw-download", "aria-label": "Download audio", title: "Save the conversation's audio as WAV" }, "Audio (.wav)");
    this.inputMeter = h("meter", { "aria-label": "Input level", min: 0, max: 1, value: 0 });
    this.outputMeter = h("meter", { "aria-label": "Output level", min: 0, max: 1, value: 0 });
    this.el = h(
      "div",
      { class: "rtw-controls" },
      this.connect,
      this.status,
      this.mic,
      this.handsFree,
      this.stop,
      this.clear,
      this.saveTranscript,
      this.saveAudio,
      h("label", { class: "rtw-meter" }, "in ", this.inputMeter),
      h("label", { class: "rtw-meter" }, "out ", this.outputMeter),
    );

    listen(this.connect, "click", () => {
      const s = c.model.get("status");
      if (s === "connected" || s === "connecting" || s === "reconnecting") c.disconnect();
      else c.connect();
    }, disposers);
    listen(this.handsFree, "click", () => c.setHandsFree(!c.model.get("hands_free")), disposers);
    listen(this.stop, "click", () => c.stop(), disposers);
    listen(this.clear, "click", () => c.newConversation(), disposers);
    listen(this.saveTranscript, "click", () => c.download("markdown"), disposers);
    listen(this.saveAudio, "click", () => c.download("wav"), disposers);
    listen(this.mic, "pointerdown", (e: PointerEvent) => {
      if (e.button !== 0) return;
      this.mic.setPointerCapture?.(e.pointerId);
      this.press();
    }, disposers);
    listen(this.mic, "pointerup", () => this.release(), disposers);
    listen(this.mic, "pointercancel", () => this.release(), disposers);
    listen(this.mic, "keydown", (e: KeyboardEvent) => {
      if (e.key === " " || e.key === "Enter") {
        e.preventDefault();
        e.stopPropagation();
        if (!e.repeat) this.press();
      }
    }, disposers);
    listen(this.mic, "keyup", (e: KeyboardEvent) => {
      if (e.key === " " || e.key === "Enter") {
        e.preventDefault();
        e.stopPropagation();
        this.release();
      }
    }, disposers);
    // Clicks are handled as press/release above; swallow the synthetic click.
    listen(this.mic, "click", (e: Event) => e.preventDefault(), disposers);
  }

  /** Mic pressed: in hands-free it toggles the microphone; in push-to-talk it starts a turn. */
  press(): void {
    const c = this.c;
    c.gesture();
    if (c.model.get("hands_free")) {
      if (c.micWanted) c.stopMic();
      else void c.startMic();
      return;
    }
    if (c.pttActive) {
      // Second click of click-to-toggle: end the turn.
      this.toggled = false;
      void c.pttStop();
      return;
    }
    this.pressedAt = Date.now();
    this.toggled = false;
    void c.pttStart();
  }

  release(): void {
    const c = this.c;
    if (c.model.get("hands_free") || !c.pttActive || this.pressedAt === 0) return;
    const held = Date.now() - this.pressedAt;
    this.pressedAt = 0;
    if (held >= HOLD_MS) void c.pttStop();
    else this.toggled = true; // short click: keep talking until the next click
  }

  update(): void {
    const c = this.c;
    const status = c.model.get("status") || "disconnected";
    const live = status === "connected" || status === "connecting" || status === "reconnecting";
    text(this.connect, live ? "Disconnect" : "Connect");
    attr(this.connect, "aria-label", live ? "Disconnect" : "Connect");
    // A dead kernel cannot update the trait: say so here.
    const shown = c.kernelGone ? "error (kernel gone)" : status;
    text(this.status, shown);
    attr(this.status, "data-status", c.kernelGone ? "error" : status);
    const handsFree = !!c.model.get("hands_free");
    attr(this.handsFree, "aria-checked", handsFree ? "true" : "false");
    const capturing = c.capturing();
    attr(this.mic, "aria-pressed", capturing ? "true" : "false");
    text(this.mic, capturing ? "● Listening…" : handsFree ? "● Mic" : "● Talk");
    // A page that can never capture (VS Code's webview, plain http) disables the button; its
    // alert says why and that typed messages and playback still work.
    this.mic.disabled = status !== "connected" || c.kernelGone || !!c.micBlocked;
    attr(this.mic, "title", c.micBlocked ? c.micBlocked.message : MIC_TITLE);
    this.stop.disabled = c.kernelGone;
    this.updateMeters();
  }

  updateMeters(): void {
    const e = this.c.engine;
    // Speech RMS is small; scale so normal speech fills most of the meter.
    this.inputMeter.value = Math.min(1, (e?.inputLevel ?? 0) * 4);
    this.outputMeter.value = Math.min(1, (e?.outputLevel ?? 0) * 4);
  }
}
