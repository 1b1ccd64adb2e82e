"""No module of realtime_widget reaches into another object's private attributes (issue 16).

A collaborator is handed what it uses (STYLE.md, habit 5b): a module that reads
``widget._sync`` or ``server._writer`` can only be read together with the class it reaches
into, and breaks when that class changes its insides. The source is read with ``ast``; an
attribute ``X._name`` (one leading underscore; dunders are Python's) is reported unless ``X`` is

- ``self`` or ``cls``, or ``super()``;
- a module the file imported (``_events.check_event``: a module's private helpers are its
  package's to share);
- a class defined in the same file, an alias of one, or a new instance of one
  (``Inbound._on_hello`` in a dispatch table; ``SessionConfig()._leaves``);

or ``_name`` is part of ``namedtuple``'s public API (``_replace``, ``_asdict``, ...). What
remains must be in `ALLOWED`, with the reason.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import realtime_widget

ROOT = Path(realtime_widget.__file__).parent

_NAMEDTUPLE_API = frozenset({"_replace", "_asdict", "_fields", "_field_defaults", "_make"})

ALLOWED: dict[tuple[str, str], str] = {
    # (file, the object whose private attributes it reads) -> why that is justified.
    ("realtime_widget/client/_handles.py", "handle"): (
        "ResponseTracker fills in the ResponseHandles it creates (text, audio, twins, the end): "
        "the two classes share one module on purpose, and the handle's public face stays "
        "read-only for users"
    ),
    ("realtime_widget/client/_handles.py", "twin"): (
        "a coalesced request's twin handle is a ResponseHandle of the same class, finished "
        "with the response it shares"
    ),
    ("realtime_widget/widget/_session.py", "api"): (
        "the caption session reuses the client's key and headers: RealtimeAPI keeps them "
        "private so that no public attribute, repr or completion ever shows the key"
    ),
}


def _module_names(tree: ast.Module, module: str) -> set[str]:
    """Names the file binds to modules by importing them."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")[: -node.level]
                base = ".".join(parts + ([node.module] if node.module else []))
            for alias in node.names:
                try:
                    is_module = importlib.util.find_spec(f"{base}.{alias.name}") is not None
                except (ImportError, ValueError):
                    is_module = False
                if is_module:
                    names.add(alias.asname or alias.name)
    return names


def _own_classes(tree: ast.Module) -> set[str]:
    """Classes defined in the file, and names assigned one of them (``_S = ServerEvents``)."""
    classes = {node.name for node in ast.walk(tree) if isinstance(node, ast.ClassDef)}
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        for target in node.targets:
            pairs = [(target, node.value)]
            if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                pairs = list(zip(target.elts, node.value.elts, strict=False))  # _C, _I = C, I
            for name, value in pairs:
                if (
                    isinstance(name, ast.Name)
                    and isinstance(value, ast.Name)
                    and value.id in classes
                ):
                    classes.add(name.id)
    return classes


def _is_own(value: ast.expr, modules: set[str], classes: set[str]) -> bool:
    if isinstance(value, ast.Name):
        return value.id in ("self", "cls") or value.id in modules or value.id in classes
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name):
        return value.func.id == "super" or value.func.id in classes
    return False


def private_accesses() -> list[tuple[str, int, str, str]]:
    """Every ``X._name`` not on an object of the file's own: (file, line, X, the access)."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        relative = path.relative_to(ROOT.parent).as_posix()
        module = ".".join(path.relative_to(ROOT.parent).with_suffix("").parts)
        tree = ast.parse(path.read_text(), relative)
        modules = _module_names(tree, module)
        classes = _own_classes(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Attribute) or not node.attr.startswith("_"):
                continue
            if node.attr.startswith("__") and node.attr.endswith("__"):
                continue
            if node.attr in _NAMEDTUPLE_API or _is_own(node.value, modules, classes):
                continue
            found.append((relative, node.lineno, ast.unparse(node.value), ast.unparse(node)))
    return found


def test_no_module_reads_another_objects_private_attributes():
    unexplained = [
        f"{path}:{line}: {access}"
        for path, line, owner, access in private_accesses()
        if (path, owner) not in ALLOWED
    ]
    assert unexplained == [], (
        "hand the collaborator what it uses (a public method, an argument, a callable) rather "
        "than reading another object's private attribute; if it is justified, add it to "
        "ALLOWED with the reason"
    )


def test_every_allowance_is_still_needed():
    used = {(path, owner) for path, _line, owner, _access in private_accesses()}
    stale = sorted(set(ALLOWED) - used)
    assert stale == [], "these accesses are gone: remove them from ALLOWED"


def test_the_check_sees_a_private_read_through_a_parameter():
    # The check itself: what `_inbound.py` did before issue 16 (`w._sync`) is reported,
    # `self._sync` and a dispatch table of the module's own class are not.
    source = (
        "import asyncio\n"
        "class Own:\n"
        "    def m(self):\n"
        "        return self._x, asyncio._get_running_loop, Own._m\n"
        "def handler(w):\n"
        "    return w._sync.add_error, w.client._conversation\n"
    )
    tree = ast.parse(source)
    modules, classes = _module_names(tree, "pkg.mod"), _own_classes(tree)
    reported = [
        ast.unparse(node)
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not _is_own(node.value, modules, classes)
    ]
    assert sorted(reported) == ["w._sync", "w.client._conversation"]
