/**
 * The transcribe and translate modes (issue 14): what the header says about the mode and how a
 * caption turn is labelled. Pure: no DOM (the view is in view/conversation-view.ts).
 */
import type { ItemView } from "./model";

export type Mode = "conversation" | "transcribe" | "translate";

/** A caption segment's part of an item view (absent on conversation items). */
export interface CaptionInfo {
  mode: "transcribe" | "translate";
  turn: number;
  start: number | null;
  end: number | null;
  final: boolean;
  translation: string;
  error: string;
}

/** The header's badge: "" for a conversation (unchanged), else what the widget does. */
export function modeLabel(mode: string | undefined, language: string | undefined): string {
  if (mode === "transcribe") return language ? `Live captions (${language})` : "Live captions";
  if (mode === "translate") return `Live translation → ${language || "?"}`;
  return "";
}

/** Whether this mode has a composer (typed messages go to a model; captions have none). */
export function hasComposer(mode: string | undefined): boolean {
  return !mode || mode === "conversation";
}

/** The token-usage line: a conversation's responses report usage; caption sessions have no
 * responses, so there is nothing to show (the line is hidden, not a row of zeros). */
export function usageText(mode: string | undefined, usage: { input_tokens?: number; output_tokens?: number; total_tokens?: number }): string {
  if (!hasComposer(mode)) return "";
  return `Tokens: ${usage.input_tokens ?? 0} in · ${usage.output_tokens ?? 0} out · ${usage.total_tokens ?? 0} total`;
}

/** "mm:ss" (or "h:mm:ss") of a time in seconds; "" when unknown. */
export function clock(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "";
  const whole = Math.max(0, Math.floor(seconds));
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  const mm = String(m).padStart(2, "0");
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** The label of a caption turn: "Speaker · turn 2 · 00:05". */
export function captionLabel(caption: CaptionInfo): string {
  const at = clock(caption.start);
  return `Speaker · turn ${caption.turn}` + (at ? ` · ${at}` : "");
}

/** The caption part of an item, when it is a caption segment. */
export function captionOf(item: ItemView): CaptionInfo | null {
  return (item.caption as CaptionInfo | null | undefined) ?? null;
}
