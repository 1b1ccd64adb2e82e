/**
 * The conversation (`role="log"`): one turn per item, updated in place so a streamed delta only
 * touches its own turn. Function calls render as tool cards merged with their output.
 */
import { captionLabel, captionOf } from "../state/captions";
import type { Controller } from "../state/controller";
import { isMcp, mcpState } from "../state/mcp";
import type { ItemView } from "../state/model";
import { toolCard } from "../state/tool-card";
import { type ItemStat, latencyLabel, mergeStats, stripHeights, type TurnStat } from "../state/turns";
import { attr, h, listen, text } from "./dom";

const WIRE_RATE = 24000;

function roleOf(item: ItemView): string {
  if (item.type === "function_call") return "tool";
  if (isMcp(item)) return "mcp";
  return item.role === "user" ? "user" : item.role === "assistant" ? "assistant" : "system";
}

// Named parts of a card (Arguments, Result, Error, Traceback, a caption's Transcript and
// Translation) are role="group": aria-label on a bare pre or div is ignored by screen readers
// (axe-core's aria-prohibited-attr); a group carries the name.

function prettyJson(s: string): string {
  try {
    return JSON.stringify(JSON.parse(s), null, 1);
  } catch {
    return s;
  }
}

/** Give `el` the attributes and children of `fresh`; returns `el`. */
function morph(el: HTMLElement, fresh: HTMLElement): HTMLElement {
  for (const a of Array.from(el.attributes)) if (!fresh.hasAttribute(a.name)) el.removeAttribute(a.name);
  for (const a of Array.from(fresh.attributes)) attr(el, a.name, a.value);
  el.replaceChildren(...Array.from(fresh.childNodes));
  return el;
}

/** Thumbnails of a message's images; an image too large to preview is a labelled box. */
function renderImages(item: ItemView): HTMLElement {
  const box = h("div", { class: "rtw-images" });
  for (const image of item.images ?? []) {
    if (image.url) {
      box.append(h("img", { class: "rtw-thumb", src: image.url, alt: `image: ${image.label}`, title: image.label }));
    } else {
      box.append(h("span", { class: "rtw-thumb rtw-image-placeholder", role: "img", "aria-label": `image: ${image.label}` }, `🖼 ${image.label}`));
    }
  }
  return box;
}

function sameStat(a: ItemStat | undefined, b: ItemStat | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  return a.latency_ms === b.latency_ms && a.interrupted === b.interrupted && a.levels.length === b.levels.length && a.levels.every((l, i) => l === b.levels[i]);
}

/** A turn's level strip (bars of its audio's loudness) and, on an answer, its latency. */
function renderStat(el: HTMLElement, meta: HTMLElement, stat: ItemStat): void {
  if (stat.levels.length) {
    const who = stat.role === "user" ? "Your" : "Assistant";
    const strip = h("span", { class: "rtw-strip", role: "img", "aria-label": `${who} audio level, turn ${stat.turn}` });
    for (const height of stripHeights(stat.levels)) {
      const bar = h("span", { class: "rtw-bar" });
      bar.style.height = `${Math.max(1, Math.round(height * 16))}px`;
      strip.append(bar);
    }
    meta.prepend(strip);
  }
  if (stat.latency_ms !== null && stat.latency_ms !== undefined) {
    attr(el, "data-latency-ms", String(Math.round(stat.latency_ms)));
    meta.append(h("span", { class: "rtw-latency", title: "end of your speech → first audio heard" }, ` ${latencyLabel(stat.latency_ms)}`));
  }
}

export class ConversationView {
  el: HTMLElement;
  /** The `turn_stats` trait last indexed, and its index (rebuilt only when the trait changes, so
   * a turn re-renders only when its statistics did). */
  statsSource: TurnStat[] | null = null;
  stats: Map<string, ItemStat> = new Map();
  turns: Map<string, { el: HTMLElement; item: ItemView; output: string | null | undefined; state: string; stat?: ItemStat }> =
    new Map();

  constructor(private c: Controller, private disposers: (() => void)[]) {
    this.el = h("div", { role: "log", "aria-label": "Conversation", class: "rtw-conversation", "aria-live": "polite" });
    // One delegated listener for every turn's buttons.
    listen(this.el, "click", (e: Event) => {
      const button = (e.target as Element).closest("button[data-action]");
      if (!button) return;
      const id = button.getAttribute("data-id") || "";
      const action = button.getAttribute("data-action");
      if (action === "replay") c.replay(id);
      else if (action === "approve") c.decide(id, true);
      else if (action === "deny") c.decide(id, false);
      else if (action === "mcp-approve") c.decideMcp(id, true);
      else if (action === "mcp-deny") c.decideMcp(id, false);
    }, disposers);
  }

