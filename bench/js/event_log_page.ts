/**
 * The event log's store and view, alone in a page, for bench/bench_event_log.py: the same modules
 * the widget bundles (js/state/event-log.ts, js/view/event-log.ts, the widget's CSS), driven with
 * the frames the kernel's EventLog and Outbox produce for an hour's session. Each step is what a
 * widget view does for one frame: the store patches the frame's log entries and the open view
 * renders the changes; the view's pending animation-frame work (its scroll to the newest row) runs
 * and layout is forced after each step, in the rendering's order, so their cost is counted too.
 */
import { LogStore } from "../../js/state/event-log";
import type { LogEntry } from "../../js/state/model";
import { EventLogView } from "../../js/view/event-log";
import "../../js/widget.css";

const store = new LogStore(500);
const disposers: (() => void)[] = [];
const view = new EventLogView(store, disposers);
const root = document.createElement("div");
root.className = "rtw-root";
root.append(view.el);
document.body.append(root);
view.el.open = true;

function layout(): number {
  return view.list.offsetHeight + view.el.offsetHeight;
}

/** Apply frames (each a list of log entries); per-frame times in ms. */
function feed(frames: LogEntry[][]): number[] {
  const times: number[] = [];
  for (const log of frames) {
    const t0 = performance.now();
    store.patch(log);
    view.update();
    view.flush();
    layout();
    times.push(performance.now() - t0);
  }
  return times;
}

/** Apply frames like `feed`, timing each step's parts: [start, store.patch, view.update, layout]
 * per frame (start: performance.now(); the rest ms), so bench/profile_event_log.py can tell the
 * slow frames' parts apart and find them in a trace (the "rtw-feed" mark anchors the clocks). */
function feedPhases(frames: LogEntry[][]): number[][] {
  const out: number[][] = [];
  performance.mark("rtw-feed");
  for (const log of frames) {
    const t0 = performance.now();
    store.patch(log);
    const t1 = performance.now();
    view.update();
    view.flush();
    const t2 = performance.now();
    layout();
    out.push([t0, t1 - t0, t2 - t1, performance.now() - t2]);
  }
  return out;
}

/** Time (ms) to run `act` on the view's controls and lay out. */
function timed(act: () => void): number {
  const t0 = performance.now();
  act();
  view.flush();
  layout();
  return performance.now() - t0;
}

function box(selector: string): HTMLInputElement {
  return view.el.querySelector(selector) as HTMLInputElement;
}

function toggle(selector: string): number {
  return timed(() => {
    const b = box(selector);
    b.checked = !b.checked;
    b.dispatchEvent(new Event("change"));
  });
}

function search(text: string): number {
  return timed(() => {
    const s = box('input[type="search"]');
    s.value = text;
    s.dispatchEvent(new Event("input"));
  });
}

function pauseButton(): HTMLButtonElement {
  return view.el.querySelector('button[aria-label="Pause event log"]') as HTMLButtonElement;
}

(globalThis as any).bench = {
  feed,
  toggle,
  search,
  pause: () => timed(() => pauseButton().click()),
  resume: () => timed(() => pauseButton().click()),
  rows: () => view.list.children.length,
  shown: () => Number(view.el.dataset.shown),
  arrived: () => Number(view.el.dataset.arrived),
  totalEvents: () => store.totalEvents,
  feedPhases,
  /** Elements in the page (the log is all of it). */
  nodes: () => document.getElementsByTagName("*").length,
};
