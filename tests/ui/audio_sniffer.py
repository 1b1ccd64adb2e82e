"""Time when a page's first audible sample reaches the speakers, whoever plays it.

``AUDIO_SNIFFER_JS`` is an init script: it wraps ``AudioNode.prototype.connect`` so that anything
connected to an ``AudioContext``'s destination is also connected to a small "sniffer"
AudioWorklet in that context. After ``await globalThis.__rtwSniffer.arm()``, the sniffer reports
the first sample above ``THRESHOLD``; ``globalThis.__rtwSniffer.result`` then holds its output time
as epoch milliseconds (``performance.timeOrigin`` plus the context's output timestamp mapping), so
it compares with ``time.time()`` in Python on the same machine.

The same script runs for the widget's player and for a bare page's player, so both paths are
measured at the same point of the audio graph (the destination), output latency included equally.
"""

from __future__ import annotations

THRESHOLD = 1e-4
"""Absolute float sample level counted as sound (PCM16 one LSB is 3e-5)."""

AUDIO_SNIFFER_JS = r"""
(() => {
  if (globalThis.__rtwSniffer) return;
  const source = `
    class RtwSniffer extends AudioWorkletProcessor {
      constructor() {
        super();
        this.armed = false;
        this.port.onmessage = (e) => {
          if (e.data === 'arm') { this.armed = true; this.port.postMessage({armed: true}); }
        };
      }
      process(inputs) {
        if (!this.armed) return true;
        for (const input of inputs) for (const ch of input) for (let i = 0; i < ch.length; i++) {
          if (Math.abs(ch[i]) > __THRESHOLD__) {
            this.armed = false;
            this.port.postMessage({time: currentTime + i / sampleRate});
            return true;
          }
        }
        return true;
      }
    }
    registerProcessor('rtw-sniffer', RtwSniffer);
  `;
  const sniffers = new Map();  // AudioContext -> Promise<AudioWorkletNode>
  const state = {result: null, contexts: 0};
  const createURL = URL.createObjectURL.bind(URL), revokeURL = URL.revokeObjectURL.bind(URL);

  function snifferFor(ctx) {
    if (!sniffers.has(ctx)) {
      const url = createURL(new Blob([source], {type: 'text/javascript'}));
      sniffers.set(ctx, ctx.audioWorklet.addModule(url).then(() => {
        revokeURL(url);
        const node = new AudioWorkletNode(ctx, 'rtw-sniffer', {numberOfOutputs: 0});
        node.port.onmessage = (e) => {
          if (!e.data || e.data.time === undefined) return;
          const ts = ctx.getOutputTimestamp();
          const perf = ts.performanceTime + (e.data.time - ts.contextTime) * 1000;
          state.result = performance.timeOrigin + perf;
        };
        state.contexts += 1;
        return node;
      }));
    }
    return sniffers.get(ctx);
  }

  const connect = AudioNode.prototype.connect;
  AudioNode.prototype.connect = function (dest, ...rest) {
    const out = connect.call(this, dest, ...rest);
    if (dest instanceof AudioDestinationNode) {
      snifferFor(dest.context).then((node) => connect.call(this, node)).catch(() => {});
    }
    return out;
  };

  globalThis.__rtwSniffer = {
    get result() { return state.result; },
    get contexts() { return state.contexts; },
    // Re-arm every sniffer; resolves once each has acknowledged (so nothing earlier counts).
    async arm() {
      state.result = null;
      const nodes = await Promise.all([...sniffers.values()]);
      await Promise.all(nodes.map((node) => new Promise((resolve) => {
        const prev = node.port.onmessage;
        node.port.onmessage = (e) => {
          if (e.data && e.data.armed) { node.port.onmessage = prev; resolve(); } else prev(e);
        };
        node.port.postMessage('arm');
      })));
      return nodes.length;
    },
  };
})();
""".replace("__THRESHOLD__", repr(THRESHOLD))
