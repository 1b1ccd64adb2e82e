"""Clauses for speech and tool calls written as text (pure)."""

from __future__ import annotations

import json

from realtime_widget.server._clauses import ClauseSplitter, ToolCallText


def _split(deltas: list[str]) -> list[str]:
    splitter = ClauseSplitter()
    out = [c for d in deltas for c in splitter.feed(d)]
    rest = splitter.flush()
    return out + ([rest] if rest else [])


def test_splitter_cuts_sentences_and_keeps_every_character():
    text = "The speed of light is 299,792 km/s. That is fast! Light from the Sun takes 8.3 minutes."
    clauses = _split(list(text))  # one character per delta, as the worst tokenizer would
    assert "".join(clauses) == text
    assert clauses[0] == "The speed of light is 299,792 km/s. "
    assert clauses[1] == "That is fast! "


def test_splitter_cuts_the_first_clause_early_at_a_comma():
    clauses = _split(["Well, ", "hello there, ", "my good friend, how are you today?"])
    assert clauses[0] == "Well, hello there, "
    assert "".join(clauses) == "Well, hello there, my good friend, how are you today?"


def test_splitter_cuts_a_run_on_clause_at_max_words():
    text = " ".join(f"w{i}" for i in range(60))
    clauses = _split([text])
    assert len(clauses) >= 2 and all(len(c.split()) <= 24 for c in clauses)
    assert "".join(clauses) == text


def test_tool_call_text_separates_tagged_calls_from_speech():
    parser = ToolCallText()
    call = '{"name": "get_weather", "arguments": {"city": "Paris"}}'
    raw = f"Let me check. <tool_call>\n{call}\n</tool_call>"
    spoken = "".join(parser.feed(ch) for ch in raw) + parser.finish()
    assert spoken.strip() == "Let me check."
    assert [(c.name, json.loads(c.arguments)) for c in parser.calls] == [
        ("get_weather", {"city": "Paris"})
    ]


def test_tool_call_text_takes_a_bare_json_call_and_speaks_nothing():
    parser = ToolCallText()
    raw = (
        '{"name": "add", "arguments": {"a": 2, "b": 3}}\n'
        '{"name": "add", "arguments": "{\\"a\\": 1}"}'
    )
    spoken = "".join(parser.feed(raw[i : i + 3]) for i in range(0, len(raw), 3)) + parser.finish()
    assert spoken == ""
    assert [c.arguments for c in parser.calls] == ['{"a": 2, "b": 3}', '{"a": 1}']


def test_tool_call_text_reports_malformed_call_json():
    parser = ToolCallText()
    parser.feed('<tool_call>{"name": "add", "arguments": {"a": </tool_call>')
    parser.finish()
    assert parser.calls[0].error and "not JSON" in parser.calls[0].error


def test_tool_call_text_leaves_ordinary_braces_later_in_speech_alone():
    parser = ToolCallText()
    spoken = parser.feed("Use braces like {this} in Python.") + parser.finish()
    assert spoken == "Use braces like {this} in Python." and parser.calls == []
