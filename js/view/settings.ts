/**
 * The settings panel: model, voice, instructions, text-only, input transcription, microphone and
 * VAD, written to the `settings` trait; the kernel applies them at once through `session.update`
 * (docs/widget-protocol.md) and answers in `settings_status` (choices, the voice lock, refused
 * fields), shown beside each field. The transcribe and translate modes show their sessions'
 * settings instead (`settingsRows`). Option lists and notes come from state/settings.ts.
 */
import type { Controller } from "../state/controller";
import type { Settings, SettingsStatus, TurnDetection } from "../state/model";
import {
  type DeviceInfo,
  deviceOptions,
  fieldNote,
  languageOptions,
  modelOptions,
  noiseOptions,
  type Option,
  OTHER_MODEL,
  type SettingsRow,
  settingsHelp,
  settingsRows,
  transcriptionModelOptions,
  voiceOptions,
} from "../state/settings";
import { attr, h, listen, text } from "./dom";

let nextId = 0;

function setOptions(select: HTMLSelectElement, options: Option[], selected: string): void {
  const key = options.map((o) => `${o.value}\u0000${o.label}`).join("\u0001");
  if (select.dataset.key !== key) {
    select.dataset.key = key;
    select.replaceChildren(...options.map((o) => h("option", { value: o.value }, o.label)));
  }
  if (document.activeElement !== select || select.value !== selected) select.value = selected;
}

export class SettingsView {
  el: HTMLDetailsElement;
  model: HTMLSelectElement;
  modelOther: HTMLInputElement;
  voice: HTMLSelectElement;
  instructions: HTMLTextAreaElement;
  textOnly: HTMLInputElement;
  transcription: HTMLInputElement;
  mic: HTMLSelectElement;
  threshold: HTMLInputElement;
  prefix: HTMLInputElement;
  silence: HTMLInputElement;
  interrupt: HTMLInputElement;
  transcriptionModel: HTMLSelectElement;
  languageHint: HTMLInputElement;
  targetLanguage: HTMLSelectElement;
  prompt: HTMLTextAreaElement;
  noise: HTMLSelectElement;
  rows: [SettingsRow, HTMLElement][] = [];
  help: HTMLElement;
  fieldset: HTMLFieldSetElement;
  notes: Record<string, HTMLElement> = {};
  devices: DeviceInfo[] = [];

