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

The parsing is griffe's (``griffelib``, what openai-agents uses for the same job), with its style
detection (``parser="auto"``); this module only picks what a schema needs from griffe's sections.
One gap is filled here: griffe's Google parser takes a section header only after a blank line,
and docstrings in notebooks often put ``Keyword Args:`` right under the last argument, so a blank
line is inserted before a known Google section header that directly follows text.
"""

from __future__ import annotations

import inspect
import logging
import re
from dataclasses import dataclass, field

from griffe import Docstring, DocstringSectionKind

__all__ = ["ParsedDocstring", "parse_docstring"]

# Google section headers griffe knows (a line "Header:" alone).
_GOOGLE_HEADER = re.compile(
    r"^\s*(args|arguments|params|parameters|keyword args|keyword arguments|other args|"
    r"other arguments|other params|other parameters|raises|exceptions|returns|yields|receives|"
    r"examples?|attributes|warns|warnings|notes?|see also|todo)\s*:\s*$",
    re.IGNORECASE,
)
_PARAM_SECTIONS = frozenset(
    {DocstringSectionKind.parameters, DocstringSectionKind.other_parameters}
)
# Griffe reports missing types and unknown names through logging: a tool's docstring needs neither.
_QUIET = {
    "google": {"warnings": False},
    "numpy": {"warnings": False},
    "sphinx": {"warnings": False},
}


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


def _separate_google_headers(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and out[-1].strip() and _GOOGLE_HEADER.match(line):
            out.append("")
        out.append(line)
    return out


def _paragraphs(text: str) -> str:
    blocks = re.split(r"\n\s*\n", text)
    return "\n\n".join(" ".join(b.split()) for b in blocks if b.strip())


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
    text = "\n".join(_separate_google_headers(inspect.cleandoc(doc).splitlines()))
    griffe_logger = logging.getLogger("griffe")
    level = griffe_logger.level
    griffe_logger.setLevel(logging.ERROR)  # belt and braces: some warnings ignore the options
    try:
        sections = Docstring(text, parser="auto").parse(per_style_options=_QUIET)
    finally:
        griffe_logger.setLevel(level)
    description: list[str] = []
    params: dict[str, str] = {}
    in_description = True
    for section in sections:
        if section.kind is DocstringSectionKind.text:
            if in_description:
                description.append(section.value)
            continue
        in_description = False
        if section.kind in _PARAM_SECTIONS:
            for param in section.value:
                # NumPy's "lat, lon : float" documents two parameters; "**flag" is "flag".
                for name in param.name.split(","):
                    params[name.strip().lstrip("*")] = " ".join(param.description.split())
    return ParsedDocstring(description=_paragraphs("\n\n".join(description)), params=params)
