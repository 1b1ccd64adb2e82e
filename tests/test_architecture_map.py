"""docs/architecture.md's module map names every module of the package (issue 16, point 1).

A module counts as mapped when the table row of its package mentions its file name (``_input.py``
in the ``realtime_widget/conversation/`` row), or a row of its own starts with its path
(``realtime_widget/protocol/redaction.py``); a top-level module needs its own row.
"""

from __future__ import annotations

import re
from pathlib import Path

import realtime_widget

ROOT = Path(realtime_widget.__file__).parent
DOC = ROOT.parent / "docs" / "architecture.md"


def module_map_rows() -> dict[str, str]:
    """First cell (the path, without backticks) -> the whole row, from the "Module map" table."""
    text = DOC.read_text()
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        match = re.match(r"^\| `([^`]+)`", line)
        if match:
            rows[match.group(1)] = line
    return rows


def unmapped_modules() -> list[str]:
    rows = module_map_rows()
    missing = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT.parent).as_posix()
        if path.name == "__init__.py":
            continue
        if relative in rows:
            continue
        package_row = rows.get(path.parent.relative_to(ROOT.parent).as_posix() + "/")
        if path.parent == ROOT or package_row is None or f"`{path.name}`" not in package_row:
            missing.append(relative)
    return missing


def test_module_map_names_every_module_of_the_package():
    assert unmapped_modules() == [], "add these to docs/architecture.md's module map"


def test_module_map_names_no_module_that_is_gone():
    rows = module_map_rows()
    for first_cell, row in rows.items():
        if first_cell.endswith(".py"):
            assert (ROOT.parent / first_cell).exists(), first_cell
        elif first_cell.startswith("realtime_widget/"):
            package = ROOT.parent / first_cell
            assert package.is_dir(), first_cell
            for name in re.findall(r"`(_?[a-z0-9_]+\.py)`", row):
                assert (package / name).exists(), f"{first_cell}{name} is in the map, not the tree"
