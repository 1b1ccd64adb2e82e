"""The accessibility audit of every control (issue 15, point 10), in Chromium on JupyterLab.

1. axe-core (a real, maintained engine: the npm devDependency) runs scoped to the widget's root in
   each of its states -- disconnected, connected idle, listening, the assistant speaking, a tool
   card expanded to its traceback, an error alert, the event log open and filtered, settings open
   with a refused field, the transcribe and translate modes -- in JupyterLab's light and dark
   themes. Each state and theme leaves a screenshot and ``axe.json`` in the test's artifacts.
2. The keyboard alone: from the widget's first control, Tab reaches every control the DOM lists
   (so a control added later is audited too), each with a visible focus indicator and an
   accessible name as Chromium's accessibility tree computes it; every button and summary answers
   Enter and Space; Escape closes an open panel and gives the focus back to its opener.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import UNIT
from tests.ui.accessibility import FocusProbe, audit, controls, focus_changed, require_axe
from tests.ui.test_widget_theme import _theme

pytestmark = pytest.mark.ui

LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"

# Rules whose findings the audit accepts, with the reason. Empty: every WCAG 2.0-2.2 A/AA rule
# and best practice (tests/ui/accessibility.py's TAGS), at every impact, passes, and axe leaves
# nothing to review.
ALLOWED: dict[str, str] = {}

TOOLS = '''
@w.tool
def get_weather(city: str) -> str:
    """Today's weather in a city."""
    raise ValueError(f"city not found: {city}")

@w.tool(requires_approval=True)
def delete_file(path: str) -> str:
    """Delete a file (asks the user first)."""
    return f"deleted {path}"
