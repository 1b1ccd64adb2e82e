/**
 * MCP items as the views show them (pure; docs/widget-protocol.md, "MCP"): the state of a card,
 * and the tools each MCP server listed. The server runs MCP tools; the browser only shows them
 * and sends the user's approval decisions.
 */
import type { ItemView, McpToolInfo } from "./model";

export const MCP_TYPES: ReadonlySet<string> = new Set([
  "mcp_list_tools",
  "mcp_call",
  "mcp_approval_request",
  "mcp_approval_response",
]);

export type McpState =
  | "in_progress"
  | "completed"
  | "failed"
  | "incomplete"
  | "awaiting_approval"
  | "sending"
  | "approved"
  | "denied";

export function isMcp(item: ItemView): boolean {
  return MCP_TYPES.has(item.type);
}

/**
 * The card state of an MCP item. An approval request is `awaiting_approval` until the user
 * clicks (`sending`, while the kernel forwards the answer) and the server records the answer.
 */
export function mcpState(item: ItemView, sent: ReadonlySet<string> = new Set()): McpState {
  if (item.type === "mcp_approval_request") {
    const decision = item.mcp?.decision;
    if (decision) return decision.approve ? "approved" : "denied";
    return sent.has(item.id) ? "sending" : "awaiting_approval";
  }
  if (item.type === "mcp_call" && item.mcp?.error) return "failed";
  if (item.status === "failed") return "failed";
  if (item.status === "incomplete") return "incomplete"; // cut by a dropped connection
  return item.status === "in_progress" ? "in_progress" : "completed";
}

export interface McpServer {
  label: string;
  state: McpState;
  tools: McpToolInfo[];
}

/** Each server's latest tool listing, in the order servers first appeared. */
export function mcpServers(items: Iterable<ItemView>): McpServer[] {
  const servers = new Map<string, McpServer>();
  for (const item of items) {
    if (item.type !== "mcp_list_tools" || !item.mcp) continue;
    const label = item.mcp.server_label;
    servers.set(label, { label, state: mcpState(item), tools: item.mcp.tools });
  }
  return Array.from(servers.values());
}
