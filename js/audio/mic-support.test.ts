import { describe, expect, it } from "vitest";
import {
  MIC_MESSAGES,
  STILL_WORKS,
  captureError,
  micUnavailable,
  watchPermission,
  type MicEnvironment,
  type PermissionStatusLike,
} from "./mic-support";

const withMic: MicEnvironment = { isSecureContext: true, navigator: { mediaDevices: { getUserMedia: () => {} } } };

describe("micUnavailable (known before asking)", () => {
  it("is null where getUserMedia exists on a secure page", () => {
    expect(micUnavailable(withMic)).toBeNull();
  });
  it("says a page without getUserMedia (VS Code's webview) has no microphone, and what still works", () => {
    for (const navigator of [{}, { mediaDevices: {} }, { mediaDevices: { getUserMedia: "no" } }]) {
      const e = micUnavailable({ isSecureContext: true, navigator });
      expect(e?.code).toBe("no_microphone");
      expect(e?.message).toMatch(/^The microphone is not available here/);
      expect(e?.message).toContain(STILL_WORKS);
      expect(e?.message).toMatch(/VS Code/);
    }
  });
  it("says a plain-http page of another host needs https or localhost", () => {
    const e = micUnavailable({ ...withMic, isSecureContext: false });
    expect(e?.code).toBe("no_secure_context");
    expect(e?.message).toMatch(/https.*localhost/);
    expect(e?.message).toContain(STILL_WORKS);
  });
});

describe("captureError (getUserMedia rejected)", () => {
  it("turns a denial into mic_denied that says typing and playback still work and how to allow", () => {
    for (const name of ["NotAllowedError", "SecurityError"]) {
      const e = captureError(Object.assign(new Error("x"), { name }));
      expect(e.code).toBe("mic_denied");
      expect(e.message).toBe(MIC_MESSAGES.mic_denied);
      expect(e.message).toContain(STILL_WORKS);
      expect(e.message).toMatch(/allow the microphone/);
    }
  });
  it("turns a missing or busy device into no_microphone", () => {
    for (const name of ["NotFoundError", "NotReadableError", "OverconstrainedError"]) {
      const e = captureError({ name });
      expect(e.code).toBe("no_microphone");
      expect(e.message).toContain(STILL_WORKS);
    }
  });
  it("keeps an unknown failure's text", () => {
    const e = captureError(new Error("weird"));
    expect(e.code).toBe("audio_failed");
    expect(e.message).toContain("weird");
    expect(e.message).toContain(STILL_WORKS);
  });
});

describe("watchPermission", () => {
  function permissions(state: string) {
    const status: PermissionStatusLike = { state, onchange: null };
    const asked: string[] = [];
    const env: MicEnvironment = {
      navigator: {
        permissions: {
          query: (d) => {
            asked.push(d.name);
            return Promise.resolve(status);
          },
        },
      },
    };
    return { status, env, asked };
  }

  it("reports the microphone permission now and on each change, until stopped", async () => {
    const { status, env, asked } = permissions("denied");
    const seen: string[] = [];
    const stop = watchPermission((s) => seen.push(s), env);
    await Promise.resolve();
    await Promise.resolve();
    expect(asked).toEqual(["microphone"]);
    expect(seen).toEqual(["denied"]);
    status.state = "granted";
    status.onchange?.call(status, new Event("change"));
    expect(seen).toEqual(["denied", "granted"]);
    stop();
    expect(status.onchange).toBeNull();
  });

  it("reports nothing where the Permissions API is missing or does not know 'microphone'", async () => {
    const seen: string[] = [];
    watchPermission((s) => seen.push(s), {})();
    const env: MicEnvironment = { navigator: { permissions: { query: () => Promise.reject(new TypeError("unknown")) } } };
    watchPermission((s) => seen.push(s), env);
    await new Promise((r) => setTimeout(r, 0));
    expect(seen).toEqual([]);
  });
});
