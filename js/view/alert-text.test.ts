import { describe, expect, it } from "vitest";
import { alertText } from "./alert-text";

const entry = { time: 1, source: "connection", code: "RealtimeConnectionError", message: "refused" };

describe("alertText", () => {
  it("shows the message alone for an error seen once", () => {
    expect(alertText(entry)).toBe("refused");
    expect(alertText({ ...entry, count: 1 })).toBe("refused");
  });

  it("says how often a repeated error happened", () => {
    expect(alertText({ ...entry, count: 3 })).toBe("refused (3 times)");
  });

  it("ignores a count that is not a number", () => {
    expect(alertText({ ...entry, count: "2" as unknown as number })).toBe("refused");
  });
});
