"""The public API keeps the names and signatures it had before issue 16 reorganised the package.

The baseline ``public_api_baseline.json`` was written by ``tests/public_api.py --write`` from
commit 1029a95 (see that module for what counts as public). The rules, for every public module,
name and public class member of the baseline:

- a removed module, name or member fails;
- a changed kind fails (function -> async function, method -> property, a constant's type, a
  settable property that no longer is);
- a changed signature fails, with one exception that keeps every existing call working: new
  parameters that have a default (or ``*args``/``**kwargs``) may be added, as long as the old
  positional parameters keep their order and every old parameter keeps its kind, default and
  annotation; the return annotation is kept;
- additions (new modules, names, members, optional parameters) are reported as a warning and do
  not fail: other work adds API.

A deliberate, reviewed break goes into ``ACCEPTED`` below with its reason; the baseline itself
stays the 1029a95 snapshot.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

from tests.public_api import snapshot

BASELINE = Path(__file__).with_name("public_api_baseline.json")

# "module:name" or "module:Class.member" -> why the break is accepted.
ACCEPTED: dict[str, str] = {}

_POSITIONAL = ("POSITIONAL_ONLY", "POSITIONAL_OR_KEYWORD")
_VARIADIC = ("VAR_POSITIONAL", "VAR_KEYWORD")


def signature_problems(old: dict[str, Any] | None, new: dict[str, Any] | None) -> list[str]:
    """Why ``new`` breaks a call written against ``old`` (empty list: compatible)."""
    if old is None or new is None:
        return [] if old == new else [f"signature {old and old['text']} -> {new and new['text']}"]
    problems = []
    new_params = {p[0]: p for p in new["params"]}
    for name, kind, default, annotation in old["params"]:
        if name not in new_params:
            problems.append(f"parameter {name!r} removed")
            continue
        _, new_kind, new_default, new_annotation = new_params[name]
        if (new_kind, new_default, new_annotation) != (kind, default, annotation):
            problems.append(
                f"parameter {name!r}: {kind} = {default} : {annotation}"
                f" -> {new_kind} = {new_default} : {new_annotation}"
            )
    old_positional = [p[0] for p in old["params"] if p[1] in _POSITIONAL]
    new_positional = [p[0] for p in new["params"] if p[1] in _POSITIONAL]
    if new_positional[: len(old_positional)] != old_positional:
        problems.append(f"positional order {old_positional} -> {new_positional}")
    old_names = {p[0] for p in old["params"]}
    for name, kind, default, _ in new["params"]:
        if name not in old_names and default is None and kind not in _VARIADIC:
            problems.append(f"new parameter {name!r} has no default")
    if old["returns"] != new["returns"]:
        problems.append(f"return annotation {old['returns']} -> {new['returns']}")
    if problems:
        problems.insert(0, f"{old['text']} -> {new['text']}")
    return problems


def _entry_problems(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Problems of one name or member (not of a class's members, see ``compare``)."""
    if old["kind"] != new["kind"]:
        return [f"kind {old['kind']} -> {new['kind']}"]
    if old.get("type") != new.get("type"):
        return [f"type {old.get('type')} -> {new.get('type')}"]
    if old.get("settable") and not new.get("settable"):
        return ["property no longer settable"]
    if "signature" in old:
        return signature_problems(old["signature"], new.get("signature"))
    return []


