/** What an alert says: the error's message, and how often it happened when more than once. */
import type { ErrorEntry } from "../state/model";

/**
 * The kernel lists a repeated error once, with `count` (pressing Connect again against the same
 * wrong key): one alert per distinct failure, saying it happened again rather than stacking.
 */
export function alertText(e: ErrorEntry): string {
  const count = typeof e.count === "number" && e.count > 1 ? e.count : 1;
  return count > 1 ? `${e.message} (${count} times)` : e.message;
}
