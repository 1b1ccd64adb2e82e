"""The event log's tools in Chromium on JupyterLab (issue 15 points 4 and 10): the microphone
streaming and typed turns answered with speech by the embedded server, then filter by direction
and type, search, folded counters per turn and per response, and Pause (the view freezes, the
session goes on, a counter says what arrived, Resume catches up); every new control by keyboard,
with a visible focus; light and dark themes."""

from __future__ import annotations

import re

import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

WIDGET_CELL = "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw"
ROWS_JS = """(log) => Array.from(log.querySelectorAll('.rtw-log-list > li')).map((li) => ({
  dir: li.dataset.dir, type: li.dataset.type, group: li.dataset.group || null,
  count: Number(li.dataset.count), hidden: li.hidden, seq: Number(li.dataset.seq),
  text: li.querySelector('summary').innerText}))"""
OUTLINE_JS = """(el) => { const s = getComputedStyle(el);
  return {style: s.outlineStyle, width: parseFloat(s.outlineWidth)}; }"""


def _rows(log) -> list[dict]:
    return log.evaluate(ROWS_JS)


def _shown(log) -> list[dict]:
    return [r for r in _rows(log) if not r["hidden"]]


def _element_shot(nb, locator, label: str) -> None:
    """The widget itself (JupyterLab scrolls the notebook inside the page: a full-page shot
    can miss the log) beside the page shot."""
    nb.screenshot(label)
    locator.screenshot(path=str(nb.artifacts / f"{nb._shots:02d}-{label}-widget.png"))


def _wait(nb, log, predicate_js: str, what: str, timeout: float = 20 * UNIT) -> None:
    try:
        nb.page.wait_for_function(predicate_js, arg=log.element_handle(), timeout=timeout * 1000)
    except Exception as exc:  # say what the log held
        rows = [(r["type"], r["count"], r["group"]) for r in _rows(log)]
        raise AssertionError(f"{what}; the log holds {rows[-30:]}") from exc


def test_event_log_filters_searches_folds_per_turn_and_response_and_pauses(open_notebook):
    # The microphone streams (silence: a looping spoken question barged in on the typed answers
    # the test waits for) while two typed questions are answered with speech.
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.listen_hands_free()
    view.send_message("a first question")
    view.wait_turn("assistant", text="first question", timeout=30 * UNIT)
    view.send_message("and a typed question")
    view.wait_turn("assistant", text="typed question", timeout=30 * UNIT)

    view.root.get_by_label("Event log", exact=True).click()
    log = view.root.locator(".rtw-log")
    _wait(
        nb,
        log,
        """(log) => [...log.querySelectorAll('li[data-type="response.done"]')].length >= 2""",
        "two responses in the log",
    )

    # Folding: the user turn's audio is one counter, each response's audio deltas one counter
    # (the server interleaves them with transcript deltas: before, a wall of ×1..×3 lines).
    rows = _rows(log)
    appends = [r for r in rows if r["type"] == "input_audio_buffer.append"]
    assert appends and appends[0]["group"] == "turn 1" and appends[0]["count"] >= 20, appends
    assert re.search(r"input_audio_buffer\.append\s*×\d+", appends[0]["text"]), appends[0]
    audio = [r for r in rows if r["type"] == "response.output_audio.delta"]
    groups = [r["group"] for r in audio]
    assert len(audio) >= 2 and len(set(groups)) == len(groups), groups  # one row per response
    assert all(g.startswith("response ") for g in groups) and max(r["count"] for r in audio) >= 5
    assert len(rows) < 120, f"{len(rows)} rows for two turns: folding failed"
    # A folded row expands to what it folds and its first event (audio redacted).
    folded = log.locator('li[data-type="response.output_audio.delta"] summary').first
    folded.click()
    body = log.locator('li[data-type="response.output_audio.delta"] details[open]').first
    body.locator("pre").wait_for(timeout=10 * UNIT * 1000)  # built on the (async) toggle
    fold = r"\d+ events · over [\d.]+ s · \d+ bytes of audio · per response"
    assert re.search(fold, body.inner_text()), body.inner_text()[:300]
    assert "bytes of audio" in body.locator("pre").inner_text()
    folded.click()

    # Filter by direction: without client → server, no sent event is shown.
    client = log.get_by_role("checkbox", name="client → server", exact=True)
    client.uncheck()
    shown = _shown(log)
    assert shown and all(r["dir"] != ">" for r in shown), shown[:5]
    assert any(r["dir"] == ">" for r in _rows(log))  # hidden, not dropped
    client.check()
    # Filter by type group: only session.* and error.
    for name in ("input_audio_buffer.*", "response.*", "conversation.*", "other"):
        log.get_by_role("checkbox", name=name, exact=True).uncheck()
    shown = _shown(log)
    assert shown and all(r["type"].startswith("session.") or r["type"] == "error" for r in shown)
    _element_shot(nb, view.root, "event-log-filtered")
    for name in ("input_audio_buffer.*", "response.*", "conversation.*", "other"):
        log.get_by_role("checkbox", name=name, exact=True).check()
    assert len(_shown(log)) == len(_rows(log))

    # Search: the type, the fold group and the (redacted) JSON.
    search = log.get_by_role("searchbox", name="Search events", exact=True)
    search.fill("response.done")
    shown = _shown(log)
    assert len(shown) == 2 and all(r["type"] == "response.done" for r in shown), shown
    search.fill("typed question")  # in the conversation.item.create the browser's text caused
    shown = _shown(log)
    assert shown and {r["type"] for r in shown} >= {"conversation.item.create"}, shown
    assert log.get_attribute("data-shown") == str(len(shown))
    _element_shot(nb, view.root, "event-log-search")
    search.fill("")

    # Pause freezes this view while the session goes on; a counter says what arrived.
    pause = log.get_by_role("button", name="Pause event log", exact=True)
    pause.click()
    assert pause.get_attribute("aria-pressed") == "true"
    frozen = _rows(log)
    view.send_message("a message while paused")
    view.wait_turn("assistant", text="while paused", timeout=30 * UNIT)
    _wait(nb, log, "(log) => Number(log.dataset.arrived) > 10", "arrivals counted while paused")
    assert re.search(r"Resume \(\d+ new\)", pause.inner_text()), pause.inner_text()
    assert _rows(log) == frozen, "the paused view changed"
    _element_shot(nb, view.root, "event-log-paused")
    pause.click()
    _wait(
        nb,
        log,
        """(log) => [...log.querySelectorAll('li[data-type="response.done"]')].length >= 3""",
        "resume to catch up with the third response",
    )
    assert pause.get_attribute("aria-pressed") == "false"
    assert log.get_attribute("data-arrived") == "0"
    texts = " ".join(r["text"] for r in _rows(log))
    assert "conversation.item.create" in texts


