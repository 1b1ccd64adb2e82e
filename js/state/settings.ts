/**
 * Pure logic of the settings panel (issue 15, point 5): the options of the voice, model and
 * microphone pickers, and what each field says beside it (locked, refused). No DOM here.
 */
import type { SettingsStatus } from "./model";

export interface Option {
  value: string;
  label: string;
}

/** Label of the model picker's free-text choice. */
export const OTHER_MODEL = "__other__";

/** The voices to offer: the API's, plus a custom one already set (kept, never dropped). */
export function voiceOptions(voices: string[], current: string | undefined): Option[] {
  const out = [{ value: "", label: "(default)" }, ...voices.map((v) => ({ value: v, label: v }))];
  if (current && !voices.includes(current)) out.push({ value: current, label: `${current} (custom)` });
  return out;
}

/** The model picker's options and which is selected; an unknown model selects "other…". */
export function modelOptions(models: string[], current: string): { options: Option[]; selected: string } {
  const options = models.map((m) => ({ value: m, label: m }));
  options.push({ value: OTHER_MODEL, label: "other…" });
  return { options, selected: models.includes(current) ? current : OTHER_MODEL };
}

export interface DeviceInfo {
  deviceId: string;
  kind: string;
  label: string;
}

/**
 * The microphone picker's options from `enumerateDevices`, and whether the chosen device is
 * gone (then the default is used and the view says so). Labels are empty until the page has
 * microphone permission: the device's position stands in.
 */
export function deviceOptions(devices: DeviceInfo[], chosen: string): { options: Option[]; gone: boolean } {
  const inputs = devices.filter((d) => d.kind === "audioinput" && d.deviceId && d.deviceId !== "default");
  const options = [{ value: "", label: "Default microphone" }];
  inputs.forEach((d, i) => options.push({ value: d.deviceId, label: d.label || `Microphone ${i + 1}` }));
  const gone = chosen !== "" && devices.length > 0 && !inputs.some((d) => d.deviceId === chosen);
  return { options, gone };
}

export const DEVICE_GONE =
  "The microphone you picked is no longer available; the default microphone is used. " +
  "Pick another one under Settings.";

export const MIC_ENDED =
  "The microphone stopped (unplugged or taken by another application). Press ● Mic to use " +
  "the default microphone again, or pick another one under Settings.";

/** What a field says beside it: the server's refusal, or why it is locked; "" for nothing. */
export function fieldNote(status: SettingsStatus | undefined, field: string): string {
  const refused = status?.refused?.[field];
  if (refused) return `Refused by the server: ${refused} The previous value is kept; change it to try again.`;
  if (field === "voice" && status?.voice_locked) return status.voice_locked;
  if (field === "model" && status?.model_note) return status.model_note;
  return status?.notes?.[field] ?? "";
}

/** The panel's rows (one key per row). */
export type SettingsRow =
  | "model"
  | "voice"
  | "instructions"
  | "text_only"
  | "input_transcription"
  | "transcription_model"
  | "language_hint"
  | "target_language"
  | "prompt"
  | "noise_reduction"
  | "mic_device"
  | "vad"
  | "interrupt";

/**
 * The rows that apply in each mode (issue 15): a conversation's session settings; a
 * transcription session's model, language hint, prompt, noise reduction and VAD; a translation
 * session's target language, source transcript and noise reduction (the SDK's request types).
 */
export function settingsRows(mode: string | undefined): SettingsRow[] {
  if (mode === "transcribe") return ["transcription_model", "language_hint", "prompt", "noise_reduction", "mic_device", "vad"];
  if (mode === "translate") return ["target_language", "transcription_model", "noise_reduction", "mic_device"];
  return ["model", "voice", "instructions", "text_only", "input_transcription", "mic_device", "vad", "interrupt"];
}

/** The line under the panel: when changes apply, in this mode. */
export function settingsHelp(mode: string | undefined): string {
  if (mode === "transcribe") return "Changes apply at once to the transcription session.";
  if (mode === "translate") return "Changes apply at once; a server that fixes the target language per session gets a new session.";
  return "Changes apply at once; the voice until the first spoken answer, the model at the next connection.";
}

/** The transcription model picker: the API's models (and a custom one already set); the
 * translate mode can have no source transcript at all ("" = off). */
export function transcriptionModelOptions(models: string[], current: string | undefined, canBeOff: boolean): Option[] {
  const out = canBeOff ? [{ value: "", label: "(off: translation only)" }] : [];
  out.push(...models.map((m) => ({ value: m, label: m })));
  if (current && !models.includes(current)) out.push({ value: current, label: `${current} (custom)` });
  return out;
}

/** The target language picker: the supported languages, "Name (code)"; an unsupported code
 * already set is kept (the server's refusal says so beside it). */
export function languageOptions(languages: [string, string][], current: string | undefined): Option[] {
  const out = languages.map(([code, name]) => ({ value: code, label: `${name} (${code})` }));
  if (current && !languages.some(([code]) => code === current)) out.push({ value: current, label: `${current} (unsupported)` });
  return out;
}

/** The noise reduction picker: off, then the kinds the API names. */
export function noiseOptions(kinds: string[]): Option[] {
  const labels: Record<string, string> = { near_field: "near field (headset)", far_field: "far field (laptop, room)" };
  return [{ value: "", label: "off" }, ...kinds.map((k) => ({ value: k, label: labels[k] ?? k }))];
}
