/**
 * Whether this page can have a microphone, and what the widget says when it cannot (issue 15).
 *
 * anywidget runs the same front end in JupyterLab, Notebook 7, marimo, Voilà, VS Code and Colab.
 * Some of them give no microphone: VS Code's notebook webview has no usable getUserMedia, a page
 * served over plain http from another host is not a secure context, a user may block the
 * permission. Typed messages and the spoken answers still work in all of them, and every message
 * here says so, then what to do to talk.
 */

export type CaptureErrorCode = "mic_denied" | "no_secure_context" | "no_microphone" | "audio_failed";

/** A capture failure with a code the kernel understands and a message saying what to do. */
export class CaptureError extends Error {
  code: CaptureErrorCode;
  constructor(code: CaptureErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/** What still works without a microphone: part of every message below. */
export const STILL_WORKS = "Typed messages and playback still work: type below, answers are spoken.";

const UNAVAILABLE = "The microphone is not available here";

export const MIC_MESSAGES: Record<CaptureErrorCode, string> = {
  no_microphone:
    `${UNAVAILABLE}: this page offers no microphone access (VS Code's notebook view, for one). ` +
    `${STILL_WORKS} To talk, open the notebook in JupyterLab, Notebook 7, marimo or Voilà in a browser.`,
  no_secure_context:
    `${UNAVAILABLE}: browsers allow it only on https:// or http://localhost pages. ` +
    `${STILL_WORKS} To talk, open this page through https or localhost.`,
  mic_denied:
    `${UNAVAILABLE}: permission was denied. ${STILL_WORKS} To talk, allow the microphone for this ` +
    "page in the browser's site settings, then press the microphone button again (VS Code's " +
    "notebook view never allows it: open the notebook in a browser).",
  audio_failed: `The microphone could not start. ${STILL_WORKS}`,
};

/** Codes that mean "no microphone here until the user changes something" (not a one-off). */
export const UNAVAILABLE_CODES: ReadonlySet<string> = new Set(["no_microphone", "no_secure_context", "mic_denied"]);

/** The parts of the browser this module reads (globalThis in the widget; a stand-in in tests). */
export interface MicEnvironment {
  isSecureContext?: boolean;
  navigator?: {
    mediaDevices?: { getUserMedia?: unknown };
    permissions?: { query?(d: { name: string }): Promise<PermissionStatusLike> };
  };
}

export interface PermissionStatusLike {
  state: string;
  onchange: ((this: unknown, ev: Event) => unknown) | null;
}

/**
 * Why this page can never capture, known before asking (no API, not a secure context), or null
 * when getUserMedia may work. A denied permission is found by asking, or by `watchPermission`.
 */
export function micUnavailable(env: MicEnvironment = globalThis as MicEnvironment): CaptureError | null {
  if (!env.isSecureContext) return new CaptureError("no_secure_context", MIC_MESSAGES.no_secure_context);
  if (typeof env.navigator?.mediaDevices?.getUserMedia !== "function") {
    return new CaptureError("no_microphone", MIC_MESSAGES.no_microphone);
  }
  return null;
}

/** Explain a getUserMedia failure in the user's terms. */
export function captureError(err: unknown): CaptureError {
  const name = (err as { name?: string })?.name ?? "";
  if (name === "NotAllowedError" || name === "SecurityError") {
    return new CaptureError("mic_denied", MIC_MESSAGES.mic_denied);
  }
  if (name === "NotFoundError" || name === "OverconstrainedError" || name === "NotReadableError") {
    return new CaptureError(
      "no_microphone",
      `${UNAVAILABLE}: no usable microphone was found (none plugged in, or another app holds it). ` +
        `${STILL_WORKS} To talk, connect a microphone and press the microphone button again.`,
    );
  }
  return new CaptureError("audio_failed", `The microphone could not start (${String(err)}). ${STILL_WORKS}`);
}

/**
 * Follow the microphone permission where the Permissions API reports it (Chromium does; some
 * browsers and webviews do not, and then nothing is reported): `onState("denied" | "granted" |
 * "prompt")` now and on every change. Returns a function that stops watching.
 */
export function watchPermission(
  onState: (state: string) => void,
  env: MicEnvironment = globalThis as MicEnvironment,
): () => void {
  let status: PermissionStatusLike | null = null;
  let stopped = false;
  const query = env.navigator?.permissions?.query;
  if (typeof query !== "function") return () => {};
  // "microphone" is not a standard permission name everywhere: a rejection means "not reported".
  query
    .call(env.navigator!.permissions, { name: "microphone" })
    .then((s) => {
      if (stopped) return;
      status = s;
      onState(s.state);
      s.onchange = () => onState(s.state);
    })
    .catch(() => {});
  return () => {
    stopped = true;
    if (status) status.onchange = null;
  };
}
