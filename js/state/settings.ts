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
  return "";
}
