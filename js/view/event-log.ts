/**
 * The collapsible event log (issue 15 point 4): filter by direction and type group, a search
 * box, folded counters (audio appends per turn, deltas per response) that expand to their first
 * event, and a Pause that freezes this view (not the session) and counts what arrives meanwhile.
 *
 * Rendering is incremental: each update applies only the entries the store journaled since this
 * view's revision (`LogViewState.take`); a filter or search toggles `hidden` on the bounded rows.
 * An entry's JSON is built only when it is expanded. Closed, the log costs nothing: it catches up
 * when opened.
 */
import {
  DIRECTIONS,
  TYPE_GROUPS,
  countLabel,
  foldSummary,
  groupLabel,
  type LogStore,
  LogViewState,
  type TypeGroup,
} from "../state/event-log";
import type { LogEntry } from "../state/model";
import { attr, h, listen, text } from "./dom";

const ARROWS: Record<string, string> = { "<": "⬇ server", ">": "⬆ client", "=": "• local" };

interface Row {
  li: HTMLLIElement;
  count: HTMLSpanElement;
  entry: LogEntry;
}

function clock(epochS: number): string {
  return new Date(epochS * 1000).toISOString().slice(11, 23);
}

export class EventLogView {
  el: HTMLDetailsElement;
  list: HTMLOListElement;
  state: LogViewState;
  rendered = new Map<number, Row>();
  private pause: HTMLButtonElement;
  private search: HTMLInputElement;
  private counts: HTMLSpanElement;
  private shown = 0;

  constructor(private store: LogStore, disposers: (() => void)[]) {
    this.state = new LogViewState(store);
    this.list = h("ol", { class: "rtw-log-list", "aria-label": "Event log entries" });
    const dirBoxes = DIRECTIONS.map(({ dir, label }) => {
      const box = h("input", { type: "checkbox", checked: true, "data-dir": dir });
      listen(box, "change", () => {
        this.state.toggleDir(dir, box.checked);
        this.applyFilter();
      }, disposers);
      return h("label", { class: "rtw-log-check" }, box, ` ${label}`);
    });
    const typeBoxes = TYPE_GROUPS.map((group: TypeGroup) => {
      const box = h("input", { type: "checkbox", checked: true, "data-group": group });
      listen(box, "change", () => {
        this.state.toggleGroup(group, box.checked);
        this.applyFilter();
      }, disposers);
      return h("label", { class: "rtw-log-check" }, box, ` ${groupLabel(group)}`);
    });
    this.search = h("input", {
      type: "search",
      class: "rtw-log-search",
      "aria-label": "Search events",
      placeholder: "Search type or JSON…",
    });
    this.pause = h("button", { type: "button", class: "rtw-small", "aria-label": "Pause event log", "aria-pressed": "false" }, "⏸ Pause");
    this.counts = h("span", { class: "rtw-log-counts rtw-dim" });
    this.el = h(
      "details",
      { class: "rtw-log" },
      h("summary", { "aria-label": "Event log" }, "Event log"),
      h(
        "div",
        { class: "rtw-log-tools" },
        h("fieldset", { class: "rtw-log-filter" }, h("legend", {}, "Direction"), ...dirBoxes),
        h("fieldset", { class: "rtw-log-filter" }, h("legend", {}, "Type"), ...typeBoxes),
        h("div", { class: "rtw-log-bar" }, this.search, this.pause, this.counts),
      ),
      this.list,
    );
    listen(this.search, "input", () => {
      this.state.setSearch(this.search.value);
      this.applyFilter();
    }, disposers);
    listen(this.pause, "click", () => {
      if (this.state.paused) this.state.resume();
      else this.state.pause();
      this.update();
    }, disposers);
    listen(this.el, "toggle", () => this.update(), disposers);
    // One listener for every row (toggle does not bubble: capture): the JSON on first expand.
    const capture = (e: Event) => this.expand(e.target as HTMLElement);
    this.list.addEventListener("toggle", capture, true);
    disposers.push(() => this.list.removeEventListener("toggle", capture, true));
  }

