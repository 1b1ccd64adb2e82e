"""Closing widget views gives back every browser audio resource (issue 8, point 5).

Twenty times: display the widget (hands-free on, so the view captures the microphone and runs its
player), wait until it holds its AudioContexts, microphone track and worklets, then clear the
output (JupyterLab disposes the view). Afterwards nothing may be live, counted twice: by the
widget's own ``globalThis.__rtwResources`` and by an init script that wraps the browser APIs
(``page_resources.py``), which does not trust the widget's bookkeeping.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.helpers import UNIT
from tests.ui.page_resources import (
    PROBE_JS,
    RESOURCE_KINDS,
    RESOURCE_PROBE_JS,
    WIDGET_COUNTS_JS,
)

pytestmark = pytest.mark.ui

CYCLES = 20

CELLS = [
    "from realtime_widget import RealtimeWidget\nw = RealtimeWidget()\nw.hands_free = True",
    "w",
]


def _wait(page, predicate_js: str, what: str, timeout: float) -> dict:
    """Poll the two counters until ``predicate_js(probe, widget)`` holds; return both."""
    deadline = time.monotonic() + timeout
    while True:
        probe, widget = page.evaluate(PROBE_JS), page.evaluate(WIDGET_COUNTS_JS)
        if page.evaluate(f"([p, w]) => ({predicate_js})(p, w)", [probe, widget]):
            return {"probe": probe, "widget": widget}
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} after {timeout}s: probe={probe} widget={widget}")
        time.sleep(0.1)


def test_twenty_view_open_close_cycles_leave_no_audio_resources_behind(open_notebook, artifacts):
    nb = open_notebook(CELLS, wav="silence", init_scripts=(RESOURCE_PROBE_JS,))
    nb.clear_output(1)
    nb.widget(0).root.wait_for(state="detached", timeout=10 * UNIT * 1000)
    assert nb.kernel.value("w.hands_free") is True

    for cycle in range(CYCLES):
        nb.run_cell(1)
        view = nb.wait_widget(0)
        view.wait_status("connected")
        view.listen_hands_free()  # each new view starts the microphone again
        held = _wait(
            nb.page,
            "(p, w) => w && w.mediaStreamTracks >= 1 && w.audioContexts >= 1 && w.worklets >= 1"
            " && p.live.mediaStreamTracks >= 1 && p.live.audioContexts >= 1"
            " && p.live.worklets >= 1",
            f"cycle {cycle}: the open view never held a mic track, AudioContext and worklet",
            timeout=15 * UNIT,
        )
        if cycle == 0:
            nb.screenshot("view-open")
            first = held
        nb.clear_output(1)
        view.root.wait_for(state="detached", timeout=10 * UNIT * 1000)

    released = _wait(
        nb.page,
        "(p, w) => w && Object.values(w).every((n) => n === 0)"
        " && Object.values(p.live).every((n) => n === 0)",
        f"resources still live after {CYCLES} open/close cycles",
        timeout=5 * UNIT,
    )
    nb.screenshot("all-views-closed")
    (artifacts / "resources.json").write_text(json.dumps({"open": first, "closed": released}))
    assert set(RESOURCE_KINDS) <= set(released["widget"]), released["widget"]
    created = released["probe"]["created"]
    # Every cycle really acquired (so the zeros above mean "released", not "never taken").
    assert created["audioContexts"] >= CYCLES, created
    assert created["mediaStreamTracks"] >= CYCLES, created
    assert created["worklets"] >= CYCLES, created
    assert first["probe"]["live"]["mediaStreamTracks"] >= 1