  constructor(private c: Controller, disposers: (() => void)[]) {
    this.model = h("select", { "aria-label": "Model", "data-field": "model" });
    this.modelOther = h("input", { type: "text", "aria-label": "Other model name", placeholder: "model name", hidden: true });
    this.voice = h("select", { "aria-label": "Voice", "data-field": "voice" });
    this.instructions = h("textarea", { rows: 3, "aria-label": "Instructions", "data-field": "instructions" });
    this.textOnly = h("input", { type: "checkbox", "aria-label": "Text-only answers", "data-field": "text_only" });
    this.transcription = h("input", {
      type: "checkbox",
      "aria-label": "Transcribe my speech",
      "data-field": "input_transcription",
    });
    this.mic = h("select", { "aria-label": "Microphone", "data-field": "mic_device" });
    this.threshold = h("input", { type: "number", min: 0, max: 1, step: 0.05, "aria-label": "VAD threshold", "data-field": "turn_detection" });
    this.prefix = h("input", { type: "number", min: 0, step: 50, "aria-label": "Prefix padding (ms)" });
    this.silence = h("input", { type: "number", min: 0, step: 50, "aria-label": "Silence duration (ms)" });
    this.interrupt = h("input", { type: "checkbox", "aria-label": "Interrupt on speech" });
    this.transcriptionModel = h("select", { "aria-label": "Transcription model", "data-field": "transcription_model" });
    this.languageHint = h("input", { type: "text", "aria-label": "Language hint", placeholder: "detect (or e.g. en)", maxlength: 8, "data-field": "language" });
    this.targetLanguage = h("select", { "aria-label": "Target language", "data-field": "language" });
    this.prompt = h("textarea", { rows: 2, "aria-label": "Transcription prompt", "data-field": "prompt" });
    this.noise = h("select", { "aria-label": "Noise reduction", "data-field": "noise_reduction" });
    const row = (label: string, field: string | null, ...inputs: HTMLElement[]) => {
      const children: HTMLElement[] = [h("span", {}, label), ...inputs];
      if (field) {
        const id = `rtw-note-${++nextId}`;
        const note = h("span", { class: "rtw-note", id, "aria-live": "polite", "data-note": field });
        this.notes[field] = note;
        for (const input of inputs) input.setAttribute("aria-describedby", id);
        children.push(note);
      }
      return h("label", { class: "rtw-field" }, ...children);
    };
    // Each row belongs to one key of `settingsRows` (shown only in the modes it applies to).
    const keyed = (key: SettingsRow, ...labels: HTMLElement[]) => {
      for (const label of labels) {
        label.dataset.row = key;
        this.rows.push([key, label]);
      }
      return labels;
    };
    this.help = h("p", { class: "rtw-dim" });
    this.fieldset = h(
      "fieldset",
      {},
      ...keyed("model", row("Model", "model", this.model, this.modelOther)),
      ...keyed("voice", row("Voice", "voice", this.voice)),
      ...keyed("instructions", row("Instructions", "instructions", this.instructions)),
      ...keyed("text_only", row("Text-only answers", "text_only", this.textOnly)),
      ...keyed("input_transcription", row("Transcribe my speech", "input_transcription", this.transcription)),
      ...keyed("target_language", row("Target language", "language", this.targetLanguage)),
      ...keyed("transcription_model", row("Transcription model", "transcription_model", this.transcriptionModel)),
      ...keyed("language_hint", row("Language hint", "language_hint", this.languageHint)),
      ...keyed("prompt", row("Prompt", "prompt", this.prompt)),
      ...keyed("noise_reduction", row("Noise reduction", "noise_reduction", this.noise)),
      ...keyed("mic_device", row("Microphone", "mic_device", this.mic)),
      ...keyed("vad", row("VAD threshold", "turn_detection", this.threshold), row("Prefix padding (ms)", null, this.prefix), row("Silence duration (ms)", null, this.silence)),
      ...keyed("interrupt", row("Interrupt on speech", null, this.interrupt)),
      this.help,
    );
    this.el = h("details", { class: "rtw-settings" }, h("summary", { "aria-label": "Settings" }, "Settings"), this.fieldset);
    const inputs = [
      this.voice,
      this.instructions,
      this.threshold,
      this.prefix,
      this.silence,
      this.interrupt,
      this.textOnly,
      this.transcription,
      this.modelOther,
      this.transcriptionModel,
      this.languageHint,
      this.targetLanguage,
      this.prompt,
      this.noise,
    ];
    for (const input of inputs) listen(input, "change", () => this.save(), disposers);
    listen(
      this.model,
      "change",
      () => {
        this.modelOther.hidden = this.model.value !== OTHER_MODEL;
        if (this.model.value === OTHER_MODEL) this.modelOther.focus();
        else this.save();
      },
      disposers,
    );
    listen(this.mic, "change", () => this.c.setMicDevice(this.mic.value), disposers);
    listen(this.el, "toggle", () => this.el.open && void this.refreshDevices(), disposers);
    const media = globalThis.navigator?.mediaDevices;
    if (media) listen(media, "devicechange", () => void this.refreshDevices(), disposers);
  }

  /** Read the microphones (labels appear once the page may use the microphone). */
  async refreshDevices(): Promise<void> {
    const media = globalThis.navigator?.mediaDevices;
    if (!media?.enumerateDevices) return;
    try {
      this.devices = (await media.enumerateDevices()).map((d) => ({ deviceId: d.deviceId, kind: d.kind, label: d.label }));
    } catch {
      this.devices = [];
    }
    const chosen = this.c.model.get("settings")?.mic_device || "";
    if (deviceOptions(this.devices, chosen).gone) this.c.micDeviceGone();
    this.update();
  }

