"""The shipped quickstart notebook, run as a user would: in JupyterLab, in Chromium, no API key.

Its code cells run unchanged (the markdown cells are left out); the widget must connect to the
embedded server, the cell that talks to it from code must get the offline model's reply, and the
reply must show in the widget. A picture of the widget is kept as ``widget.png`` (the README's
screenshot comes from here).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.helpers import UNIT

pytestmark = pytest.mark.ui

QUICKSTART = Path(__file__).resolve().parents[2] / "notebooks" / "01_quickstart.ipynb"


def quickstart_code_cells() -> list[str]:
    notebook = nbformat.read(QUICKSTART, as_version=4)
    return [cell.source for cell in notebook.cells if cell.cell_type == "code"]


def test_quickstart_notebook_connects_offline_and_shows_the_reply(open_notebook, artifacts):
    cells = quickstart_code_cells()
    assert any("RealtimeWidget(" in source for source in cells)
    nb = open_notebook(cells, wav="silence")
    view = nb.wait_widget()
    view.wait_status("connected")
    assert "offline demo" in view.root.inner_text().lower()

    view.wait_turn("user", text="Hello! What can you do?")
    view.wait_turn("assistant", text="You said: Hello! What can you do?", timeout=30 * UNIT)
    assert "You said: Hello! What can you do?" in nb.outputs_text()
    assert not view.alerts.count(), view.alerts.all_inner_texts()

    items = nb.kernel.value("[(i.get('role'), i.get('status')) for i in w.items]")
    assert ["user", "completed"] in items and ["assistant", "completed"] in items
    view.root.screenshot(path=str(artifacts / "widget.png"))
    nb.screenshot("quickstart")