  update(): void {
    // Outputs and MCP answers are shown on their call's / request's card.
    const items = this.c.state
      .list()
      .filter((i) => i.type !== "function_call_output" && i.type !== "mcp_approval_response");
    const seen = new Set<string>();
    let previous: Element | null = null;
    const stick = this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight < 40;
    const source = (this.c.model.get("turn_stats") as TurnStat[] | undefined) || [];
    if (source !== this.statsSource) {
      this.statsSource = source;
      mergeStats(this.stats, source);
    }
    for (const item of items) {
      seen.add(item.id);
      // The kernel merges a call's output into its item; look it up only when it has not.
      const output =
        item.type === "function_call" && item.tool && item.output === null
          ? this.c.state.outputFor(item.tool.call_id)
          : undefined;
      // Re-render a turn only when its item changed: patches replace the item object, so an
      // identity check keeps a frame's cost proportional to what it changed.
      let turn = this.turns.get(item.id);
      const state = isMcp(item) ? mcpState(item, this.c.mcpSent) : "";
      const stat = this.stats.get(item.id);
      if (!turn || turn.item !== item || turn.output !== output?.output || turn.state !== state || !sameStat(turn.stat, stat)) {
        const fresh = this.render(item, output, stat);
        // Update a turn in place: its element keeps its identity (screen readers, selections
        // and tests holding it see a change, not a removal).
        // An MCP card the user expanded stays expanded while its call updates.
        const expanded = turn?.el.querySelector("details")?.open ?? false;
        const el = turn ? morph(turn.el, fresh) : fresh;
        if (expanded) el.querySelector("details")?.setAttribute("open", "");
        turn = { el, item, output: output?.output, state, stat };
        this.turns.set(item.id, turn);
      }
      const expected: Element | null = previous ? previous.nextElementSibling : this.el.firstElementChild;
      if (expected !== turn.el) {
        if (previous) previous.after(turn.el);
        else this.el.prepend(turn.el);
      }
      previous = turn.el;
    }
    for (const [id, turn] of this.turns) {
      if (!seen.has(id)) {
        turn.el.remove();
        this.turns.delete(id);
      }
    }
    if (stick) this.el.scrollTop = this.el.scrollHeight;
  }

  render(item: ItemView, output?: ItemView, stat?: ItemStat): HTMLElement {
    const role = roleOf(item);
    const el = h("div", { class: `rtw-turn rtw-${role}`, "data-role": role, "data-item-id": item.id });
    if (item.type === "function_call") {
      this.renderTool(el, item, output);
      return el;
    }
    if (isMcp(item)) {
      this.renderMcp(el, item);
      return el;
    }
    const caption = captionOf(item);
    if (caption) {
      this.renderCaption(el, item);
      return el;
    }
    const words = item.text || item.transcript;
    const body = h("div", { class: "rtw-text" });
    if (words) text(body, words);
    else if (item.transcribing) body.append(h("em", { class: "rtw-placeholder" }, "transcribing…"));
    else if (item.status === "in_progress") body.append(h("em", { class: "rtw-placeholder" }, "…"));
    el.append(h("div", { class: "rtw-who" }, role === "user" ? "You" : role === "assistant" ? "Assistant" : role), body);
    if (item.images?.length) el.append(renderImages(item));
    const meta = h("div", { class: "rtw-meta" });
    if (item.audio_samples > 0) {
      meta.append(`${(item.audio_samples / WIRE_RATE).toFixed(1)} s `);
      meta.append(h("button", { type: "button", class: "rtw-small", "aria-label": "Replay", "data-action": "replay", "data-id": item.id }, "▶ Replay"));
    }
    if (item.truncated_ms !== null && item.truncated_ms !== undefined) {
      attr(el, "data-truncated", "true");
      meta.append(h("span", { class: "rtw-truncated" }, ` truncated at ${(item.truncated_ms / 1000).toFixed(1)} s`));
    }
    if (stat) renderStat(el, meta, stat);
    if (meta.childNodes.length) el.append(meta);
    return el;
  }

  /** A caption turn (transcribe mode) or phrase with its translation side by side (translate). */
  renderCaption(el: HTMLElement, item: ItemView): void {
    const caption = captionOf(item)!;
    attr(el, "data-caption", caption.final ? "final" : "partial");
    attr(el, "data-turn", String(caption.turn));
    el.classList.add("rtw-caption");
    const source = h("div", { class: "rtw-text rtw-caption-source", role: "group", "aria-label": "Transcript" });
    if (item.transcript) text(source, item.transcript);
    else source.append(h("em", { class: "rtw-placeholder" }, caption.final ? "(no words)" : "listening…"));
    el.append(h("div", { class: "rtw-who" }, captionLabel(caption)));
    if (caption.mode === "translate") {
      const translated = h("div", { class: "rtw-text rtw-caption-translation", role: "group", "aria-label": "Translation" });
      if (caption.translation) text(translated, caption.translation);
      else translated.append(h("em", { class: "rtw-placeholder" }, "translating…"));
      el.append(h("div", { class: "rtw-caption-pair" }, source, translated));
    } else {
      el.append(source);
    }
    if (caption.error) el.append(h("div", { class: "rtw-meta rtw-error-text" }, caption.error));
  }

