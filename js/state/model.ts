/**
 * The widget model's traits and custom messages, as docs/widget-protocol.md defines them.
 * The Python side declares the same trait names in realtime_widget/widget.py.
 */

import type { CaptionInfo } from "./captions";
import type { DownloadReply } from "./download";

export type Status = "disconnected" | "connecting" | "connected" | "reconnecting" | "error";

export interface ToolInfo {
  name: string;
  call_id: string;
  arguments: string;
}

/** A tool an MCP server listed (`mcp_list_tools`). */
export interface McpToolInfo {
  name: string;
  description: string;
}

/** The MCP part of an item view (docs/widget-protocol.md, "MCP"); null for other items. */
export interface McpInfo {
  server_label: string;
  name: string;
  arguments: string;
  output: string | null;
  error: string | null;
  tools: McpToolInfo[];
  decision: { approve: boolean; reason: string | null } | null;
  approval_request_id: string | null;
  approve: boolean | null;
  reason: string | null;
}

/** An image of a user message: a data URL small enough to preview, else `null` (a label). */
export interface ImageView {
  url: string | null;
  label: string;
  detail: string | null;
}

/** One conversation item without audio (the `items` trait and frame patches). */
export interface ItemView {
  id: string;
  type: "message" | "function_call" | "function_call_output" | string;
  role: "user" | "assistant" | "system" | null;
  status: string;
  text: string;
  transcript: string;
  transcribing: boolean;
  audio_samples: number;
  audio_content_index: number;
  truncated_ms: number | null;
  tool: ToolInfo | null;
  output: string | null;
  tool_state: "running" | "awaiting_approval" | "done" | "error" | "denied" | "cancelled" | null;
  duration_ms: number | null;
  /** A failing tool's traceback (bounded, key redacted); absent before issue 15. */
  traceback?: string | null;
  /** MCP items only (absent in copies saved before MCP support). */
  mcp?: McpInfo | null;
  /** Absent in notebooks saved before images existed. */
  images?: ImageView[];
  /** Caption segments of the transcribe and translate modes only (issue 14). */
  caption?: CaptionInfo | null;
}

export interface LogEntry {
  seq: number;
  time: number;
  dir: "<" | ">" | "=";
  type: string;
  /** Events folded into this entry (audio appends per turn, deltas per response). */
  count: number;
  item_id?: string | null;
  /** A folded entry's group: "turn 3" or "response resp_..." (null: a single event). Absent in
   * copies saved before folding by group. */
  group?: string | null;
  /** Epoch s of a folded entry's first event (`time` is its latest). */
  first_time?: number;
  /** Decoded audio bytes of the events folded here. */
  bytes?: number;
  json: string;
}

export interface ErrorEntry {
  time: number;
  source: string;
  code: string;
  message: string;
  /** How often the same error happened (absent: once); the kernel lists a repeat once. */
  count?: number;
}

export interface TurnDetection {
  type: string;
  threshold?: number;
  prefix_padding_ms?: number;
  silence_duration_ms?: number;
  interrupt_response?: boolean;
}

export interface Settings {
  voice?: string;
  instructions?: string;
  turn_detection?: TurnDetection | null;
  /** Answers in text only (output_modalities ["text"]). */
  text_only?: boolean;
  /** Transcribe the user's speech (input audio transcription on). */
  input_transcription?: boolean;
  /** The realtime model: applies at the next connection. */
  model?: string;
  /** The microphone's deviceId ("" or absent: the browser's default). Browser-only. */
  mic_device?: string;
  /** Caption modes: the transcription model (translate: the source transcript's; "" none). */
  transcription_model?: string;
  /** Caption modes: the speech's language hint (transcribe; "" detect) or the target (translate). */
  language?: string;
  /** Transcribe mode: words or a style that guide the transcription. */
  prompt?: string;
  /** Caption modes: "" (off), "near_field" or "far_field". */
  noise_reduction?: string;
}

/** What the kernel says about the settings (RealtimeWidget.settings_status). */
export interface SettingsStatus {
  voices: string[];
  models: string[];
  model?: string;
  voice_locked?: string;
  refused?: Record<string, string>;
  model_note?: string;
  /** Caption modes: the transcription models the API names. */
  transcription_models?: string[];
  /** Caption modes: the translation targets, [code, name]. */
  languages?: [string, string][];
  /** Caption modes: the noise reduction kinds. */
  noise_reductions?: string[];
  /** Field -> a notice beside it (e.g. a new session opened for a new target language). */
  notes?: Record<string, string>;
}

export interface Usage {
  input_tokens?: number;
  output_tokens?: number;
  total_tokens?: number;
  responses?: number;
}

/** Synced traits (keep in step with RealtimeWidget's traits). */
export interface WidgetTraits {
  /** Unique per widget: the key of its one controller (proxies differ per view). */
  _instance_id: string;
  status: Status;
  /** Saved copy of the conversation: from the kernel when a view opens, on disconnect and on
   * close; kept current here from frame patches (model.set, never save_changes). */
  items_snapshot: ItemView[];
  settings: Settings;
  settings_status: SettingsStatus;
  /** Per-turn statistics (latency, level strips): see state/turns.ts. */
  turn_stats: import("./turns").TurnStat[];
  hands_free: boolean;
  /** Gate residual echo of the answer out of the capture in hands-free (js/audio/echo-guard.ts). */
  echo_guard: boolean;
  response_active: boolean;
  usage: Usage;
  event_log: LogEntry[];
  errors: ErrorEntry[];
  notice: string;
  server_label: string;
  /** "conversation", "transcribe" or "translate" (set by the kernel's constructor). */
  mode: string;
  /** The translate mode's target language, or the transcribe mode's speech language. */
  language: string;
}

export interface AudioEntry {
  item_id: string;
  content_index: number;
  offset: number;
  samples: number;
  buffer: number;
}

export interface PartRef {
  item_id: string;
  content_index: number;
}

/** Kernel -> browser `frame` (at most one per 25 ms). */
export interface Frame {
  type: "frame";
  seq: number;
  clear: boolean;
  items: ItemView[];
  removed: string[];
  audio: AudioEntry[];
  audio_done: PartRef[];
  log: LogEntry[];
}

export interface ReplayAudio {
  type: "replay_audio";
  request_id: string;
  item_id: string;
  content_index: number;
}

/** Kernel -> browser: the conversation was cleared (`w.clear()`, New conversation). */
export interface Cleared {
  type: "cleared";
}

export type KernelMessage = Frame | ReplayAudio | Cleared | DownloadReply;

export interface PlayedReport {
  item_id: string;
  content_index: number;
  samples: number;
}

/** "item_id:content_index", the player's key for one audio part. */
export function partKey(itemId: string, contentIndex: number): string {
  return `${itemId}:${contentIndex}`;
}

/** Inverse of `partKey` (item ids never contain ":" followed only by digits at the end). */
export function parseKey(key: string): PartRef {
  const i = key.lastIndexOf(":");
  return { item_id: key.slice(0, i), content_index: Number(key.slice(i + 1)) };
}
