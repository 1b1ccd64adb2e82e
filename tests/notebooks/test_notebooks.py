"""Every notebook runs headless, top to bottom, against the embedded server: no key, no network.

Executed with nbclient in a real ipykernel running this interpreter (the ``python3`` kernelspec
resolves to ``sys.executable``); any error in any cell fails the test. Notebooks are committed
with their outputs cleared.
"""

from __future__ import annotations

import json
import pathlib

import pytest

from tests.helpers import UNIT, require

try:
    import nbclient
    import nbformat
except ImportError:  # a developer machine without the test extras: skipped (fails under CI)
    nbclient = nbformat = None


@pytest.fixture(autouse=True)
def _needs_nbclient():
    require(nbclient is not None, "nbclient/nbformat not installed (pip install -e '.[test]')")


NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 90 * UNIT  # seconds per cell; a cell waits for replies paced in real time


def test_the_notebooks_exist():
    assert [p.name for p in NOTEBOOKS] == [
        "01_quickstart.ipynb",
        "02_tool_prototyping.ipynb",
        "03_classroom_demo.ipynb",
        "04_offline_and_testing.ipynb",
        "05_endpoints.ipynb",
        "06_mcp_images_parallel.ipynb",
        "classroom.ipynb",  # the Voilà page: `voila notebooks/classroom.ipynb`
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_with_outputs_cleared(path):
    book = nbformat.read(path, as_version=4)
    nbformat.validate(book)
    for cell in book.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_headless_without_a_key(path, tmp_path, monkeypatch):
    for name in ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    book = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        book,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        startup_timeout=60 * UNIT,
        resources={"metadata": {"path": str(tmp_path)}},  # files the notebook writes go here
        allow_errors=False,
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        failed = tmp_path / f"{path.stem}.failed.ipynb"
        nbformat.write(book, failed)
        pytest.fail(f"{path.name} failed (executed copy: {failed}):\n{exc}", pytrace=False)
    texts = [
        "".join(o.get("text", "") for o in cell.get("outputs", []))
        for cell in book.cells
        if cell.cell_type == "code"
    ]
    assert not any("Traceback" in t for t in texts)
    if path.stem == "03_classroom_demo":  # record and replay wrote their files
        assert (tmp_path / "lesson.jsonl").stat().st_size > 0
        assert (tmp_path / "lesson.wav").stat().st_size > 44
        assert "sk-" not in (tmp_path / "lesson.jsonl").read_text()


def test_notebook_cells_are_unique_ids_and_say_which_kernel():
    for path in NOTEBOOKS:
        book = json.loads(path.read_text())
        ids = [c["id"] for c in book["cells"]]
        assert len(ids) == len(set(ids))
        assert book["metadata"]["kernelspec"]["name"] == "python3"
