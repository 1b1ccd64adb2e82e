/**
 * What a function-call card shows (issue 15, point 3): its state, its result or the sentence of
 * its error, and the failing tool's traceback to expand. Pure: the view renders it.
 *
 * A failed call's output is `{"summary": "The tool X failed: ...", "error": {"type", "message"}}`
 * (the kernel's `protocol/tool_outputs.py`); other clients may send `{"error": "..."}`. The card
 * shows the sentence, not the JSON.
 */
import type { ItemView } from "./model";

export type ToolCardState =
  | "streaming"
  | "running"
  | "awaiting_approval"
  | "done"
  | "error"
  | "denied"
  | "cancelled";

export interface ToolCard {
  state: ToolCardState;
  /** The status line: "cancelled", "error · 12 ms", ... */
  status: string;
  /** The result (pretty JSON when it is JSON), the error's sentence, or null before the output. */
  result: string | null;
  /** Whether `result` is an error to show as one. */
  isError: boolean;
  /** The failing tool's formatted traceback (kept by the kernel, redacted), or null. */
  traceback: string | null;
}

function prettyJson(s: string): string {
  try {
    return JSON.stringify(JSON.parse(s), null, 1);
  } catch {
    return s;
  }
}

/** The sentence of a failed call's output, or null when the output is not an error object. */
export function errorSentence(output: string): string | null {
  if (!output.includes('"error"')) return null;
  let data: unknown;
  try {
    data = JSON.parse(output);
  } catch {
    return null;
  }
  if (!data || typeof data !== "object" || Array.isArray(data)) return null;
  const record = data as { summary?: unknown; error?: unknown };
  if (!record.error) return null;
  if (typeof record.summary === "string" && record.summary.trim()) return record.summary.trim();
  const error = record.error;
  if (typeof error === "string") return error;
  if (typeof error === "object") {
    const e = error as { type?: unknown; message?: unknown };
    const message = typeof e.message === "string" ? e.message : "";
    const type = typeof e.type === "string" ? e.type : "";
    return type && message ? `${type}: ${message}` : message || type || "failed";
  }
  return null;
}

/** The card of a function call `item` (its output merged in, or given as `output`). */
export function toolCard(item: ItemView, output?: ItemView): ToolCard {
  const raw = output?.output ?? item.output;
  const given = item.tool_state;
  const state: ToolCardState = given ?? (raw !== null && raw !== undefined ? "done" : item.status === "completed" ? "running" : "streaming");
  let result: string | null = null;
  let isError = state === "error" || state === "cancelled" || state === "denied";
  if (raw !== null && raw !== undefined) {
    const sentence = errorSentence(raw);
    // An error output read back after a reload has no tool_state: its shape still says so.
    if (sentence !== null) isError = true;
    result = sentence ?? prettyJson(raw);
  }
  let status = state.replace("_", " ");
  if (item.duration_ms !== null && item.duration_ms !== undefined) status += ` · ${Math.round(item.duration_ms)} ms`;
  const traceback = typeof item.traceback === "string" && item.traceback ? item.traceback : null;
  return { state, status, result, isError, traceback };
}
