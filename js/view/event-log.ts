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
  atEnd,
  DIRECTIONS,
  TYPE_GROUPS,
  countLabel,
  foldSummary,
  groupLabel,
  type LogStore,
  LogViewState,
  TailFollow,
  type TypeGroup,
} from "../state/event-log";
import type { LogEntry } from "../state/model";
import { attr, h, listen, text } from "./dom";

const ARROWS: Record<string, string> = { "<": "⬇ server", ">": "⬆ client", "=": "• local" };

interface Row {
  li: HTMLLIElement;
  count: HTMLSpanElement;
  entry: LogEntry;
  /** The expanded body's fold summary (built on first expand), kept current in place. */
  fold?: HTMLParagraphElement;
}

function clock(epochS: number): string {
  return new Date(epochS * 1000).toISOString().slice(11, 23);
}

// A row's markup, cloned per entry (one clone is cheaper than building six nodes attribute by
// attribute, and a resume builds 500 of them):
// <li data-…><details><summary><span dim>time dir </span>type <span count>×N</span>[<span dim> · group</span>]
let template: HTMLLIElement | null = null;

function buildRow(e: LogEntry): Row {
  template ??= h(
    "li",
    {},
    h("details", {}, h("summary", {}, h("span", { class: "rtw-dim" }), "", " ", h("span", { class: "rtw-log-count" }))),
  );
  const li = template.cloneNode(true) as HTMLLIElement;
  li.setAttribute("data-dir", e.dir);
  li.setAttribute("data-type", e.type);
  li.setAttribute("data-seq", String(e.seq));
  li.setAttribute("data-count", String(e.count));
  if (e.group) li.setAttribute("data-group", e.group);
  const summary = li.firstChild!.firstChild as HTMLElement;
  const parts = summary.childNodes;
  parts[0].textContent = `${clock(e.first_time ?? e.time)} ${ARROWS[e.dir] ?? e.dir} `;
  (parts[1] as Text).data = e.type;
  const count = parts[3] as HTMLSpanElement;
  count.textContent = countLabel(e);
  if (e.group) summary.append(h("span", { class: "rtw-dim" }, ` · ${e.group}`));
  return { li, count, entry: e };
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
  private tail = new TailFollow();
  private frame = 0;

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
    disposers.push(() => cancelAnimationFrame(this.frame));
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

  /** Rebuild from the store (a reset, opening after a long while, or resuming): every row built
   * off the document in one fragment, then one replace: one style and layout pass. */
  private rebuild(): void {
    this.rendered.clear();
    this.shown = 0;
    const fragment = document.createDocumentFragment();
    for (const e of this.store.list()) fragment.append(this.add(e).li);
    this.list.replaceChildren(fragment);
    this.scrollToEnd();
  }

  private apply(changed: LogEntry[]): void {
    // Read before any write: whether the list shows its end (its layout is clean from the last
    // rendering; reading after the writes below forced a layout per frame).
    const follow = changed.length > 0 && this.tail.following(() => this.atEnd());
    // Rows the store dropped (the oldest): removed from the front, O(dropped).
    for (const [seq, row] of this.rendered) {
      if (this.store.has(seq)) break;
      if (!row.li.hidden) this.shown -= 1;
      row.li.remove();
      this.rendered.delete(seq);
    }
    if (!changed.length) return;
    let added: DocumentFragment | null = null;
    for (const e of changed) {
      const row = this.rendered.get(e.seq);
      if (row) {
        if (row.entry.count !== e.count) {
          text(row.count, countLabel(e));
          row.li.setAttribute("data-count", String(e.count));
        }
        row.entry = e;
        if (row.fold) text(row.fold, foldSummary(e));
        this.setHidden(row, !this.state.shows(e));
      } else if (this.store.has(e.seq)) {
        added ??= document.createDocumentFragment();
        added.append(this.add(e).li);
      }
    }
    if (added) {
      this.list.append(added);
      if (follow) this.scrollToEnd();
    }
  }

  private atEnd(): boolean {
    return atEnd(this.list.scrollTop, this.list.scrollHeight, this.list.clientHeight);
  }

  /** Show the newest row at the next animation frame (one scroll however many frames came). */
  private scrollToEnd(): void {
    if (this.tail.request()) this.frame = requestAnimationFrame(() => this.flush());
  }

  /** Run the pending scroll now (the animation frame does; the bench calls it per step, before
   * its forced layout, as the rendering would: requestAnimationFrame runs before layout). */
  flush(): void {
    if (!this.tail.scheduled) return;
    cancelAnimationFrame(this.frame);
    this.tail.done();
    this.list.scrollTop = this.list.scrollHeight;
  }

  /** A new row for `e`, registered as rendered and counted if shown. */
  private add(e: LogEntry): Row {
    const row = buildRow(e);
    this.rendered.set(e.seq, row);
    row.li.hidden = !this.state.shows(e);
    if (!row.li.hidden) this.shown += 1;
    return row;
  }

  /** The first expand of a row builds its body: the fold's summary and the (redacted) JSON. */
  private expand(target: HTMLElement): void {
    if (!(target instanceof HTMLDetailsElement) || target === this.el || !target.open) return;
    const seq = Number(target.parentElement?.getAttribute("data-seq"));
    const row = this.rendered.get(seq);
    if (!row || row.fold) return;
    row.fold = h("p", { class: "rtw-log-fold rtw-dim" }, foldSummary(row.entry));
    target.append(row.fold, h("pre", {}, row.entry.json));
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
