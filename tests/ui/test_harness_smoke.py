"""The harness itself: JupyterLab starts, the bundled front-end renders, the fake mic speaks.

These run before any widget feature: when they fail, the browser tier's other failures are about
the harness, not the widget.
"""

from __future__ import annotations

import pytest

from tests.helpers import UNIT
from tests.ui.bare_page import BarePageServer

pytestmark = pytest.mark.ui

# An anywidget whose front-end is the package's bundled widget.js, independent of the Python
# widget class (so the harness is testable before and after RealtimeWidget lands).
BUNDLE_WIDGET_CELL = """
import pathlib, anywidget, traitlets
import realtime_widget

class BundleProbe(anywidget.AnyWidget):
    _esm = pathlib.Path(realtime_widget.__file__).parent / "static" / "widget.js"
    note = traitlets.Unicode("from the kernel").tag(sync=True)

probe = BundleProbe()
probe
"""

# Measures the fake microphone from inside any page: peak level, capture rate, device label.
MIC_LEVEL_JS = """async () => {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 2048;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const buf = new Float32Array(analyser.fftSize);
  let peak = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 1500) {
    analyser.getFloatTimeDomainData(buf);
    for (const v of buf) peak = Math.max(peak, Math.abs(v));
    await new Promise((r) => setTimeout(r, 30));
  }
  const label = stream.getAudioTracks()[0].label;
  stream.getTracks().forEach((t) => t.stop());
  await ctx.close();
  return {peak, rate: ctx.sampleRate, label, secure: window.isSecureContext};
}"""


def assert_speech_level(level: dict) -> None:
    """The fake mic played our WAV: speech at -3 dBFS (peak ~0.71), not silence or a beep."""
    assert level["secure"], "127.0.0.1 must be a secure context for getUserMedia"
    assert level["label"] == "Fake Default Audio Input", level
    assert level["peak"] > 0.3, level


def test_fake_microphone_speaks_into_a_bare_localhost_page(chromium_for, artifacts):
    browser = chromium_for("question")
    context = browser.new_context(permissions=["microphone"])
    try:
        with BarePageServer() as pages:
            page = context.new_page()
            page.goto(pages.add("blank.html", "<!doctype html><title>blank</title>"))
            level = page.evaluate(MIC_LEVEL_JS)
            page.screenshot(path=str(artifacts / "mic-page.png"))
    finally:
        context.close()
    assert_speech_level(level)


def test_jupyterlab_runs_a_notebook_that_renders_the_bundled_front_end(open_notebook):
    nb = open_notebook([BUNDLE_WIDGET_CELL])
    view = nb.page.locator(".jp-OutputArea-output").filter(has_text="realtime_widget").first
    # The placeholder front-end writes "realtime_widget"; the real one renders its root element.
    view.or_(nb.page.locator(".rtw-root")).first.wait_for(timeout=30 * UNIT * 1000)
    nb.screenshot("bundle-rendered")
    # The probe reaches the notebook's own namespace (the kernel the page runs).
    assert nb.kernel.value("probe.note") == "from the kernel"
    assert nb.kernel.value("probe.model_id") == nb.page.evaluate(
        "() => { const p = window.jupyterapp.shell.currentWidget;"
        " const out = p.content.widgets[0].model.outputs.toJSON();"
        " return out[0].data['application/vnd.jupyter.widget-view+json'].model_id; }"
    )
    # The fake microphone also works inside JupyterLab's page (same origin rules as the widget).
    assert_speech_level(nb.page.evaluate(MIC_LEVEL_JS))
