"""A notebook open in JupyterLab in a Playwright page: run its cells, find the widget, save.

JupyterLab is started with ``expose_app_in_browser`` so commands run through
``window.jupyterapp.commands`` (the same commands the menus call) instead of key chords that
depend on focus. Widget controls are found by accessible name, as a screen reader would.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from tests.helpers import UNIT
from tests.ui.jupyter_lab import JupyterLabServer
from tests.ui.kernel_probe import KernelProbe
from tests.ui.widget_view import WidgetView

# JS run in the page: the state of the current notebook's cells and kernel.
_NOTEBOOK_STATE_JS = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.content || !panel.sessionContext) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.map((cell) => {
    const m = cell.model;
    const outputs = m.type === 'code' ? m.toJSON().outputs : [];
    return {type: m.type, count: m.type === 'code' ? m.executionCount : null, outputs};
  });
  return {kernel: kernel ? kernel.status : null, ready: panel.sessionContext.isReady, cells};
}"""


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


class NotebookCellError(AssertionError):
    """A notebook cell raised; the message has the cell's traceback."""


class LabNotebook:
    """One notebook open in a JupyterLab page.

    Args:
        page: a Playwright page (its context owns the fake microphone's permission).
        server: the JupyterLab server.
        name: notebook path relative to the server root.
        artifacts: directory for screenshots of this test.
    """

    def __init__(self, page, server: JupyterLabServer, name: str, artifacts: Path) -> None:
        self.page = page
        self.server = server
        self.name = name
        self.artifacts = artifacts
        self.console: list[str] = []
        self._probe: KernelProbe | None = None
        self._shots = 0
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda err: self.console.append(f"pageerror: {err}"))

    # ------------------------------------------------------------------ opening and running
    def open(self, timeout: float = 60 * UNIT) -> LabNotebook:
        """Load the notebook in JupyterLab and wait until its kernel is idle."""
        self.page.goto(self.server.page_url(self.name), timeout=timeout * 1000)
        idle = (
            f"() => {{ const s = ({_NOTEBOOK_STATE_JS})();"
            " return s && s.ready && s.kernel === 'idle'; }"
        )
        self.page.wait_for_function(idle, timeout=timeout * 1000)
        return self

    def run_all(self, timeout: float = 60 * UNIT) -> None:
        """Run every cell (JupyterLab's "Run All Cells") and wait until all have run.

        Raises:
            NotebookCellError: a cell raised; its traceback is in the message.
        """
        self.page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        deadline = time.monotonic() + timeout
        state: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            state = self.page.evaluate(_NOTEBOOK_STATE_JS)
            self._raise_cell_errors(state)
            code = [c for c in state["cells"] if c["type"] == "code"]
            if state["kernel"] == "idle" and all(c["count"] for c in code):
                return
            time.sleep(0.2)
        raise AssertionError(f"cells still running after {timeout}s: {json.dumps(state)[:2000]}")

    def run_cell(self, index: int) -> None:
        """Run cell ``index`` (without moving on) and wait until it has run.

        Raises:
            NotebookCellError: a cell raised.
        """
        before = self.page.evaluate(_NOTEBOOK_STATE_JS)["cells"][index]["count"]
        self.page.evaluate(
            "async (i) => { const p = window.jupyterapp.shell.currentWidget;"
            " p.content.activeCellIndex = i;"
            " await window.jupyterapp.commands.execute('notebook:run-cell'); }",
            index,
        )
        self.page.wait_for_function(
            f"([i, before]) => {{ const s = ({_NOTEBOOK_STATE_JS})();"
            " return s.kernel === 'idle' && s.cells[i].count && s.cells[i].count !== before; }",
            arg=[index, before],
            timeout=30 * UNIT * 1000,
        )
        self._raise_cell_errors(self.page.evaluate(_NOTEBOOK_STATE_JS))

    def clear_output(self, index: int) -> None:
        """Clear cell ``index``'s outputs, which disposes the widget views they held."""
        self.page.evaluate(
            "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs.clear()",
            index,
        )

    def outputs_text(self) -> str:
        """Text of every stream and text/plain output of the notebook's cells, in order."""
        state = self.page.evaluate(_NOTEBOOK_STATE_JS)
        parts: list[str] = []
        for cell in state["cells"]:
            for out in cell["outputs"] or []:
                if out.get("output_type") == "stream":
                    parts.append(_joined(out.get("text", "")))
                elif "data" in out and "text/plain" in out["data"]:
                    parts.append(_joined(out["data"]["text/plain"]))
        return "".join(parts)

    def save(self, timeout: float = 20 * UNIT) -> None:
        """Save through JupyterLab's "Save" command and wait until the model is clean."""
        self.page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        self.page.wait_for_function(
            "() => { const p = window.jupyterapp.shell.currentWidget;"
            " return p && p.context && !p.context.model.dirty; }",
            timeout=timeout * 1000,
        )

    # ------------------------------------------------------------------ the widget
    def widget(self, index: int = 0) -> WidgetView:
        """The ``index``-th widget view in the page (elements with class ``rtw-root``)."""
        return WidgetView(self.page.locator(".rtw-root").nth(index))

    def wait_widget(self, index: int = 0, timeout: float = 30 * UNIT) -> WidgetView:
        """Wait until the ``index``-th widget view is rendered and return it."""
        view = self.widget(index)
        view.root.wait_for(state="visible", timeout=timeout * 1000)
        return view

    # ------------------------------------------------------------------ kernel state
    @property
    def kernel(self) -> KernelProbe:
        """A probe attached to this notebook's kernel (created on first use)."""
        if self._probe is None:
            kernel_id = self.server.kernel_id_for(self.name)
            assert kernel_id, f"no kernel session for {self.name}"
            self._probe = KernelProbe(self.server.runtime_dir / f"kernel-{kernel_id}.json")
        return self._probe

    # ------------------------------------------------------------------ evidence
    def screenshot(self, label: str) -> Path:
        """Save a full-page screenshot as ``NN-label.png`` in this test's artifact directory."""
        self._shots += 1
        path = self.artifacts / f"{self._shots:02d}-{label}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def close(self) -> None:
        """Detach the kernel probe and write the page's console log next to the screenshots."""
        if self._probe is not None:
            self._probe.close()
            self._probe = None
        (self.artifacts / "console.log").write_text("\n".join(self.console))

    @staticmethod
    def _raise_cell_errors(state: dict[str, Any]) -> None:
        for i, cell in enumerate(state["cells"]):
            for out in cell["outputs"] or []:
                if out.get("output_type") == "error":
                    tb = _ANSI.sub("", "\n".join(out.get("traceback", [])))
                    raise NotebookCellError(f"cell {i} raised {out.get('ename')}:\n{tb}")


def _joined(text: str | list[str]) -> str:
    return "".join(text) if isinstance(text, list) else text