  /** The store changed (or the log opened, or Pause was pressed): catch up incrementally. */
  update(): void {
    if (!this.el.open) return;
    const changes = this.state.take();
    if (changes?.reset) this.rebuild();
    else if (changes) this.apply(changes.changed);
    this.renderStatus();
  }

  private rebuild(): void {
    this.list.replaceChildren();
    this.rendered.clear();
    this.shown = 0;
    this.apply(this.store.list());
  }

  private apply(changed: LogEntry[]): void {
    // Rows the store dropped (the oldest): removed from the front, O(dropped).
    for (const [seq, row] of this.rendered) {
      if (this.store.has(seq)) break;
      if (!row.li.hidden) this.shown -= 1;
      row.li.remove();
      this.rendered.delete(seq);
    }
    if (!changed.length) return;
    const follow = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 8;
    const added: HTMLLIElement[] = [];
    for (const e of changed) {
      const row = this.rendered.get(e.seq);
      if (row) {
        row.entry = e;
        text(row.count, countLabel(e));
        attr(row.li, "data-count", String(e.count));
        this.refreshFold(row);
        this.setHidden(row, !this.state.shows(e));
      } else if (this.store.has(e.seq)) {
        const fresh = this.row(e);
        this.rendered.set(e.seq, fresh);
        fresh.li.hidden = !this.state.shows(e);
        if (!fresh.li.hidden) this.shown += 1;
        added.push(fresh.li);
      }
    }
    if (added.length) {
      this.list.append(...added);
      if (follow) this.list.scrollTop = this.list.scrollHeight;
    }
  }

  private row(e: LogEntry): Row {
    const count = h("span", { class: "rtw-log-count" }, countLabel(e));
    const summary = h(
      "summary",
      {},
      h("span", { class: "rtw-dim" }, `${clock(e.first_time ?? e.time)} ${ARROWS[e.dir] ?? e.dir} `),
      e.type,
      " ",
      count,
      e.group ? h("span", { class: "rtw-dim" }, ` · ${e.group}`) : null,
    );
    const li = h(
      "li",
      { "data-dir": e.dir, "data-type": e.type, "data-seq": String(e.seq), "data-count": String(e.count), "data-group": e.group ?? null },
      h("details", {}, summary),
    );
    return { li, count, entry: e };
  }

  /** The first expand of a row builds its body: the fold's summary and the (redacted) JSON. */
  private expand(target: HTMLElement): void {
    if (!(target instanceof HTMLDetailsElement) || target === this.el || !target.open) return;
    const seq = Number(target.parentElement?.getAttribute("data-seq"));
    const row = this.rendered.get(seq);
    if (!row || target.querySelector("pre")) return;
    target.append(h("p", { class: "rtw-log-fold rtw-dim" }, foldSummary(row.entry)), h("pre", {}, row.entry.json));
  }

  private refreshFold(row: Row): void {
    const fold = row.li.querySelector(".rtw-log-fold");
    if (fold) text(fold, foldSummary(row.entry));
  }

  private setHidden(row: Row, hidden: boolean): void {
    if (row.li.hidden === hidden) return;
    row.li.hidden = hidden;
    this.shown += hidden ? -1 : 1;
  }

  /** A filter or the search changed: show and hide the rendered rows (bounded). */
  applyFilter(): void {
    for (const row of this.rendered.values()) this.setHidden(row, !this.state.shows(row.entry));
    this.renderStatus();
  }

  private renderStatus(): void {
    const arrived = this.state.arrived();
    const paused = this.state.paused;
    attr(this.pause, "aria-pressed", paused ? "true" : "false");
    text(this.pause, paused ? `▶ Resume${arrived ? ` (${arrived} new)` : ""}` : "⏸ Pause");
    attr(this.el, "data-paused", paused ? "true" : null);
    attr(this.el, "data-arrived", String(arrived));
    attr(this.el, "data-shown", String(this.shown));
    attr(this.el, "data-total", String(this.rendered.size));
    const showing = `Showing ${this.shown} of ${this.rendered.size}`;
    text(this.counts, paused ? `${showing} · paused: ${arrived} new event${arrived === 1 ? "" : "s"}` : showing);
  }
}
