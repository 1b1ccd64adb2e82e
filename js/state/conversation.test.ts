import { describe, expect, it } from "vitest";
import { ConversationState } from "./conversation";
import { parseKey, partKey } from "./model";
import { item } from "./test-items";

describe("ConversationState", () => {
  it("applies patches over the items trait and appends unknown items", () => {
    const c = new ConversationState();
    c.resetItems([item("a", "x"), item("b")]);
    c.patch([item("a", "xy"), item("c", "new")], ["b"]);
    expect(c.list().map((i) => [i.id, i.text])).toEqual([
      ["a", "xy"],
      ["c", "new"],
    ]);
  });

  it("lets a trait refresh replace every patch", () => {
    const c = new ConversationState();
    c.patch([item("z")]);
    c.resetItems([item("a")]);
    expect(c.list().map((i) => i.id)).toEqual(["a"]);
  });

  it("keeps the last entries of the log, updating collapsed ones in place", () => {
    const c = new ConversationState(3);
    for (let s = 1; s <= 5; s++) c.patchLog([{ seq: s, time: s, dir: "<", type: "t", count: 1, json: "{}" }]);
    c.patchLog([{ seq: 5, time: 6, dir: "<", type: "t", count: 9, json: "{}" }]);
    expect(c.logList().map((e) => [e.seq, e.count])).toEqual([
      [3, 1],
      [4, 1],
      [5, 9],
    ]);
  });

  it("finds the output of a function call by call id", () => {
    const c = new ConversationState();
    const out = { ...item("o"), type: "function_call_output", tool: { name: "", call_id: "call_1", arguments: "" }, output: "4" };
    c.resetItems([out]);
    expect(c.outputFor("call_1")?.output).toBe("4");
    expect(c.outputFor("call_2")).toBeUndefined();
  });
});

describe("part keys", () => {
  it("round-trip item ids, including ids with colons", () => {
    expect(parseKey(partKey("item:x", 2))).toEqual({ item_id: "item:x", content_index: 2 });
  });
});
