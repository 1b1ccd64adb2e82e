"""The widget follows JupyterLab's light and dark themes (its CSS uses JupyterLab's variables)."""

from __future__ import annotations

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"

# Relative luminance of an element's text colour and of its effective background (the first
# non-transparent background up its ancestors), 0 = black, 1 = white.
LUMINANCE_JS = """(el) => {
  // Any CSS colour syntax (rgb, oklch, color-mix results...) -> sRGB bytes, via a 1x1 canvas.
  const ctx = new OffscreenCanvas(1, 1).getContext('2d', {willReadFrequently: true});
  const rgba = (css) => {
    ctx.clearRect(0, 0, 1, 1);
    ctx.fillStyle = '#000';
    ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1);
    return ctx.getImageData(0, 0, 1, 1).data;
  };
  const lum = ([r, g, b]) => [r, g, b].map((v) => v / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((acc, c, i) => acc + c * [0.2126, 0.7152, 0.0722][i], 0);
  let node = el, bg = [255, 255, 255, 255];
  while (node && node.nodeType === 1) {
    const c = rgba(getComputedStyle(node).backgroundColor);
    if (c[3] > 128) { bg = c; break; }
    node = node.parentElement;
  }
  const styles = {color: getComputedStyle(el).color, background: String(bg)};
  return {text: lum(rgba(getComputedStyle(el).color)), background: lum(bg), styles};
}"""


def _theme(nb, name: str) -> None:
    nb.page.evaluate(
        "(theme) => window.jupyterapp.commands.execute('apputils:change-theme', {theme})", name
    )
    nb.page.wait_for_function(
        "(dark) => document.body.dataset.jpThemeLight === (dark ? 'false' : 'true')",
        arg=name.endswith("Dark"),
        timeout=20 * UNIT * 1000,
    )


def test_widget_text_and_background_follow_the_light_and_dark_themes(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message("what colour am I")
    turn = view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    parts = {
        "conversation": view.conversation,
        "turn": turn,
        "message box": view.control("textbox", "Message"),
    }

    _theme(nb, "JupyterLab Light")
    nb.screenshot("light-theme")
    light = {k: loc.evaluate(LUMINANCE_JS) for k, loc in parts.items()}
    _theme(nb, "JupyterLab Dark")
    nb.page.wait_for_timeout(300)  # let the theme's stylesheet apply before measuring
    nb.screenshot("dark-theme")
    dark = {k: loc.evaluate(LUMINANCE_JS) for k, loc in parts.items()}
    _theme(nb, "JupyterLab Light")  # the server's settings outlive this test

    for part in parts:
        assert light[part]["background"] > 0.5 > light[part]["text"], (part, light[part])
        assert dark[part]["background"] < 0.5 < dark[part]["text"], (part, dark[part])
