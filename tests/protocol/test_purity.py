"""The protocol layer is pure (DESIGN §2, STYLE rule 1): importing it pulls in no I/O machinery."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import realtime_widget.protocol as protocol
from tests.helpers import UNIT

IO_MODULES = {
    "asyncio",
    "socket",
    "threading",
    "selectors",
    "concurrent",
    "websockets",
    "traitlets",
    "ipywidgets",
    "anywidget",
    "numpy",
}


def test_protocol_modules_import_no_io_module():
    for path in Path(protocol.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            assert not {n.split(".")[0] for n in names} & IO_MODULES, (path.name, names)


def test_importing_the_protocol_package_loads_no_io_module():
    code = (
        "import sys; import realtime_widget.protocol; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({sorted(IO_MODULES)!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30 * UNIT, check=True
    )
    assert out.stdout.strip() == "[]"
