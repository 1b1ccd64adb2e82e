import { describe, expect, it } from "vitest";
import { captionLabel, captionOf, clock, hasComposer, modeLabel, usageText } from "./captions";
import type { ItemView } from "./model";

describe("modeLabel", () => {
  it("says nothing for a conversation and names the caption modes", () => {
    expect(modeLabel("conversation", "")).toBe("");
    expect(modeLabel(undefined, undefined)).toBe("");
    expect(modeLabel("transcribe", "")).toBe("Live captions");
    expect(modeLabel("transcribe", "en")).toBe("Live captions (en)");
    expect(modeLabel("translate", "fr")).toBe("Live translation → fr");
  });
  it("keeps the composer only in a conversation", () => {
    expect(hasComposer("conversation")).toBe(true);
    expect(hasComposer(undefined)).toBe(true);
    expect(hasComposer("transcribe")).toBe(false);
    expect(hasComposer("translate")).toBe(false);
  });
});

describe("clock and captionLabel", () => {
  it("formats seconds as mm:ss or h:mm:ss", () => {
    expect(clock(0)).toBe("00:00");
    expect(clock(65.9)).toBe("01:05");
    expect(clock(3661)).toBe("1:01:01");
    expect(clock(null)).toBe("");
    expect(clock(Number.NaN)).toBe("");
  });
  it("labels a turn with its number and start", () => {
    const caption = { mode: "transcribe" as const, turn: 2, start: 5.2, end: 7, final: true, translation: "", error: "" };
    expect(captionLabel(caption)).toBe("Speaker · turn 2 · 00:05");
    expect(captionLabel({ ...caption, start: null })).toBe("Speaker · turn 2");
  });
  it("finds the caption part of an item view, or null", () => {
    const item = { id: "a", caption: { mode: "translate", turn: 1 } } as unknown as ItemView;
    expect(captionOf(item)?.turn).toBe(1);
    expect(captionOf({ id: "b" } as ItemView)).toBeNull();
  });
});

describe("usageText", () => {
  it("shows a conversation's token usage and nothing where no usage is reported", () => {
    expect(usageText("conversation", { input_tokens: 3, output_tokens: 4, total_tokens: 7 })).toBe("Tokens: 3 in · 4 out · 7 total");
    expect(usageText(undefined, {})).toBe("Tokens: 0 in · 0 out · 0 total");
    expect(usageText("transcribe", {})).toBe("");
    expect(usageText("translate", { total_tokens: 1 })).toBe("");
  });
});