'''

CONVERSATION_CELL = (
    "from realtime_widget import RealtimeWidget\nw = RealtimeWidget(autoconnect=False)\n"
    + TOOLS
    + "w"
)

# Every kind of control at once: an answer with audio (Replay), a failing tool (its traceback),
# a tool awaiting approval, MCP cards and the MCP tools list (the demo MCP server in the kernel).
RICH_CELL = (
    "from realtime_widget import RealtimeWidget\n"
    "from realtime_widget.testing.mcp_demo import DemoMCPServer\n"
    "demo = DemoMCPServer()\nurl = demo.start()\nw = RealtimeWidget()\n"
    "w.client.add_tool({'type': 'mcp', 'server_label': 'demo', 'server_url': url,\n"
    "                   'require_approval': {'never': {'tool_names': ['add']}}})\n" + TOOLS + "w"
)

# Long enough that its spoken echo lasts while both themes are audited.
LONG_MESSAGE = (
    "please read this long sentence back to me slowly so that the assistant keeps speaking "
    "while the audit looks at every part of the widget in the light and in the dark theme"
)


def _ms(seconds: float) -> float:
    return seconds * 1000


class Audit:
    """Audits one view state by state, alternating themes; keeps screenshots and findings."""

    def __init__(self, nb, view) -> None:
        self.nb, self.view = nb, view
        self.theme = LIGHT
        self.findings: dict[str, dict[str, dict]] = {}
        self.shots = 0

    def state(self, name: str) -> None:
        """Audit the view as it is now, in the current theme and then the other one."""
        for theme in (self.theme, DARK if self.theme == LIGHT else LIGHT):
            if theme != self.theme:
                _theme(self.nb, theme)
                self.nb.page.wait_for_timeout(300)  # the theme's stylesheet applies
                self.theme = theme
            slug = "dark" if theme == DARK else "light"
            self.shots += 1
            self.view.root.screenshot(
                path=str(self.nb.artifacts / f"{self.shots:02d}-{name}-{slug}.png")
            )
            self.findings.setdefault(name, {})[slug] = audit(self.nb.page, self.view.root)

    def save(self) -> None:
        """``axe.json``: per state and theme, the violations (and undecided checks)."""
        (self.nb.artifacts / "axe.json").write_text(json.dumps(self.findings, indent=1))

    def restore(self) -> None:
        """The server's theme setting outlives the test: back to light."""
        if self.theme != LIGHT:
            _theme(self.nb, LIGHT)
            self.theme = LIGHT

    def violations(self) -> list[str]:
        """One line per (state, theme, rule) the audit does not allow: axe's violations and
        what it asks to review ("incomplete"), at every impact."""
        lines = []
        for state, themes in self.findings.items():
            for theme, result in themes.items():
                for kind in ("violations", "incomplete"):
                    for v in result[kind]:
                        if v["id"] in ALLOWED:
                            continue
                        nodes = "; ".join(f"{n['target']} {n['summary']}" for n in v["nodes"][:4])
                        lines.append(
                            f"{state}/{theme}: {kind} {v['id']} ({v['impact']},"
                            f" {len(v['nodes'])} nodes): {v['help']} -- {nodes}"
                        )
        return lines


def test_every_state_of_a_conversation_passes_axe_in_light_and_dark_themes(open_notebook):
    require_axe()
    nb = open_notebook([CONVERSATION_CELL], wav="silence")
    view = nb.wait_widget()
    run = Audit(nb, view)
    try:
        view.wait_status("disconnected")
        run.state("disconnected")

        view.control("button", "Connect").click()
        view.wait_status("connected")
        run.state("connected-idle")

        view.listen_hands_free()
        run.state("listening")

        played = view.data_int("played-samples")
        view.send_message(LONG_MESSAGE)
        view.wait_data_at_least("played-samples", played + 2400, timeout=30 * UNIT)
        run.state("assistant-speaking")
        view.wait_turn("assistant", text="You said", timeout=60 * UNIT)

        view.send_message('call get_weather with {"city": "Atlantis"}')
        card = view.conversation.locator('[data-call-id][data-tool-state="error"]')
        card.first.wait_for(timeout=_ms(30 * UNIT))
        card.first.locator("summary", has_text="Traceback").click()
        card.first.get_by_label("Traceback", exact=True).wait_for(timeout=_ms(5 * UNIT))
        view.send_message('call delete_file with {"path": "notes.txt"}')
        view.conversation.get_by_role("button", name="Approve", exact=True).wait_for(
            timeout=_ms(30 * UNIT)
        )
        run.state("tool-traceback")

        # A server error: deleting an item the conversation does not have.
        nb.kernel.run(
            "w.client.realtime.send('conversation.item.delete', {'item_id': 'item_missing'})"
        )
        view.alerts.first.wait_for(timeout=_ms(15 * UNIT))
        run.state("error-alert")

        view.root.get_by_label("Event log", exact=True).click()
        log = view.root.locator(".rtw-log")
        log.locator(".rtw-log-list > li").nth(3).wait_for(timeout=_ms(10 * UNIT))
        log.get_by_role("checkbox", name="response.*", exact=True).uncheck()
        log.locator(".rtw-log-list > li:not([hidden]) summary").first.click()
        run.state("event-log-filtered")

        view.root.locator("summary", has_text="Settings").click()
        threshold = view.control("spinbutton", "VAD threshold")
        threshold.fill("5")
        threshold.press("Tab")
        view.root.locator('[data-note="turn_detection"][data-kind="refused"]').wait_for(
            timeout=_ms(15 * UNIT)
        )
        run.state("settings-refused")
    finally:
        run.restore()
        run.save()
    problems = run.violations()
    assert not problems, "axe-core violations:\n" + "\n".join(problems)


@pytest.mark.parametrize("mode", ["transcribe", "translate"])
def test_caption_modes_pass_axe_in_light_and_dark_themes(open_notebook, mode):
    require_axe()
    language = ", language='fr'" if mode == "translate" else ""
    cell = "from realtime_widget import RealtimeWidget\n"
    cell += f"w = RealtimeWidget(mode={mode!r}{language})\nw"
    nb = open_notebook(
        [cell],
        wav="question",
    )
    view = nb.wait_widget()
    run = Audit(nb, view)
    try:
        view.wait_status("connected")
        view.listen_hands_free()
        if mode == "translate":
            translation = view.conversation.locator(".rtw-caption-pair .rtw-caption-translation")
            translation.filter(has_text="[fr]").first.wait_for(timeout=_ms(60 * UNIT))
        else:
            final = view.conversation.locator('.rtw-caption[data-caption="final"]').first
            final.wait_for(timeout=_ms(60 * UNIT))
        run.state(mode)
    finally:
        run.restore()
        run.save()
    problems = run.violations()
    assert not problems, "axe-core violations:\n" + "\n".join(problems)


def _rich_view(open_notebook):
    """A connected view showing every kind of control, with its panels open."""
    nb = open_notebook([RICH_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message("hello there")
    view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    view.conversation.get_by_role("button", name="Replay").first.wait_for(timeout=_ms(20 * UNIT))
    view.send_message('call get_weather with {"city": "Atlantis"}')
    failed = view.conversation.locator('[data-call-id][data-tool-state="error"]').first
    failed.wait_for(timeout=_ms(30 * UNIT))
    failed.locator("summary", has_text="Traceback").click()
    view.send_message('call add with {"a": 2, "b": 3}')
    view.conversation.locator("[data-mcp-type='mcp_call']").first.wait_for(timeout=_ms(30 * UNIT))
    view.wait_turn("assistant", text="add returned 5", timeout=30 * UNIT)
    view.send_message('call delete_file with {"path": "notes.txt"}')
    view.conversation.get_by_role("button", name="Approve", exact=True).wait_for(
        timeout=_ms(30 * UNIT)
    )
    view.root.locator("summary[aria-label='MCP tools']").wait_for(timeout=_ms(20 * UNIT))
    for panel in ("MCP tools", "Settings", "Event log"):
        view.root.locator(f"summary[aria-label='{panel}']").click()
    view.root.locator(".rtw-log-list > li").nth(3).wait_for(timeout=_ms(10 * UNIT))
    return nb, view


def _walk(nb, probe: FocusProbe) -> tuple[set[int], list[str], list[str]]:
    """Tab from the first control until the focus leaves the view.

    Returns:
        (indices of the controls reached, one line per stop, one line per problem).
    """
    probe.focus(0)
    nb.page.keyboard.press("Shift+Tab")  # leave, then come back by keyboard (a keyboard focus)
    nb.page.keyboard.press("Tab")
    reached: set[int] = set()
    stops: list[str] = []
    problems: list[str] = []
    previous = None
    for _ in range(probe.count() + 40):
        now = probe.active()
        if previous is not None and previous["index"] >= 0:
            unfocused = probe.style(previous["index"])
            if not focus_changed(previous["style"], unfocused):
                problems.append(f"no visible focus change: {previous['what']} {unfocused}")
        if not now["inside"]:
            break
        role, name = probe.accessible()
        stops.append(f"{now['index']:3d} {role:12s} {name!r:40s} {now['what']}")
        if now["index"] >= 0:
            reached.add(now["index"])
        if not name:
            problems.append(f"no accessible name: {now['what']} (role {role})")
        if not now["focusVisible"]:
            problems.append(f"not :focus-visible after Tab: {now['what']}")
        style = now["style"]
        if style["outlineStyle"] not in ("none", "auto") and now["ring"] < 3:
            problems.append(f"focus ring contrast {now['ring']:.2f} < 3: {now['what']} {style}")
        previous = now
        nb.page.keyboard.press("Tab")
    else:
        problems.append("the focus never left the view (a keyboard trap?)")
    return reached, stops, problems


def test_tab_reaches_every_control_with_a_visible_focus_and_a_name(open_notebook):
    nb, view = _rich_view(open_notebook)
    listed = controls(view.root)
    probe = FocusProbe(nb.page, view.root)
    report: dict[str, object] = {"controls": listed}
    problems: list[str] = []
    try:
        for theme in (LIGHT, DARK):
            _theme(nb, theme)
            nb.page.wait_for_timeout(300)
            reached, stops, found = _walk(nb, probe)
            slug = "dark" if theme == DARK else "light"
            report[slug] = stops
            nb.page.keyboard.press("Shift+Tab")  # the last control, focused, in the shot
            view.root.screenshot(path=str(nb.artifacts / f"keyboard-{slug}.png"))
            missed = [listed[i] for i in range(len(listed)) if i not in reached]
            problems += [f"{slug}: {p}" for p in found]
            problems += [f"{slug}: never reached by Tab: {m}" for m in missed]
    finally:
        _theme(nb, LIGHT)
        probe.close()
        (nb.artifacts / "keyboard.json").write_text(json.dumps(report, indent=1))
    # Every kind of control was there to be audited.
    kinds = " ".join(listed)
    for expected in (
        "Replay",
        "Approve",
        "Deny",
        "Traceback",
        "MCP tool",
        "VAD threshold",
        "Search events",
        "Pause event log",
        "Send",
        "Hands-free",
    ):
        assert expected in kinds, (expected, listed)
    assert not problems, "\n".join(problems)


BUTTONS_JS = """() => window.__rtwControls.map((el, i) => [i, el]).filter(([, el]) =>
  el.matches('button, summary') && !el.matches('.rtw-mic')).map(([i]) => i)"""
BLOCK_CLICKS_JS = """(root) => {
  // Records the click a key press makes, and stops it before the widget's own handlers: the
  // test checks that the key activates the control, without disconnecting or downloading.
  window.__rtwClicks = [];
  window.__rtwBlock = (e) => { window.__rtwClicks.push(e.target.closest('button, summary'));
    e.preventDefault(); e.stopImmediatePropagation(); };
  root.addEventListener('click', window.__rtwBlock, true);
}"""
CLICKED_JS = """(i) => window.__rtwClicks.length === 1
  && window.__rtwClicks[0] === window.__rtwControls[i]"""
PANELS_JS = """(root) => {
  // Every disclosure panel whose opener is visible; of the event log's rows, the first.
  const all = [...root.querySelectorAll('details')]
    .filter((d) => d.querySelector(':scope > summary').checkVisibility());
  const rows = all.filter((d) => d.closest('.rtw-log-list'));
  return all.filter((d) => !d.closest('.rtw-log-list') || d === rows[0]).reverse()
    .map((d) => { window.__rtwPanels = [...(window.__rtwPanels || []), d];
      return window.__rtwPanels.length - 1; });
}"""


def test_every_button_answers_enter_and_space_and_escape_closes_its_panel(open_notebook):
    nb, view = _rich_view(open_notebook)
    probe = FocusProbe(nb.page, view.root)
    problems: list[str] = []
    try:
        buttons = nb.page.evaluate(BUTTONS_JS)
        assert len(buttons) > 10, buttons
        view.root.evaluate(BLOCK_CLICKS_JS)
        for i in buttons:
            for key in ("Enter", "Space"):
                nb.page.evaluate("() => { window.__rtwClicks = []; }")
                probe.focus(i)
                nb.page.keyboard.press(key)
                if not nb.page.evaluate(CLICKED_JS, i):
                    problems.append(f"{key} does not activate {probe.describe(i)}")
        view.root.evaluate("(root) => root.removeEventListener('click', window.__rtwBlock, true)")

        # The Microphone handles its keys itself (hold to talk): in hands-free they toggle it.
        view.set_hands_free(True)
        mic = view.control("button", "Microphone")
        mic.focus()
        nb.page.keyboard.press("Enter")
        view.wait_pressed(True)
        nb.page.keyboard.press("Space")
        view.wait_pressed(False)

        # Escape in an open panel closes it and puts the focus back on its summary.
        for p in view.root.evaluate(PANELS_JS):
            panel = f"window.__rtwPanels[{p}]"
            summary = f"{panel}.querySelector(':scope > summary')"
            name = nb.page.evaluate(f"() => {summary}.innerText.trim().slice(0, 40)")
            if not nb.page.evaluate(f"() => {panel}.open"):
                nb.page.evaluate(f"() => {summary}.focus()")
                nb.page.keyboard.press("Enter")
            # The panel's last control (the summary itself when it holds none).
            nb.page.evaluate(
                f"""() => {{ const inside = [...{panel}.querySelectorAll(
                    'button, input, select, textarea, summary, [tabindex]')]
                    .filter((el) => el.checkVisibility() && !el.matches(':disabled'));
                  (inside.at(-1) || {summary}).focus(); }}"""
            )
            nb.page.keyboard.press("Escape")
            closed = nb.page.evaluate(
                f"() => !{panel}.open && document.activeElement === {summary}"
            )
            if not closed:
                problems.append(f"Escape does not close {name!r} and focus its summary")
        nb.screenshot("after-escape")
    finally:
        probe.close()
    assert not problems, "\n".join(problems)
    assert not re.search("pageerror", "\n".join(nb.console)), nb.console