def compare(
    baseline: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]]
) -> tuple[dict[str, list[str]], list[str]]:
    """(breaks by "module:name[.member]", additions) between two snapshots."""
    breaks: dict[str, list[str]] = {}
    additions: list[str] = sorted(f"module {m}" for m in current.keys() - baseline.keys())
    for module, names in baseline.items():
        if module not in current:
            breaks[module] = ["module removed"]
            continue
        additions += sorted(f"{module}:{n}" for n in current[module].keys() - names.keys())
        for name, old in names.items():
            key = f"{module}:{name}"
            new = current[module].get(name)
            if new is None:
                breaks[key] = ["name removed"]
                continue
            if problems := _entry_problems(old, new):
                breaks[key] = problems
            elif old["kind"] == "class":
                new_members = new["members"]
                additions += sorted(
                    f"{key}.{m}" for m in new_members.keys() - old["members"].keys()
                )
                for member, old_member in old["members"].items():
                    if member not in new_members:
                        breaks[f"{key}.{member}"] = ["member removed"]
                    elif problems := _entry_problems(old_member, new_members[member]):
                        breaks[f"{key}.{member}"] = problems
    for key in ACCEPTED:
        breaks.pop(key, None)
    return breaks, additions


@pytest.fixture(scope="module")
def comparison() -> tuple[dict[str, list[str]], list[str]]:
    baseline = json.loads(BASELINE.read_text())
    # Round-trip through JSON so that both sides have the same types (lists, not tuples).
    current = json.loads(json.dumps(snapshot()))
    return compare(baseline, current)


def test_public_api_keeps_names_and_signatures_of_1029a95(comparison):
    breaks, additions = comparison
    if additions:
        warnings.warn(
            f"public API additions since 1029a95 ({len(additions)}): " + ", ".join(additions),
            stacklevel=1,
        )
    report = "\n".join(f"{key}: " + "; ".join(problems) for key, problems in sorted(breaks.items()))
    assert not breaks, f"public API broken since 1029a95:\n{report}"


def test_public_api_baseline_covers_the_contract_names():
    baseline = json.loads(BASELINE.read_text())
    for name in (
        "RealtimeEventHandler",
        "RealtimeAPI",
        "RealtimeConversation",
        "RealtimeClient",
        "RealtimeWidget",
        "LocalRealtimeServer",
        "ToolRegistry",
        "tool",
        "function_schema",
    ):
        assert name in baseline["realtime_widget"], name
    assert baseline["realtime_widget"]["RealtimeConversation"]["members"]["process_event"]


def _sig(*params: tuple[str, str, str | None], returns: str | None = "None") -> dict[str, Any]:
    return {
        "text": f"({', '.join(p[0] for p in params)})",
        "params": [[name, kind, default, None] for name, kind, default in params],
        "returns": returns,
    }


def test_signature_check_allows_a_new_keyword_with_a_default():
    old = _sig(("a", "POSITIONAL_OR_KEYWORD", None))
    new = _sig(("a", "POSITIONAL_OR_KEYWORD", None), ("b", "KEYWORD_ONLY", "1"))
    assert signature_problems(old, new) == []


@pytest.mark.parametrize(
    "new",
    [
        _sig(("a", "POSITIONAL_OR_KEYWORD", None), ("b", "KEYWORD_ONLY", None)),  # no default
        _sig(("b", "POSITIONAL_OR_KEYWORD", "1"), ("a", "POSITIONAL_OR_KEYWORD", None)),  # order
        _sig(("a", "KEYWORD_ONLY", None)),  # kind
        _sig(("a", "POSITIONAL_OR_KEYWORD", "2")),  # default
        _sig(),  # removed
        _sig(("a", "POSITIONAL_OR_KEYWORD", None), returns="int"),  # return
    ],
)
def test_signature_check_rejects_breaking_changes(new):
    old = _sig(("a", "POSITIONAL_OR_KEYWORD", None))
    assert signature_problems(old, new)


def test_compare_fails_on_a_removed_member_and_reports_an_added_one():
    method = {"kind": "method", "signature": None}
    cls = {"kind": "class", "signature": None, "members": {"m": method}}
    baseline = {"mod": {"C": cls}}
    current = {"mod": {"C": {**cls, "members": {"n": method}}}}
    breaks, additions = compare(baseline, current)
    assert breaks == {"mod:C.m": ["member removed"]}
    assert additions == ["mod:C.n"]