  save(): void {
    const current: Settings = this.c.model.get("settings") || {};
    const num = (i: HTMLInputElement) => (i.value === "" ? undefined : Number(i.value));
    const td = { ...(current.turn_detection || { type: "server_vad" }) };
    td.threshold = num(this.threshold);
    td.prefix_padding_ms = num(this.prefix);
    td.silence_duration_ms = num(this.silence);
    const mode = this.c.model.get("mode");
    if (mode === "transcribe" || mode === "translate") {
      // A caption session's own settings (widget/_caption_settings.py); nothing of a conversation.
      const caption: Settings = { ...current, transcription_model: this.transcriptionModel.value, noise_reduction: this.noise.value };
      if (mode === "translate") caption.language = this.targetLanguage.value;
      else Object.assign(caption, { language: this.languageHint.value.trim().toLowerCase(), prompt: this.prompt.value, turn_detection: td });
      this.c.setSettings(caption);
      return;
    }
    td.interrupt_response = this.interrupt.checked;
    const model = this.model.value === OTHER_MODEL ? this.modelOther.value.trim() : this.model.value;
    this.c.setSettings({
      ...current,
      voice: this.voice.value || undefined,
      instructions: this.instructions.value,
      turn_detection: td,
      text_only: this.textOnly.checked,
      input_transcription: this.transcription.checked,
      model: model || undefined,
    });
  }

  update(): void {
    const s: Settings = this.c.model.get("settings") || {};
    const status: SettingsStatus | undefined = this.c.model.get("settings_status");
    const mode = this.c.model.get("mode");
    const shown = new Set(settingsRows(mode));
    for (const [key, label] of this.rows) label.hidden = !shown.has(key);
    this.help.textContent = settingsHelp(mode);
    setOptions(this.transcriptionModel, transcriptionModelOptions(status?.transcription_models || [], s.transcription_model, mode === "translate"), s.transcription_model || "");
    setOptions(this.targetLanguage, languageOptions(status?.languages || [], s.language), s.language || "");
    setOptions(this.noise, noiseOptions(status?.noise_reductions || []), s.noise_reduction || "");
    const td: Partial<TurnDetection> = s.turn_detection || {};
    const set = (i: HTMLInputElement | HTMLTextAreaElement, v: unknown) => {
      if (document.activeElement !== i) i.value = v === undefined || v === null ? "" : String(v);
    };
    const model = s.model || status?.model || "";
    const models = modelOptions(status?.models || [], model);
    setOptions(this.model, models.options, this.modelOther.hidden ? models.selected : OTHER_MODEL);
    if (models.selected === OTHER_MODEL && this.modelOther.hidden && model) this.modelOther.hidden = false;
    set(this.modelOther, models.selected === OTHER_MODEL ? model : this.modelOther.value);
    setOptions(this.voice, voiceOptions(status?.voices || [], s.voice), s.voice || "");
    this.voice.disabled = Boolean(status?.voice_locked);
    set(this.instructions, s.instructions);
    set(this.languageHint, s.language);
    set(this.prompt, s.prompt);
    this.textOnly.checked = s.text_only === true;
    this.transcription.checked = s.input_transcription !== false;
    const devices = deviceOptions(this.devices, s.mic_device || "");
    setOptions(this.mic, devices.options, devices.gone ? "" : s.mic_device || "");
    this.mic.disabled = !globalThis.navigator?.mediaDevices?.enumerateDevices;
    set(this.threshold, td.threshold);
    set(this.prefix, td.prefix_padding_ms);
    set(this.silence, td.silence_duration_ms);
    this.interrupt.checked = td.interrupt_response !== false;
    for (const [row, note] of Object.entries(this.notes)) {
      // The transcribe mode's language hint is the `language` field, as the translate mode's target.
      const field = row === "language_hint" ? "language" : row;
      const message = fieldNote(status, field);
      text(note, message);
      const refused = Boolean(status?.refused?.[field]);
      attr(note, "data-kind", refused ? "refused" : message ? "info" : null);
      for (const input of this.fieldset.querySelectorAll(`[data-field="${field}"]`)) attr(input, "aria-invalid", refused ? "true" : null);
    }
  }
}
