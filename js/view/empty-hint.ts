/**
 * The one-line hint an empty conversation shows (issue 15): how to start talking, in the words
 * of the real controls (the Mic button reads "● Mic" hands-free and "● Talk" in push-to-talk;
 * the widget connects by itself, so "Connect" is only mentioned when it is not connected).
 */

/** What to do with the microphone button (and the composer) for this turn mode. */
function talk(handsFree: boolean): string {
  return handsFree
    ? "press ● Mic and talk, or type a message below"
    : "hold ● Talk while you speak (or click it to start and stop), or type a message below";
}

/**
 * The hint for an empty conversation; "" when there is nothing useful to say. `mic` false: this
 * page can never capture (VS Code's webview, plain http), so the hint offers typing only.
 */
export function emptyHint(status: string, handsFree: boolean, kernelGone = false, mic = true): string {
  if (kernelGone) return "";
  const action = mic ? talk(handsFree) : "type a message below (answers are spoken)";
  if (status === "connected") return action.charAt(0).toUpperCase() + action.slice(1) + ".";
  if (status === "connecting" || status === "reconnecting") return `Connecting… then ${action}.`;
  return `Press Connect, then ${action}.`;
}
