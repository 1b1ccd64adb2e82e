"""The accessibility audit's tools (issue 15, point 10): axe-core in the page, and a keyboard walk.

- ``audit(page, root)`` injects axe-core (the npm devDependency, ``node_modules/axe-core``) into
  the page once and runs it scoped to one widget view's root element; it returns the violations
  as plain dicts (rule, impact, help, the offending nodes).
- ``controls(root)`` lists a view's keyboard controls *from the DOM* (buttons, inputs, selects,
  text areas, summaries, links, ``[tabindex]``; visible and enabled), so a control added later is
  audited without touching the tests.
- ``FocusProbe`` reads what Chromium itself computes for the focused element: its accessible
  role and name (DevTools protocol ``Accessibility.getPartialAXTree``, what a screen reader gets)
  and its style with and without focus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.helpers import require

REPO = Path(__file__).resolve().parents[2]
AXE_JS = REPO / "node_modules" / "axe-core" / "axe.min.js"
"""axe-core's browser bundle, installed by ``npm install`` (package.json's devDependencies)."""


def require_axe() -> None:
    """Skip (fail under CI) when axe-core is not installed."""
    require(AXE_JS.exists(), f"axe-core ({AXE_JS.relative_to(REPO)}): run `npm install`")


# Every WCAG 2.0-2.2 A/AA rule and axe's best practices (``runOnly`` by tag also turns on WCAG
# 2.2's target-size, which axe leaves off by default). "incomplete" lists what axe could not
# decide and asks a human to review (e.g. aria-label on an element whose role does not support
# it); the audit treats those as findings too.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
_RUN_AXE_JS = """async ([root, tags]) => {
  const r = await window.axe.run(root, {runOnly: {type: 'tag', values: tags}});
  const nodes = (v) => v.nodes.map((n) => ({target: n.target.join(' '),
    html: n.html.slice(0, 240), summary: (n.failureSummary || '').slice(0, 400)}));
  const found = (list) => list.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: nodes(v)}));
  return {version: window.axe.version, violations: found(r.violations),
    incomplete: found(r.incomplete),
    passes: Object.fromEntries(r.passes.map((v) => [v.id, v.nodes.length]))};
}"""


def audit(page, root) -> dict[str, Any]:
    """Run axe-core on ``root`` (a locator of one view's ``.rtw-root``).

    Returns:
        ``{"version", "violations": [{"id", "impact", "help", "nodes": [...]}], "incomplete"
        (same shape), "passes": {rule: nodes}}``.
    """
    require_axe()
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE_JS))
    return root.page.evaluate(_RUN_AXE_JS, [root.element_handle(), TAGS])


# What counts as a control: everything the keyboard can reach or a user can operate. Visible
# (content of a closed <details> is not), enabled, not taken out of the tab order.
CONTROLS_JS = """(root) => [...root.querySelectorAll(
    'button, input:not([type=hidden]), select, textarea, summary, a[href], [tabindex],'
    + ' [contenteditable]:not([contenteditable=false])')]
  .filter((el) => !el.matches(':disabled') && el.tabIndex >= 0
    && el.checkVisibility({visibilityProperty: true}) && !el.closest('[inert]'))"""

# One line a human can read in a failure message.
_DESCRIBE_JS = """(el) => {
  const label = el.getAttribute('aria-label');
  const role = el.getAttribute('role');
  const words = (el.innerText || el.value || '').trim().slice(0, 40);
  return `<${el.tagName.toLowerCase()}${role ? ` role=${role}` : ''}`
    + `${label ? ` aria-label="${label}"` : ''}>${words}`;
}"""

# The style a focus indicator changes: outline, box-shadow, border colour, background.
_STYLE_JS = """(el) => { const s = getComputedStyle(el);
  return {outline: s.outlineStyle === 'none' ? 'none'
      : `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
    outlineWidth: parseFloat(s.outlineWidth) || 0, outlineStyle: s.outlineStyle,
    outlineColor: s.outlineColor, shadow: s.boxShadow, border: s.borderColor,
    background: s.backgroundColor}; }"""

# Contrast of the focus ring's colour with what it is drawn on (the parent's effective
# background; the ring sits outside the element): WCAG 2.2's 3:1 for non-text indicators.
_RING_CONTRAST_JS = """(el) => {
  const ctx = new OffscreenCanvas(1, 1).getContext('2d', {willReadFrequently: true});
  const rgba = (css) => { ctx.clearRect(0, 0, 1, 1); ctx.fillStyle = '#000'; ctx.fillStyle = css;
    ctx.fillRect(0, 0, 1, 1); return ctx.getImageData(0, 0, 1, 1).data; };
  const lum = ([r, g, b]) => [r, g, b].map((v) => v / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((acc, c, i) => acc + c * [0.2126, 0.7152, 0.0722][i], 0);
  let node = el.parentElement, bg = [255, 255, 255, 255];
  while (node && node.nodeType === 1) {
    const c = rgba(getComputedStyle(node).backgroundColor);
    if (c[3] > 128) { bg = c; break; }
    node = node.parentElement;
  }
  const a = lum(rgba(getComputedStyle(el).outlineColor)), b = lum(bg);
  return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
}"""


def controls(root) -> list[str]:
    """Descriptions of the view's controls in DOM order (``CONTROLS_JS``)."""
    return root.evaluate(f"(root) => ({CONTROLS_JS})(root).map({_DESCRIBE_JS})")


class FocusProbe:
    """What Chromium computes for the focused element of one page.

    Args:
        page: a Playwright page (Chromium: the probe opens a DevTools protocol session).
        root: locator of the view's ``.rtw-root``.
    """

    def __init__(self, page, root) -> None:
        self.page = page
        self.root = root
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Accessibility.enable")
        # The controls, listed once per walk and kept in the page so that indices stay stable.
        root.evaluate(f"(root) => {{ window.__rtwControls = ({CONTROLS_JS})(root); }}")

    def count(self) -> int:
        """How many controls the DOM lists."""
        return self.page.evaluate("() => window.__rtwControls.length")

    def describe(self, index: int) -> str:
        """One control's description."""
        return self.page.evaluate(f"(i) => ({_DESCRIBE_JS})(window.__rtwControls[i])", index)

    def focus(self, index: int) -> None:
        """Focus a control from script."""
        self.page.evaluate("(i) => window.__rtwControls[i].focus()", index)

    def active(self) -> dict[str, Any]:
        """The focused element: inside the view?, its index among the controls, a description,
        whether it matches ``:focus-visible``, its style and its ring's contrast."""
        return self.root.evaluate(
            f"""(root) => {{
              const el = document.activeElement;
              return {{inside: root.contains(el) && el !== root,
                index: window.__rtwControls.indexOf(el), what: ({_DESCRIBE_JS})(el),
                focusVisible: el.matches(':focus-visible'), style: ({_STYLE_JS})(el),
                ring: ({_RING_CONTRAST_JS})(el)}}; }}"""
        )

    def style(self, index: int) -> dict[str, Any]:
        """A control's computed style now (to compare focused with unfocused)."""
        return self.page.evaluate(f"(i) => ({_STYLE_JS})(window.__rtwControls[i])", index)

    def accessible(self) -> tuple[str, str]:
        """The focused element's role and accessible name, as Chromium's accessibility tree has
        them (what a screen reader announces)."""
        found = self.cdp.send("Runtime.evaluate", {"expression": "document.activeElement"})
        object_id = found["result"]["objectId"]
        try:
            tree = self.cdp.send(
                "Accessibility.getPartialAXTree", {"objectId": object_id, "fetchRelatives": False}
            )
        finally:
            self.cdp.send("Runtime.releaseObject", {"objectId": object_id})
        node = tree["nodes"][0]
        role = (node.get("role") or {}).get("value", "")
        name = (node.get("name") or {}).get("value", "")
        return str(role), str(name).strip()

    def close(self) -> None:
        """Detach the DevTools session."""
        self.cdp.detach()


def focus_changed(focused: dict[str, Any], unfocused: dict[str, Any]) -> bool:
    """Whether focus visibly changes the element: an outline (>= 1px) or box-shadow that the
    unfocused element does not have."""
    ring = focused["outlineStyle"] != "none" and focused["outlineWidth"] >= 1
    outline = ring and focused["outline"] != unfocused["outline"]
    return outline or focused["shadow"] != unfocused["shadow"]
