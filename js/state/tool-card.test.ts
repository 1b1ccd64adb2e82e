import { describe, expect, it } from "vitest";
import type { ItemView } from "./model";
import { item } from "./test-items";
import { errorSentence, toolCard } from "./tool-card";

function call(extra: Partial<ItemView> = {}): ItemView {
  return {
    ...item("fc_1"),
    type: "function_call",
    role: null,
    status: "completed",
    tool: { name: "get_weather", call_id: "call_1", arguments: '{"city":"Atlantis"}' },
    ...extra,
  };
}

const FAILED = JSON.stringify({
  summary: "The tool get_weather failed: ValueError: city not found.",
  error: { type: "ValueError", message: "city not found" },
});
const TRACEBACK = 'Traceback (most recent call last):\n  File "<cell>", line 3, in get_weather\nValueError: city not found\n';

describe("toolCard", () => {
  it("shows a failing tool's sentence, not its JSON, and its traceback to expand", () => {
    const card = toolCard(call({ tool_state: "error", output: FAILED, traceback: TRACEBACK, duration_ms: 12.4 }));
    expect(card).toEqual({
      state: "error",
      status: "error · 12 ms",
      result: "The tool get_weather failed: ValueError: city not found.",
      isError: true,
      traceback: TRACEBACK,
    });
  });
  it("shows a cancelled call as cancelled, an error without a traceback", () => {
    const output = JSON.stringify({ summary: "The tool get_weather was cancelled by the user.", error: { type: "cancelled", message: "..." } });
    const card = toolCard(call({ tool_state: "cancelled", output }));
    expect(card.state).toBe("cancelled");
    expect(card.status).toBe("cancelled");
    expect(card.result).toBe("The tool get_weather was cancelled by the user.");
    expect(card.isError).toBe(true);
    expect(card.traceback).toBeNull();
  });
  it("pretty-prints a JSON result and shows text results as they are", () => {
    expect(toolCard(call({ tool_state: "done", output: '{"temp":21}' })).result).toBe('{\n "temp": 21\n}');
    const plain = toolCard(call({ tool_state: "done", output: "21 degrees" }));
    expect([plain.result, plain.isError, plain.traceback]).toEqual(["21 degrees", false, null]);
  });
  it("is running before the output and streaming before the call completes", () => {
    expect(toolCard(call()).state).toBe("running");
    expect(toolCard(call({ status: "in_progress" })).state).toBe("streaming");
    expect(toolCard(call()).result).toBeNull();
  });
  it("takes the output of a separate function_call_output item (a reloaded notebook)", () => {
    const output = { ...item("out_1"), type: "function_call_output", output: FAILED };
    const card = toolCard(call(), output);
    expect([card.state, card.isError, card.result]).toEqual(["done", true, "The tool get_weather failed: ValueError: city not found."]);
  });
  it("ignores an empty traceback and copies saved before tracebacks existed", () => {
    expect(toolCard(call({ tool_state: "error", output: FAILED, traceback: "" })).traceback).toBeNull();
    const old = call({ tool_state: "error", output: FAILED });
    delete old.traceback;
    expect(toolCard(old).traceback).toBeNull();
  });
});

describe("errorSentence", () => {
  it("reads other clients' error objects too", () => {
    expect(errorSentence('{"error": "no such city"}')).toBe("no such city");
    expect(errorSentence('{"error": {"type": "E", "message": "boom"}}')).toBe("E: boom");
    expect(errorSentence('{"error": {"message": "boom"}}')).toBe("boom");
  });
  it("is null for results, text and broken JSON", () => {
    for (const s of ['{"temp": 21}', '{"error": null}', "the error was mine", '["error"]', '{"error": 1']) {
      expect(errorSentence(s)).toBeNull();
    }
  });
});