def test_event_log_controls_work_by_keyboard_with_a_visible_focus(open_notebook):
    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message("keyboard only")
    view.wait_turn("assistant", text="keyboard only", timeout=30 * UNIT)

    summary = view.root.get_by_label("Event log", exact=True)
    summary.focus()
    nb.page.keyboard.press("Enter")  # opens the <details>
    log = view.root.locator(".rtw-log")
    _wait(nb, log, "(log) => log.open && log.querySelectorAll('li').length > 3", "the log opened")

    # Tab walks every new control in order; each one shows a focus ring and has its name.
    names = [
        ("checkbox", "client → server"),
        ("checkbox", "server → client"),
        ("checkbox", "local"),
        ("checkbox", "input_audio_buffer.*"),
        ("checkbox", "response.*"),
        ("checkbox", "conversation.*"),
        ("checkbox", "session.*"),
        ("checkbox", "error"),
        ("checkbox", "other"),
        ("searchbox", "Search events"),
        ("button", "Pause event log"),
    ]
    for role, name in names:
        nb.page.keyboard.press("Tab")
        control = log.get_by_role(role, name=name, exact=True)
        assert control.evaluate("(el) => el === document.activeElement"), (role, name)
        outline = control.evaluate(OUTLINE_JS)
        assert outline["style"] != "none" and outline["width"] >= 1, (name, outline)
    _element_shot(nb, view.root, "event-log-keyboard-focus")

    # Space toggles the focused Pause; the checkboxes and the search box answer the keyboard too.
    nb.page.keyboard.press("Space")
    pause = log.get_by_role("button", name="Pause event log", exact=True)
    assert pause.get_attribute("aria-pressed") == "true"
    nb.page.keyboard.press("Space")
    assert pause.get_attribute("aria-pressed") == "false"
    nb.page.keyboard.press("Shift+Tab")
    nb.page.keyboard.type("response.done")
    _wait(
        nb,
        log,
        "(log) => Number(log.dataset.shown) >= 1 && [...log.querySelectorAll('li')]"
        ".filter((li) => !li.hidden).every((li) => li.dataset.type === 'response.done')",
        "the search typed by keyboard applied",
    )
    local = log.get_by_role("checkbox", name="server → client", exact=True)
    local.focus()
    nb.page.keyboard.press("Space")
    assert not local.is_checked() and log.get_attribute("data-shown") == "0"


def test_event_log_tools_follow_the_light_and_dark_themes(open_notebook):
    from tests.ui.test_widget_theme import LUMINANCE_JS, _theme

    nb = open_notebook([WIDGET_CELL], wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.send_message("what colour is the log")
    view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    view.root.get_by_label("Event log", exact=True).click()
    log = view.root.locator(".rtw-log")
    _wait(nb, log, "(log) => log.querySelectorAll('li').length > 3", "the log opened")
    log.get_by_role("button", name="Pause event log", exact=True).click()
    parts = {
        "search box": log.get_by_role("searchbox", name="Search events", exact=True),
        "row": log.locator(".rtw-log-list > li summary").first,
        "filter label": log.locator(".rtw-log-check").first,
        "pause": log.get_by_role("button", name="Pause event log", exact=True),
    }
    try:
        _theme(nb, "JupyterLab Light")
        _element_shot(nb, view.root, "event-log-light")
        light = {k: loc.evaluate(LUMINANCE_JS) for k, loc in parts.items()}
        _theme(nb, "JupyterLab Dark")
        nb.page.wait_for_timeout(300)  # let the theme's stylesheet apply before measuring
        _element_shot(nb, view.root, "event-log-dark")
        dark = {k: loc.evaluate(LUMINANCE_JS) for k, loc in parts.items()}
    finally:
        _theme(nb, "JupyterLab Light")  # the server's settings outlive this test
    for part in parts:
        # The theme's background, and text readable on it: WCAG AA's 4.5:1 (a client event's
        # row is in the accent colour, lighter than body text in the dark theme).
        assert light[part]["background"] > 0.5 and dark[part]["background"] < 0.5, part
        for theme, seen in (("light", light[part]), ("dark", dark[part])):
            hi, lo = sorted((seen["text"], seen["background"]), reverse=True)
            assert (hi + 0.05) / (lo + 0.05) >= 4.5, (part, theme, seen)
