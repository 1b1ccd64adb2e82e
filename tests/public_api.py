"""A snapshot of realtime_widget's public API: names, kinds and signatures, as JSON.

``tests/test_public_api.py`` compares the installed tree against the baseline
``tests/public_api_baseline.json``, which was written from commit 1029a95 (the tree before issue
16 moved files and replaced mixins by collaborators)::

    git worktree add /tmp/base 1029a95
    cd /tmp/base && PYTHONPATH=$PWD python /path/to/tests/public_api.py --write out.json

What counts as public:

- every module under ``realtime_widget`` whose dotted path has no component starting with ``_``
  (``__init__`` stands for its package; ``__main__`` is a script, not an API);
- in each, the names of its ``__all__``; a module without ``__all__`` offers the names it
  defines at top level (functions, classes, assignments) that do not start with ``_``;
- for a class: its call signature and every public attribute reachable through ``dir()`` that a
  class of realtime_widget defines (inherited methods count, so moving a method from a mixin to
  a collaborator without keeping it on the class is a removal; attributes of third-party bases
  such as ``anywidget.AnyWidget`` are not ours and are left out).

Signatures are ``inspect.signature`` objects written structurally (name, kind, default repr,
annotation text) with memory addresses stripped from reprs, so two runs compare equal.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
import json
import pkgutil
import re
import sys
from pathlib import Path
from typing import Any

PACKAGE = "realtime_widget"

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _clean(text: str) -> str:
    """A repr without memory addresses, checkout paths or whitespace differences."""
    root = str(Path(importlib.import_module(PACKAGE).__file__).parent.parent)
    text = _ADDRESS.sub("", text).replace(root, "<checkout>")
    return re.sub(r"\s+", " ", text).strip()


def public_modules() -> list[str]:
    """Dotted names of every public module of the package, sorted."""
    package = importlib.import_module(PACKAGE)
    names = [PACKAGE]
    for info in pkgutil.walk_packages(package.__path__, prefix=PACKAGE + "."):
        parts = info.name.split(".")
        if any(part.startswith("_") for part in parts[1:]):
            continue
        names.append(info.name)
    return sorted(names)


def _top_level_names(module: Any) -> list[str]:
    """Names a module without ``__all__`` defines at top level and does not mark private."""
    source = inspect.getsource(module)
    names: set[str] = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    names.add(target.id)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return sorted(name for name in names if not name.startswith("_"))


def describe_signature(obj: Any) -> dict[str, Any] | None:
    """``inspect.signature`` as data, or ``None`` when the object has none."""
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    params = []
    for param in signature.parameters.values():
        # [name, kind, default repr or None, annotation text or None]
        params.append(
            [
                param.name,
                param.kind.name,
                None if param.default is param.empty else _clean(repr(param.default)),
                None
                if param.annotation is param.empty
                else _clean(_annotation_text(param.annotation)),
            ]
        )
    returns = signature.return_annotation
    return {
        "text": _clean(str(signature)),
        "params": params,
        "returns": None if returns is signature.empty else _clean(_annotation_text(returns)),
    }


def _annotation_text(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


def _is_ours(owner: type) -> bool:
    return (getattr(owner, "__module__", "") or "").split(".")[0] == PACKAGE


def _describe_member(raw: Any) -> dict[str, Any]:
    if isinstance(raw, property):
        return {"kind": "property", "settable": raw.fset is not None}
    if isinstance(raw, (classmethod, staticmethod)):
        kind = "classmethod" if isinstance(raw, classmethod) else "staticmethod"
        return {"kind": kind, "signature": describe_signature(raw.__func__)}
    if inspect.isfunction(raw):
        kind = "async method" if inspect.iscoroutinefunction(raw) else "method"
        return {"kind": kind, "signature": describe_signature(raw)}
    if inspect.isclass(raw):
        return {"kind": "class"}
    return {"kind": "attribute", "type": type(raw).__name__}


def describe_class(cls: type) -> dict[str, Any]:
    """A class's signature and its public members defined by realtime_widget classes."""
    members: dict[str, Any] = {}
    for name in dir(cls):
        if name.startswith("_"):
            continue
        owner = next((base for base in cls.__mro__ if name in vars(base)), None)
        if owner is None or not _is_ours(owner):
            continue
        members[name] = _describe_member(vars(owner)[name])
    return {"kind": "class", "signature": describe_signature(cls), "members": members}


def describe(value: Any) -> dict[str, Any]:
    """What one public name is: a class, a function, a module or a value of some type."""
    if inspect.isclass(value):
        return describe_class(value)
    if inspect.ismodule(value):
        return {"kind": "module", "name": value.__name__}
    if inspect.isfunction(value) or inspect.isbuiltin(value):
        kind = "async function" if inspect.iscoroutinefunction(value) else "function"
        return {"kind": kind, "signature": describe_signature(value)}
    if callable(value) and not isinstance(value, (dict, list, tuple, frozenset, set, str)):
        return {"kind": "callable", "type": type(value).__name__}
    return {"kind": "value", "type": type(value).__name__}


def snapshot() -> dict[str, dict[str, Any]]:
    """module -> public name -> description, for every public module."""
    result: dict[str, dict[str, Any]] = {}
    for module_name in public_modules():
        module = importlib.import_module(module_name)
        names = getattr(module, "__all__", None)
        names = sorted(names) if names is not None else _top_level_names(module)
        result[module_name] = {name: describe(getattr(module, name)) for name in names}
    return result


def dumps(data: dict[str, dict[str, Any]]) -> str:
    """JSON with one line per public name, so that a diff of two snapshots reads name by name."""
    lines = ["{"]
    for i, (module, names) in enumerate(sorted(data.items())):
        lines.append(f" {json.dumps(module)}: {{")
        for j, (name, description) in enumerate(sorted(names.items())):
            comma = "," if j < len(names) - 1 else ""
            lines.append(f"  {json.dumps(name)}: {json.dumps(description, sort_keys=True)}{comma}")
        lines.append(" }" + ("," if i < len(data) - 1 else ""))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", metavar="PATH", help="write the snapshot as JSON to PATH")
    args = parser.parse_args(argv)
    text = dumps(snapshot())
    if args.write:
        Path(args.write).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
