/**
 * The collapsible event log: direction, time, type, repeat count; each entry expands to its
 * (already redacted) JSON. Rendered only while open, so a closed log costs nothing.
 */
import type { Controller } from "../state/controller";
import { h, listen } from "./dom";

const ARROWS: Record<string, string> = { "<": "⬇ server", ">": "⬆ client", "=": "• local" };

export class EventLogView {
  el: HTMLDetailsElement;
  list: HTMLOListElement;
  rendered = new Map<number, { el: HTMLElement; count: number }>();

  constructor(private c: Controller, disposers: (() => void)[]) {
    this.list = h("ol", { class: "rtw-log-list" });
    this.el = h(
      "details",
      { class: "rtw-log" },
      h("summary", { "aria-label": "Event log" }, "Event log"),
      this.list,
    );
    listen(this.el, "toggle", () => this.update(), disposers);
  }

  update(): void {
    if (!this.el.open) return;
    const entries = this.c.state.logList();
    const keep = new Set(entries.map((e) => e.seq));
    for (const [seq, r] of this.rendered) {
      if (!keep.has(seq)) {
        r.el.remove();
        this.rendered.delete(seq);
      }
    }
    for (const e of entries) {
      const r = this.rendered.get(e.seq);
      if (r && r.count === e.count) continue;
      const time = new Date(e.time * 1000).toISOString().slice(11, 23);
      const count = e.count > 1 ? ` ×${e.count}` : "";
      const el = h(
        "li",
        { "data-dir": e.dir },
        h(
          "details",
          {},
          h("summary", {}, h("span", { class: "rtw-dim" }, `${time} ${ARROWS[e.dir] ?? e.dir} `), e.type, count),
          h("pre", {}, e.json),
        ),
      );
      if (r) r.el.replaceWith(el);
      else this.list.append(el);
      this.rendered.set(e.seq, { el, count: e.count });
    }
  }
}
