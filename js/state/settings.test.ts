import { describe, expect, it } from "vitest";
import {
  deviceOptions,
  fieldNote,
  languageOptions,
  modelOptions,
  noiseOptions,
  OTHER_MODEL,
  settingsRows,
  transcriptionModelOptions,
  voiceOptions,
} from "./settings";

describe("settings pickers", () => {
  it("offers the API's voices and keeps a custom one", () => {
    expect(voiceOptions(["alloy", "marin"], "marin").map((o) => o.value)).toEqual(["", "alloy", "marin"]);
    const custom = voiceOptions(["alloy"], "voice_123");
    expect(custom[custom.length - 1]).toEqual({ value: "voice_123", label: "voice_123 (custom)" });
  });

  it("selects 'other' for a model outside the list", () => {
    expect(modelOptions(["gpt-realtime-2"], "gpt-realtime-2").selected).toBe("gpt-realtime-2");
    const other = modelOptions(["gpt-realtime-2"], "my-deployment");
    expect(other.selected).toBe(OTHER_MODEL);
    expect(other.options.map((o) => o.value)).toEqual(["gpt-realtime-2", OTHER_MODEL]);
  });

  it("lists microphones and notices a chosen one that disappeared", () => {
    const devices = [
      { deviceId: "default", kind: "audioinput", label: "Default" },
      { deviceId: "a", kind: "audioinput", label: "USB mic" },
      { deviceId: "b", kind: "audioinput", label: "" },
      { deviceId: "s", kind: "audiooutput", label: "Speakers" },
    ];
    const { options, gone } = deviceOptions(devices, "a");
    expect(options.map((o) => o.label)).toEqual(["Default microphone", "USB mic", "Microphone 2"]);
    expect(gone).toBe(false);
    expect(deviceOptions(devices.slice(2), "a").gone).toBe(true);
    expect(deviceOptions([], "a").gone).toBe(false); // not enumerated yet: nothing to say
    expect(deviceOptions(devices, "").gone).toBe(false);
  });

  it("says why a field is locked or refused", () => {
    const status = { voices: [], models: [], voice_locked: "locked because", refused: { turn_detection: "too high." } };
    expect(fieldNote(status, "voice")).toBe("locked because");
    expect(fieldNote(status, "turn_detection")).toContain("too high.");
    expect(fieldNote(status, "instructions")).toBe("");
    expect(fieldNote(undefined, "voice")).toBe("");
  });

  it("shows what applies in each mode", () => {
    expect(settingsRows("conversation")).toContain("voice");
    expect(settingsRows(undefined)).toContain("instructions");
    const transcribe = settingsRows("transcribe");
    expect(transcribe).toEqual(expect.arrayContaining(["transcription_model", "language_hint", "prompt", "noise_reduction", "vad"]));
    for (const row of ["voice", "model", "instructions", "text_only", "interrupt"] as const) expect(transcribe).not.toContain(row);
    const translate = settingsRows("translate");
    expect(translate).toEqual(expect.arrayContaining(["target_language", "transcription_model", "noise_reduction"]));
    for (const row of ["voice", "vad", "prompt", "language_hint"] as const) expect(translate).not.toContain(row);
  });

  it("offers transcription models, targets and noise reduction", () => {
    expect(transcriptionModelOptions(["whisper-1"], "whisper-1", false).map((o) => o.value)).toEqual(["whisper-1"]);
    expect(transcriptionModelOptions(["whisper-1"], "", true).map((o) => o.value)).toEqual(["", "whisper-1"]);
    expect(transcriptionModelOptions(["whisper-1"], "mine", false)[1]).toEqual({ value: "mine", label: "mine (custom)" });
    const targets = languageOptions([["de", "German"], ["fr", "French"]], "fr");
    expect(targets).toEqual([{ value: "de", label: "German (de)" }, { value: "fr", label: "French (fr)" }]);
    expect(languageOptions([["de", "German"]], "xx")[1].label).toBe("xx (unsupported)");
    expect(noiseOptions(["near_field", "far_field"]).map((o) => o.value)).toEqual(["", "near_field", "far_field"]);
  });

  it("shows a notice beside a field", () => {
    expect(fieldNote({ voices: [], models: [], notes: { language: "new session" } }, "language")).toBe("new session");
  });
});
