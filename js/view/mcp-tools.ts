/**
 * The "MCP tools" list: each MCP server of the session and the tools it listed (from its latest
 * `mcp_list_tools` item). Hidden until a server lists anything; rendered only while open.
 */
import type { Controller } from "../state/controller";
import { mcpServers } from "../state/mcp";
import { h, listen, text } from "./dom";

export class McpToolsView {
  el: HTMLDetailsElement;
  summary: HTMLElement;
  list: HTMLUListElement;

  constructor(private c: Controller, disposers: (() => void)[]) {
    this.summary = h("summary", { "aria-label": "MCP tools" }, "MCP tools");
    this.list = h("ul", { class: "rtw-mcp-tools-list" });
    this.el = h("details", { class: "rtw-mcp-tools", hidden: true }, this.summary, this.list);
    listen(this.el, "toggle", () => this.update(), disposers);
  }

  update(): void {
    const servers = mcpServers(this.c.state.list());
    this.el.hidden = servers.length === 0;
    const count = servers.reduce((n, s) => n + s.tools.length, 0);
    text(this.summary, `MCP tools (${count})`);
    if (!this.el.open) return;
    this.list.replaceChildren(
      ...servers.map((s) =>
        h(
          "li",
          { "data-server-label": s.label, "data-mcp-state": s.state },
          h("code", {}, s.label),
          s.state === "failed" ? " · unreachable" : s.state === "in_progress" ? " · listing…" : `: ${s.tools.map((t) => t.name).join(", ") || "no tools"}`,
        ),
      ),
    );
  }
}
