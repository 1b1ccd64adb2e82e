/**
 * Live counts of what the front end creates, on `globalThis.__rtwResources` (docs/widget-protocol.md):
 * a leak test opens and closes views many times and expects every count back at zero.
 */
export interface ResourceCounts {
  audioContexts: number;
  mediaStreamTracks: number;
  worklets: number;
  blobUrls: number;
}

export type ResourceKind = keyof ResourceCounts;

export function resources(): ResourceCounts {
  const g = globalThis as unknown as { __rtwResources?: ResourceCounts };
  if (!g.__rtwResources) {
    g.__rtwResources = { audioContexts: 0, mediaStreamTracks: 0, worklets: 0, blobUrls: 0 };
  }
  return g.__rtwResources;
}

/** Count one created resource; returns the function that counts its release (idempotent). */
export function track(kind: ResourceKind, n = 1): () => void {
  resources()[kind] += n;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    resources()[kind] -= n;
  };
}
