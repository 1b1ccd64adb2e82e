import { LogStore } from "./event-log";
import type { ItemView, LogEntry } from "./model";

/**
 * The conversation as the views show it: the `items` trait with frame patches applied on top.
 *
 * The trait is refreshed at a low rate; patches carry each changed item in between, so a streamed
 * delta costs the size of one item (DESIGN §5). A trait refresh replaces everything, since it is
 * newer than every patch sent before it on the same comm.
 */
export class ConversationState {
  items: Map<string, ItemView> = new Map();
  /** The event log, bounded like the kernel's (500 entries), shared by every view. */
  log: LogStore;

  constructor(logLimit = 500) {
    this.log = new LogStore(logLimit);
  }

  /** Replace everything with a full `items` trait value. */
  resetItems(items: ItemView[]): void {
    this.items = new Map(items.map((i) => [i.id, i]));
  }

  /** Apply frame patches (an unknown id is appended) and removals. */
  patch(items: ItemView[], removed: string[] = []): void {
    for (const item of items) this.items.set(item.id, item);
    for (const id of removed) this.items.delete(id);
  }

  /** Items in order. */
  list(): ItemView[] {
    return Array.from(this.items.values());
  }

  /** The output item answering a function call, if any. */
  outputFor(callId: string): ItemView | undefined {
    for (const item of this.items.values()) {
      if (item.type === "function_call_output" && item.tool?.call_id === callId) return item;
    }
    return undefined;
  }

  resetLog(entries: LogEntry[]): void {
    this.log.reset(entries);
  }

  /** New or updated (folded) log entries; keeps the last `log.limit`. */
  patchLog(entries: LogEntry[]): void {
    this.log.patch(entries);
  }

  logList(): LogEntry[] {
    return this.log.list();
  }
}
