"""Docstring parsing for tool schemas: the summary and the parameter descriptions.

Three common styles are understood, because notebook users write all of them:

Google::

    Args:
        city (str): The city name,
            continued on an indented line.

NumPy::

    Parameters
    ----------
    city : str
        The city name.

reST / Sphinx::

    :param city: The city name.
    :param str unit: The unit.

The text before the first section becomes the tool's description. Pure: no I/O.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

__all__ = ["ParsedDocstring", "parse_docstring"]

# Google section headers (a line "Header:" alone); the parameter ones feed descriptions.
_GOOGLE_PARAM_HEADERS = frozenset(
    {"args", "arguments", "parameters", "params", "keyword args", "keyword arguments", "kwargs"}
)
_GOOGLE_HEADERS = _GOOGLE_PARAM_HEADERS | frozenset(
    {
        "attributes",
        "example",
        "examples",
        "note",
        "notes",
        "raises",
        "references",
        "return",
        "returns",
        "see also",
        "todo",
        "warning",
        "warnings",
        "yield",
        "yields",
        "other parameters",
    }
)
_NUMPY_PARAM_HEADERS = frozenset({"parameters", "other parameters", "keyword arguments"})

_GOOGLE_ENTRY = re.compile(r"^(\*{0,2}[A-Za-z_][A-Za-z0-9_]*)\s*(\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ENTRY = re.compile(r"^\*{0,2}[A-Za-z_]\w*(\s*,\s*\*{0,2}[A-Za-z_]\w*)*\s*(:.*)?$")
_REST_PARAM = re.compile(
    r"^:(?:param|parameter|arg|argument|key|keyword)\s+(?:[^:]*\s)?([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$"
)
_REST_FIELD = re.compile(r"^:[A-Za-z]+[^:]*:")
_UNDERLINE = re.compile(r"^\s*-{3,}\s*$")


@dataclass(frozen=True)
class ParsedDocstring:
    """What a tool schema needs from a docstring.

    Attributes:
        description: The text before the first section (summary and extended description),
            paragraphs separated by a blank line.
        params: Parameter name -> description, whitespace collapsed.
    """

    description: str = ""
    params: dict[str, str] = field(default_factory=dict)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _is_google_header(line: str) -> bool:
    stripped = line.strip()
    return stripped.endswith(":") and stripped[:-1].strip().lower() in _GOOGLE_HEADERS


def _is_numpy_header(lines: list[str], i: int) -> bool:
    return (
        i + 1 < len(lines) and bool(lines[i].strip()) and _UNDERLINE.match(lines[i + 1]) is not None
    )


def _section_start(lines: list[str], i: int) -> bool:
    line = lines[i]
    return (
        _is_google_header(line)
        or _is_numpy_header(lines, i)
        or _REST_FIELD.match(line.strip()) is not None
    )


def _join(parts: list[str]) -> str:
    return " ".join(" ".join(p.split()) for p in parts if p.strip()).strip()


def _parse_google(lines: list[str], start: int, params: dict[str, str]) -> None:
    """Read entries of a Google parameter section starting after its header line."""
    header_indent = _indent(lines[start - 1])
    entry_indent: int | None = None
    name: str | None = None
    parts: list[str] = []
    for line in lines[start:]:
        if not line.strip():
            if parts:
                parts.append("")
            continue
        indent = _indent(line)
        if indent <= header_indent:
            break
        if entry_indent is None:
            entry_indent = indent
        match = _GOOGLE_ENTRY.match(line.strip()) if indent == entry_indent else None
        if match:
            if name:
                params[name] = _join(parts)
            name, parts = match.group(1).lstrip("*"), [match.group(3)]
        elif name:
            parts.append(line)
    if name:
        params[name] = _join(parts)


def _parse_numpy(lines: list[str], start: int, params: dict[str, str]) -> None:
    """Read entries of a NumPy parameter section starting after its underline."""
    base = _indent(lines[start - 2])
    names: list[str] = []
    parts: list[str] = []

    def flush() -> None:
        for n in names:
            params[n] = _join(parts)

    i = start
    while i < len(lines):
        line = lines[i]
        if _is_numpy_header(lines, i) and _indent(line) <= base:
            break
        if line.strip() and _indent(line) <= base:
            match = _NUMPY_ENTRY.match(line.strip())
            if not match:
                break
            flush()
            # "x, y : int" documents two parameters at once.
            head = line.strip().split(":", 1)[0]
            names = [n.strip().lstrip("*") for n in head.split(",") if n.strip()]
            parts = []
        elif names:
            parts.append(line)
        i += 1
    flush()


def _parse_rest(lines: list[str], params: dict[str, str]) -> None:
    name: str | None = None
    parts: list[str] = []
    for line in lines:
        stripped = line.strip()
        match = _REST_PARAM.match(stripped)
        if match:
            if name:
                params[name] = _join(parts)
            name, parts = match.group(1), [match.group(2)]
        elif _REST_FIELD.match(stripped) or (not stripped and name and not parts):
            if name:
                params[name] = _join(parts)
            name, parts = None, []
        elif name and stripped:
            parts.append(stripped)
        elif name and not stripped:
            params[name] = _join(parts)
            name, parts = None, []
    if name:
        params[name] = _join(parts)


def parse_docstring(doc: str | None) -> ParsedDocstring:
    """Split a docstring into its description and its parameter descriptions.

    Args:
        doc: The raw docstring (``fn.__doc__``), or None.

    Returns:
        The description (text before the first section) and a mapping from parameter name to
        its description. Unknown layouts give the whole text as description and no parameters.
    """
    if not doc or not doc.strip():
        return ParsedDocstring()
    lines = inspect.cleandoc(doc).splitlines()
    first_section = next((i for i in range(len(lines)) if _section_start(lines, i)), len(lines))
    paragraphs: list[list[str]] = [[]]
    for line in lines[:first_section]:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    description = "\n\n".join(" ".join(p) for p in paragraphs if p)

    params: dict[str, str] = {}
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.endswith(":") and stripped[:-1].strip().lower() in _GOOGLE_PARAM_HEADERS:
            _parse_google(lines, i + 1, params)
        elif _is_numpy_header(lines, i) and stripped.lower() in _NUMPY_PARAM_HEADERS:
            _parse_numpy(lines, i + 2, params)
    if any(_REST_PARAM.match(line.strip()) for line in lines):
        _parse_rest(lines[first_section:], params)
    return ParsedDocstring(description=description, params=params)
