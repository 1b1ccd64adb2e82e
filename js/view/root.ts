/**
 * One view of the widget: assembles the parts, renders on controller changes, keeps the
 * `rtw-root` data attributes the browser tests read, and returns its cleanup.
 */
import type { Change, Controller } from "../state/controller";
import { hasComposer, modeLabel, usageText } from "../state/captions";
import { alertText } from "./alert-text";
import { Controls } from "./controls";
import { ConversationView } from "./conversation-view";
import { attr, h, listen, text } from "./dom";
import { pickFile } from "../state/images";
import { emptyHint } from "./empty-hint";
import { EventLogView } from "./event-log";
import { McpToolsView } from "./mcp-tools";
import { escapeClosesPanels } from "./panels";
import { SettingsView } from "./settings";

/** Android Chrome and Safari do not cancel echo of Web Audio playback (DESIGN §4). */
function weakEchoCancellation(): boolean {
  const ua = globalThis.navigator?.userAgent ?? "";
  return /Android/.test(ua) || (/Safari\//.test(ua) && !/Chrome\/|Chromium\//.test(ua));
}

export function renderView(c: Controller, host: HTMLElement): () => void {
  const disposers: (() => void)[] = [];
  const controls = new Controls(c, disposers);
  const conversation = new ConversationView(c, disposers);
  const log = new EventLogView(c.state.log, disposers);
  const mcpTools = new McpToolsView(c, disposers);
  const settings = new SettingsView(c, disposers);
  const notice = h("div", { class: "rtw-notice", role: "note" });
  const label = h("span", { class: "rtw-dim rtw-label" });
  // The transcribe and translate modes say so in the header (issue 14); a conversation shows none.
  // A name needs a role that takes one: screen readers ignore aria-label on a bare span or div
  // (axe-core's aria-prohibited-attr), so the badge and the usage line are notes.
  const modeBadge = h("span", { class: "rtw-mode", role: "note", "aria-label": "Mode" });
  const alerts = h("div", { class: "rtw-alerts" });
  // How to start talking, while the conversation is empty (issue 15).
  const hint = h("p", { class: "rtw-empty-hint rtw-dim", role: "note", "aria-label": "Getting started" });
  const usage = h("div", { class: "rtw-usage rtw-dim", role: "note", "aria-label": "Usage" });
  const message = h("input", { type: "text", "aria-label": "Message", placeholder: "Type a message, or paste an image…", class: "rtw-message" });
  const send = h("button", { type: "button", "aria-label": "Send" }, "Send");
  const composer = h("form", { class: "rtw-composer" }, message, send);
  const root = h(
    "div",
    {
      class: "rtw-root",
      "data-played-samples": "0",
      "data-captured-samples": "0",
      // JupyterLab (Lumino) skips its keyboard shortcuts inside this element: typing a message
      // or holding space on the Microphone button must not run notebook commands.
      "data-lm-suppress-shortcuts": "true",
    },
    h("div", { class: "rtw-header" }, h("strong", {}, "Realtime"), modeBadge, label),
    notice,
    controls.el,
    alerts,
    hint,
    conversation.el,
    composer,
    h("div", { class: "rtw-footer" }, usage, mcpTools.el, settings.el, log.el),
  );
  if (weakEchoCancellation()) {
    notice.after(h("div", { class: "rtw-hint", role: "note" }, "This browser does not cancel echo: use headphones, or push-to-talk instead of hands-free."));
  }

  const submit = (e?: Event) => {
    e?.preventDefault();
    const value = message.value.trim();
    if (!value) return;
    c.sendText(value);
    message.value = "";
  };
  listen(composer, "submit", submit, disposers);
  listen(send, "click", submit, disposers);
  // A pasted or dropped image goes to the kernel with the words typed so far (issue 12).
  const sendFile = (file: File | null, e: Event) => {
    if (!file) return; // a text paste or a drag of text: the browser handles it
    e.preventDefault();
    const words = message.value.trim();
    message.value = "";
    void c.sendImage(file, words);
  };
  listen(message, "paste", (e: ClipboardEvent) => sendFile(pickFile(e.clipboardData?.files), e), disposers);
  listen(root, "dragover", (e: DragEvent) => {
    if (!Array.from(e.dataTransfer?.types ?? []).includes("Files")) return;
    e.preventDefault(); // allow the drop
    attr(root, "data-drop", "true");
  }, disposers);
  listen(root, "dragleave", (e: DragEvent) => {
    if (!root.contains(e.relatedTarget as Node | null)) attr(root, "data-drop", null);
  }, disposers);
  listen(root, "drop", (e: DragEvent) => {
    attr(root, "data-drop", null);
    sendFile(pickFile(e.dataTransfer?.files), e);
  }, disposers);
  // Any gesture in the widget may unlock audio suspended by the autoplay policy.
  listen(root, "pointerdown", () => c.gesture(), disposers);
  listen(root, "keydown", () => c.gesture(), disposers);
  escapeClosesPanels(root, disposers);

  const renderErrors = () => {
    alerts.replaceChildren(
      ...c.errors().map((e) =>
        h(
          "div",
          { role: "alert", class: "rtw-alert", "data-code": e.code, "data-source": e.source, "data-count": String(e.count ?? 1) },
          alertText(e),
        ),
      ),
    );
  };
  const renderTraits = () => {
    text(notice, c.model.get("notice") || "");
    notice.hidden = !c.model.get("notice");
    text(label, c.model.get("server_label") || "");
    const mode = c.model.get("mode") || "conversation";
    const tokens = usageText(mode, c.model.get("usage") || {});
    text(usage, tokens);
    usage.hidden = !tokens;
    const status = c.model.get("status");
    const off = c.kernelGone || status !== "connected";
    message.disabled = c.kernelGone;
    send.disabled = c.kernelGone;
    attr(root, "data-status", status);
    attr(root, "data-mode", mode);
    const badge = modeLabel(mode, c.model.get("language"));
    text(modeBadge, badge);
    modeBadge.hidden = !badge;
    composer.hidden = !hasComposer(mode);
    attr(composer, "data-offline", off ? "true" : null);
    controls.update();
    settings.update();
  };
  const renderCounters = () => {
    attr(root, "data-played-samples", String(c.engine?.playedTotal ?? 0));
    attr(root, "data-captured-samples", String(c.engine?.capturedSamples ?? 0));
    controls.updateMeters();
  };

  const renderHint = () => {
    const words = c.state.list().length ? "" : emptyHint(c.model.get("status") || "disconnected", !!c.model.get("hands_free"), c.kernelGone, !c.micBlocked);
    text(hint, words);
    hint.hidden = !words;
  };

  const onChange = (changes: Set<Change>) => {
    if (changes.has("items")) {
      conversation.update();
      mcpTools.update();
    }
    if (changes.has("items") || changes.has("traits") || changes.has("errors")) renderHint();
    if (changes.has("log")) log.update();
    if (changes.has("errors") || changes.has("traits")) renderErrors();
    if (changes.has("traits") || changes.has("capture") || changes.has("errors")) renderTraits();
    if (changes.has("meters")) renderCounters();
  };
  const unsubscribe = c.subscribe(onChange);
  // Counters also move without messages (e.g. after a clear); keep them fresh.
  const timer = setInterval(renderCounters, 200);
  onChange(new Set(["items", "log", "errors", "traits", "meters"]));
  host.append(root);
  const viewId = Math.random().toString(36).slice(2);
  c.send({ type: "hello", view: viewId });

  return () => {
    clearInterval(timer);
    for (const d of disposers.splice(0)) d();
    c.send({ type: "bye", view: viewId });
    unsubscribe();
    root.remove();
  };
}
