"""Count the audio resources a page holds, independently of the widget's own counters.

``RESOURCE_PROBE_JS`` is an init script (``context.add_init_script``) that runs before any page
script and wraps the constructors and calls that create or release what a widget view must give
back when it closes: AudioContexts, microphone MediaStreamTracks, AudioWorkletNodes and Blob URLs.
``globalThis.__rtwProbe()`` then returns live and created counts. "Live" is read from the
browser's own state where it has one (``AudioContext.state``, ``MediaStreamTrack.readyState``), so
a wrapper the widget bypasses cannot hide a leak.
"""

from __future__ import annotations

RESOURCE_PROBE_JS = r"""
(() => {
  if (globalThis.__rtwProbe) return;
  const contexts = new Set(), tracks = new Set(), worklets = [], blobUrls = new Set();
  const created = {audioContexts: 0, mediaStreamTracks: 0, worklets: 0, blobUrls: 0};

  const wrapContext = (Base) => Base && class extends Base {
    constructor(...args) { super(...args); contexts.add(this); created.audioContexts += 1; }
  };
  if (globalThis.AudioContext) globalThis.AudioContext = wrapContext(globalThis.AudioContext);
  if (globalThis.webkitAudioContext) globalThis.webkitAudioContext = globalThis.AudioContext;

  if (globalThis.AudioWorkletNode) {
    const Base = globalThis.AudioWorkletNode;
    globalThis.AudioWorkletNode = class extends Base {
      constructor(...args) { super(...args); worklets.push(this); created.worklets += 1; }
    };
  }

  const keep = (stream) => {
    for (const t of stream.getTracks()) { tracks.add(t); created.mediaStreamTracks += 1; }
    return stream;
  };
  if (globalThis.MediaDevices) {
    const gum = MediaDevices.prototype.getUserMedia;
    MediaDevices.prototype.getUserMedia = function (c) { return gum.call(this, c).then(keep); };
  }
  if (globalThis.MediaStreamTrack) {
    const clone = MediaStreamTrack.prototype.clone;
    MediaStreamTrack.prototype.clone = function () {
      const t = clone.call(this); tracks.add(t); created.mediaStreamTracks += 1; return t;
    };
  }

  const createURL = URL.createObjectURL, revokeURL = URL.revokeObjectURL;
  URL.createObjectURL = function (obj) {
    const url = createURL.call(URL, obj); blobUrls.add(url); created.blobUrls += 1; return url;
  };
  URL.revokeObjectURL = function (url) { blobUrls.delete(url); return revokeURL.call(URL, url); };

  globalThis.__rtwProbe = () => ({
    live: {
      audioContexts: [...contexts].filter((c) => c.state !== 'closed').length,
      mediaStreamTracks: [...tracks].filter((t) => t.readyState === 'live').length,
      // A worklet node is released with its context (there is no other way to end one).
      worklets: worklets.filter((n) => n.context.state !== 'closed').length,
      blobUrls: blobUrls.size,
    },
    created: {...created},
  });
})();
"""

PROBE_JS = "() => globalThis.__rtwProbe()"
"""Evaluate in a page that ran ``RESOURCE_PROBE_JS``: ``{"live": {...}, "created": {...}}``."""

WIDGET_COUNTS_JS = "() => globalThis.__rtwResources ? {...globalThis.__rtwResources} : null"
"""The widget's own live counts (docs/widget-protocol.md), or null when it keeps none."""

RESOURCE_KINDS = ("audioContexts", "mediaStreamTracks", "worklets", "blobUrls")
