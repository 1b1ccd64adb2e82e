/**
 * Settings (voice, instructions, VAD) edited before connecting; written to the `settings` trait,
 * which the kernel applies on connect.
 */
import type { Controller } from "../state/controller";
import type { Settings, TurnDetection } from "../state/model";
import { h, listen } from "./dom";

const VOICES = ["alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar"];

export class SettingsView {
  el: HTMLDetailsElement;
  voice: HTMLInputElement;
  instructions: HTMLTextAreaElement;
  threshold: HTMLInputElement;
  prefix: HTMLInputElement;
  silence: HTMLInputElement;
  interrupt: HTMLInputElement;
  fieldset: HTMLFieldSetElement;

  constructor(private c: Controller, disposers: (() => void)[]) {
    const listId = `rtw-voices-${Math.random().toString(36).slice(2)}`;
    this.voice = h("input", { type: "text", list: listId, "aria-label": "Voice" });
    this.instructions = h("textarea", { rows: 3, "aria-label": "Instructions" });
    this.threshold = h("input", { type: "number", min: 0, max: 1, step: 0.05, "aria-label": "VAD threshold" });
    this.prefix = h("input", { type: "number", min: 0, step: 50, "aria-label": "Prefix padding (ms)" });
    this.silence = h("input", { type: "number", min: 0, step: 50, "aria-label": "Silence duration (ms)" });
    this.interrupt = h("input", { type: "checkbox", "aria-label": "Interrupt on speech" });
    const voices = h("datalist", { id: listId });
    for (const v of VOICES) voices.append(h("option", { value: v }));
    const row = (label: string, input: HTMLElement) => h("label", { class: "rtw-field" }, h("span", {}, label), input);
    this.fieldset = h(
      "fieldset",
      {},
      row("Voice", this.voice),
      voices,
      row("Instructions", this.instructions),
      row("VAD threshold", this.threshold),
      row("Prefix padding (ms)", this.prefix),
      row("Silence duration (ms)", this.silence),
      row("Interrupt on speech", this.interrupt),
      h("p", { class: "rtw-dim" }, "Applied when connecting."),
    );
    this.el = h("details", { class: "rtw-settings" }, h("summary", { "aria-label": "Settings" }, "Settings"), this.fieldset);
    for (const input of [this.voice, this.instructions, this.threshold, this.prefix, this.silence, this.interrupt]) {
      listen(input, "change", () => this.save(), disposers);
    }
  }

  save(): void {
    const current: Settings = this.c.model.get("settings") || {};
    const num = (i: HTMLInputElement) => (i.value === "" ? undefined : Number(i.value));
    const td = { ...(current.turn_detection || { type: "server_vad" }) };
    td.threshold = num(this.threshold);
    td.prefix_padding_ms = num(this.prefix);
    td.silence_duration_ms = num(this.silence);
    td.interrupt_response = this.interrupt.checked;
    this.c.setSettings({
      ...current,
      voice: this.voice.value || undefined,
      instructions: this.instructions.value,
      turn_detection: td,
    });
  }

  update(): void {
    const s: Settings = this.c.model.get("settings") || {};
    const td: Partial<TurnDetection> = s.turn_detection || {};
    const set = (i: HTMLInputElement | HTMLTextAreaElement, v: unknown) => {
      if (document.activeElement !== i) i.value = v === undefined || v === null ? "" : String(v);
    };
    set(this.voice, s.voice);
    set(this.instructions, s.instructions);
    set(this.threshold, td.threshold);
    set(this.prefix, td.prefix_padding_ms);
    set(this.silence, td.silence_duration_ms);
    this.interrupt.checked = td.interrupt_response !== false;
    const status = this.c.model.get("status");
    this.fieldset.disabled = status === "connected" || status === "connecting" || status === "reconnecting";
  }
}
