// Test data shared by the state tests: an item view as the kernel sends it.
import type { ItemView } from "./model";

export function item(id: string, text = ""): ItemView {
  return {
    id,
    type: "message",
    role: "assistant",
    status: "in_progress",
    text,
    transcript: "",
    transcribing: false,
    audio_samples: 0,
    audio_content_index: 0,
    truncated_ms: null,
    tool: null,
    output: null,
    tool_state: null,
    duration_ms: null,
    mcp: null,
  };
}
