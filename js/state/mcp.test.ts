import { describe, expect, it } from "vitest";
import { isMcp, mcpServers, mcpState } from "./mcp";
import type { ItemView, McpInfo } from "./model";
import { item } from "./test-items";

function mcp(id: string, type: string, status: string, info: Partial<McpInfo>): ItemView {
  const base: McpInfo = {
    server_label: "demo",
    name: "",
    arguments: "",
    output: null,
    error: null,
    tools: [],
    decision: null,
    approval_request_id: null,
    approve: null,
    reason: null,
  };
  return { ...item(id), type, role: null, status, mcp: { ...base, ...info } };
}

describe("mcpState", () => {
  it("follows a call from running to done or failed", () => {
    expect(mcpState(mcp("c", "mcp_call", "in_progress", { name: "add" }))).toBe("in_progress");
    expect(mcpState(mcp("c", "mcp_call", "completed", { output: "5" }))).toBe("completed");
    expect(mcpState(mcp("c", "mcp_call", "completed", { error: "boom" }))).toBe("failed");
    expect(mcpState(mcp("c", "mcp_call", "failed", {}))).toBe("failed");
    expect(mcpState(mcp("c", "mcp_call", "incomplete", {}))).toBe("incomplete");
  });

  it("waits for approval, shows the click, then the server's record of the answer", () => {
    const asked = mcp("r", "mcp_approval_request", "completed", { name: "add" });
    expect(mcpState(asked)).toBe("awaiting_approval");
    expect(mcpState(asked, new Set(["r"]))).toBe("sending");
    const denied = mcp("r", "mcp_approval_request", "completed", { decision: { approve: false, reason: "no" } });
    expect(mcpState(denied, new Set(["r"]))).toBe("denied");
    const approved = mcp("r", "mcp_approval_request", "completed", { decision: { approve: true, reason: null } });
    expect(mcpState(approved)).toBe("approved");
  });

  it("tells MCP items from the others", () => {
    expect(isMcp(mcp("x", "mcp_list_tools", "completed", {}))).toBe(true);
    expect(isMcp(item("m"))).toBe(false);
  });
});

describe("mcpServers", () => {
  it("keeps each server's latest listing, in first-seen order", () => {
    const add = { name: "add", description: "Add." };
    const items = [
      mcp("l1", "mcp_list_tools", "in_progress", { server_label: "demo" }),
      mcp("l2", "mcp_list_tools", "failed", { server_label: "other" }),
      item("m"),
      mcp("l3", "mcp_list_tools", "completed", { server_label: "demo", tools: [add] }),
    ];
    expect(mcpServers(items)).toEqual([
      { label: "demo", state: "completed", tools: [add] },
      { label: "other", state: "failed", tools: [] },
    ]);
  });

  it("ignores items saved without MCP data", () => {
    expect(mcpServers([{ ...item("l"), type: "mcp_list_tools", mcp: undefined }])).toEqual([]);
  });
});