  /** An MCP card: a tool listing, a call (expandable), or an approval request. */
  renderMcp(el: HTMLElement, item: ItemView): void {
    const mcp = item.mcp;
    const state = mcpState(item, this.c.mcpSent);
    attr(el, "data-mcp-type", item.type);
    attr(el, "data-mcp-state", state);
    attr(el, "data-server-label", mcp?.server_label ?? "");
    const label = mcp?.server_label ?? "?";
    if (item.type === "mcp_list_tools") {
      const tools = mcp?.tools ?? [];
      const what = state === "failed" ? "could not list its tools" : state === "in_progress" ? "listing tools…" : `${tools.length} tools`;
      el.append(
        h(
          "details",
          { class: "rtw-mcp-list" },
          h("summary", {}, "MCP server ", h("code", {}, label), ` · ${what}`),
          h("ul", {}, ...tools.map((t) => h("li", {}, h("code", {}, t.name), t.description ? ` — ${t.description}` : ""))),
        ),
      );
      return;
    }
    const name = mcp?.name ?? "?";
    if (item.type === "mcp_approval_request") {
      el.append(
        h("div", { class: "rtw-who" }, "Approve MCP tool ", h("code", {}, name), " on ", h("code", {}, label), "?"),
        h("pre", { class: "rtw-args", role: "group", "aria-label": "Arguments" }, prettyJson(mcp?.arguments ?? "")),
      );
      if (state === "awaiting_approval") {
        el.append(
          h(
            "div",
            { class: "rtw-approval" },
            h("button", { type: "button", "aria-label": "Approve", "data-action": "mcp-approve", "data-id": item.id }, "Approve"),
            h("button", { type: "button", "aria-label": "Deny", "data-action": "mcp-deny", "data-id": item.id }, "Deny"),
          ),
        );
      } else {
        const reason = mcp?.decision?.reason ? ` (${mcp.decision.reason})` : "";
        el.append(h("div", { class: "rtw-meta" }, state === "sending" ? "sending…" : `${state}${reason}`));
      }
      return;
    }
    // mcp_call: the header and status stay visible; arguments and result expand.
    const result = mcp?.error ?? mcp?.output;
    const details = h(
      "details",
      { class: "rtw-mcp-call", open: state === "failed" },
      h("summary", {}, "MCP tool ", h("code", {}, name), " on ", h("code", {}, label)),
      h("pre", { class: "rtw-args", role: "group", "aria-label": "Arguments" }, prettyJson(mcp?.arguments ?? "")),
    );
    if (result !== null && result !== undefined) {
      const failed = state === "failed";
      details.append(h("pre", { class: failed ? "rtw-result rtw-error-text" : "rtw-result", role: "group", "aria-label": failed ? "Error" : "Result" }, prettyJson(result)));
    }
    el.append(details, h("div", { class: "rtw-meta" }, state.replace("_", " ")));
  }

  renderTool(el: HTMLElement, item: ItemView, output?: ItemView): void {
    const tool = item.tool ?? { name: "?", call_id: "", arguments: "" };
    const card = toolCard(item, output);
    attr(el, "data-call-id", tool.call_id);
    attr(el, "data-tool-state", card.state);
    el.append(
      h("div", { class: "rtw-who" }, "Tool call ", h("code", {}, tool.name)),
      h("pre", { class: "rtw-args", role: "group", "aria-label": "Arguments" }, prettyJson(tool.arguments)),
    );
    if (card.result !== null) {
      el.append(h("pre", { class: card.isError ? "rtw-result rtw-error-text" : "rtw-result", role: "group", "aria-label": card.isError ? "Error" : "Result" }, card.result));
    }
    if (card.traceback !== null) {
      // <details>/<summary>: opened with Enter or Space, announced as expandable.
      el.append(
        h(
          "details",
          { class: "rtw-traceback" },
          h("summary", {}, "Traceback"),
          h("pre", { class: "rtw-traceback-text", role: "group", "aria-label": "Traceback", tabindex: "0" }, card.traceback),
        ),
      );
    }
    el.append(h("div", { class: "rtw-meta" }, card.status));
    if (card.state === "awaiting_approval") {
      el.append(
        h(
          "div",
          { class: "rtw-approval" },
          h("button", { type: "button", "aria-label": "Approve", "data-action": "approve", "data-id": tool.call_id }, "Approve"),
          h("button", { type: "button", "aria-label": "Deny", "data-action": "deny", "data-id": tool.call_id }, "Deny"),
        ),
      );
    }
  }
}
