"""Cutting a streamed answer into clauses for speech, and tool calls out of model text (pure).

Text-to-speech needs whole phrases to sound natural, and the listener should hear the first one
as soon as possible (DESIGN §10): :class:`ClauseSplitter` cuts at sentence ends, and at commas,
colons and semicolons once a clause has a few words; the first clause is cut earlier than the
rest. A period inside a number (``3.14``) or a comma inside one (``299,792``) is not a cut.

Small local models that know function calling (Qwen, Hermes and many others) write their calls
as text: ``<tool_call>{"name": ..., "arguments": {...}}</tool_call>``, or the bare JSON object
when the chat template's special tokens are hidden. :class:`ToolCallText` separates such calls
from the spoken text while tokens stream in, so no call is ever read aloud.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

__all__ = ["ClauseSplitter", "ParsedCall", "ToolCallText"]

_SENTENCE_END = re.compile(r"[.!?…]+[\"')\]]*\s")
_SOFT_END = re.compile(r"[,;:—–]\s")


class ClauseSplitter:
    """Collects text deltas and returns whole clauses as soon as they end.

    Args:
        first_words: a comma may end the first clause once it has this many words.
        words: the same for later clauses.
        max_words: a clause this long is cut at the next space even without punctuation.
    """

    def __init__(self, first_words: int = 3, words: int = 6, max_words: int = 24) -> None:
        self._buffer = ""
        self._first_words, self._words, self._max_words = first_words, words, max_words
        self.clauses = 0

    def feed(self, delta: str) -> list[str]:
        """Add a delta; return the clauses it completed (text with its trailing space)."""
        self._buffer += delta
        out = []
        while True:
            cut = self._cut()
            if cut is None:
                return out
            out.append(self._buffer[:cut])
            self._buffer = self._buffer[cut:]
            self.clauses += 1

    def flush(self) -> str:
        """The rest of the text (the last clause), emptying the splitter."""
        rest, self._buffer = self._buffer, ""
        if rest:
            self.clauses += 1
        return rest

    def _cut(self) -> int | None:
        text = self._buffer
        sentence = _SENTENCE_END.search(text)
        if sentence and _words(text[: sentence.start()]) >= 1:
            return sentence.end()
        minimum = self._first_words if self.clauses == 0 else self._words
        for soft in _SOFT_END.finditer(text):
            if _words(text[: soft.start()]) >= minimum:
                return soft.end()
        if _words(text) > self._max_words:
            spaces = [m.end() for m in re.finditer(r"\s+", text)]
            if len(spaces) > self._max_words:
                return spaces[self._max_words - 1]
        return None


def _words(text: str) -> int:
    return len(text.split())


@dataclass(frozen=True)
class ParsedCall:
    """A tool call found in model text: ``arguments`` is JSON text; ``error`` when unusable."""

    name: str
    arguments: str
    error: str | None = None


_OPEN, _CLOSE = "<tool_call>", "</tool_call>"


class ToolCallText:
    """Splits streamed model text into spoken text and tool calls written as text.

    Feed each delta; :meth:`feed` returns the text that is safe to speak now. Text that might be
    the start of a call (a ``<`` or a leading ``{``) is held until it is clearly not one. Calls
    are collected in :attr:`calls` as they close; :meth:`finish` parses what is left.
    """

    def __init__(self) -> None:
        self._held = ""
        self._in_call = False
        self._call_text = ""
        self._spoke = False
        self.calls: list[ParsedCall] = []

    def feed(self, delta: str) -> str:
        """Add a delta; return the text to speak now (may be empty)."""
        self._held += delta
        spoken = ""
        while self._held:
            if self._in_call:
                end = self._held.find(_CLOSE)
                if end < 0:
                    keep = _partial_tag(self._held, _CLOSE)  # "</tool_ca" may end this delta
                    self._call_text += self._held[: len(self._held) - keep]
                    self._held = self._held[len(self._held) - keep :]
                    break
                self._call_text += self._held[:end]
                self._held = self._held[end + len(_CLOSE) :]
                self._end_call()
                continue
            start = self._held.find(_OPEN)
            if start >= 0:
                spoken += self._held[:start]
                self._held = self._held[start + len(_OPEN) :]
                self._in_call = True
                continue
            if not self._spoke and self._held.lstrip().startswith("{"):
                self._in_call, self._call_text, self._held = True, self._held, ""
                break  # a bare JSON call: the rest of the answer belongs to it
            keep = _partial_tag(self._held, _OPEN)
            if not self._spoke and not self._held.strip():
                keep = len(self._held)  # leading whitespace: wait for the first word
            spoken += self._held[: len(self._held) - keep]
            self._held = self._held[len(self._held) - keep :]
            break
        if spoken.strip():
            self._spoke = True
        return spoken

    def finish(self) -> str:
        """End of the answer: parse an unclosed call, return any text still held."""
        rest, self._held = self._held, ""
        if self._in_call:
            self._call_text += rest
            self._end_call()
            return ""
        return rest

    def _end_call(self) -> None:
        self._in_call = False
        text, self._call_text = self._call_text.strip(), ""
        if text:
            self.calls.extend(_parse_calls(text))


def _partial_tag(text: str, tag: str) -> int:
    """Length of a suffix of ``text`` that could be the start of ``tag``."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


def _parse_calls(text: str) -> list[ParsedCall]:
    """One or more JSON objects ``{"name", "arguments"}`` (one per line when several)."""
    decoder = json.JSONDecoder()
    calls, pos = [], 0
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            break
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except ValueError as exc:
            calls.append(
                ParsedCall("", text, f"the model wrote a tool call that is not JSON: {exc}")
            )
            break
        if not isinstance(obj, dict) or not isinstance(obj.get("name"), str):
            calls.append(ParsedCall("", json.dumps(obj), "the model's tool call has no name"))
            continue
        arguments = obj.get("arguments", obj.get("parameters", {}))
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except ValueError:
                calls.append(
                    ParsedCall(obj["name"], arguments, "the model's tool arguments are not JSON")
                )
                continue
        calls.append(ParsedCall(obj["name"], json.dumps(arguments)))
    return calls
