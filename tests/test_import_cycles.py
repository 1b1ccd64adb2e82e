"""No two modules of realtime_widget import each other, directly or through others (issue 16).

A cycle means neither module can be read (or imported) without the other; Python copes only as
long as the import order happens to suit it. The graph is read from the source with ``ast``:

- module-level and function-level imports count (a deferred import is still a dependency); those
  under ``if TYPE_CHECKING:`` do not (they never run);
- ``from pkg import name`` is an edge to the submodule ``pkg.name`` when there is one, else to the
  package ``pkg`` itself (its ``__init__``);
- importing ``a.b.c`` is an edge to ``a.b.c`` only, not to the parents Python also initialises:
  a package's ``__init__`` re-exporting its own submodules would otherwise put every submodule
  on a cycle through its parent. A submodule that imports from its own package's ``__init__``
  (rather than from the sibling that defines the name) is a real cycle and is reported.
"""

from __future__ import annotations

import ast
from pathlib import Path

import realtime_widget

PACKAGE = "realtime_widget"
ROOT = Path(realtime_widget.__file__).parent


def module_files() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the package."""
    modules = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement that can run, skipping ``if TYPE_CHECKING:`` bodies."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return found


def import_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    modules = module_files()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name.split(".")
                    # In a package's __init__, level 1 is the package itself.
                    base = base[: len(base) - node.level + (1 if is_package else 0)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                targets = [
                    f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem
                    for alias in node.names
                ]
            graph[name].update(t for t in targets if t in modules and t != name)
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (as a path that returns to its start) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(node: str) -> None:  # Tarjan's algorithm; the graph is small enough to recurse
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return [_cycle_in(component, graph) for component in components]


def _cycle_in(component: list[str], graph: dict[str, set[str]]) -> list[str]:
    """A shortest path from the component's first module back to itself, inside the component."""
    start = component[0]
    members = set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph[node] & members):
                if nxt == start:
                    return paths[node] + [start]
                if nxt not in paths:
                    paths[nxt] = paths[node] + [nxt]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    raise AssertionError(f"no cycle in component {component}")  # pragma: no cover


def test_realtime_widget_has_no_import_cycles():
    cycles = find_cycles(import_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_import_graph_sees_function_level_and_from_package_imports():
    graph = import_graph()
    # `from realtime_widget.audio import SAMPLE_RATE` names a constant: an edge to the package.
    assert "realtime_widget.audio" in graph["realtime_widget.widget._media"]
    # `from realtime_widget.widget import _media` names a submodule: an edge to it.
    assert "realtime_widget.widget._media" in graph["realtime_widget.widget._widget"]
    # A package's __init__ re-exports from its submodules.
    assert "realtime_widget.widget._widget" in graph["realtime_widget.widget"]
    # A function-level import counts; one under `if TYPE_CHECKING:` does not.
    assert "realtime_widget.widget" in graph["realtime_widget.recording._widget"]
    assert "realtime_widget.widget" not in graph["realtime_widget.widget._inbound"]


def test_find_cycles_names_each_cycle_and_ignores_a_dag():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    cycles = find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"e"}, "e": {"d"}})
    assert cycles == [["a", "b", "c", "a"], ["d", "e", "d"]]
