"""Brains: EchoBrain's tool requests, ScriptedBrain, callables."""

from __future__ import annotations

import json

import pytest

from realtime_widget.protocol.builders import user_text_item
from realtime_widget.server import BrainContext, Call, EchoBrain, Say, ScriptedBrain
from realtime_widget.server.brains import CallableBrain, as_brain

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer", "default": 1},
        },
        "required": ["city", "unit"],
    },
}
ADD = {
    "type": "function",
    "name": "add",
    "parameters": {
        "type": "object",
        "properties": {"a": {"type": "number"}, "b": {"type": "number"}},
        "required": ["a", "b"],
    },
}


_user = user_text_item


def _ask(text: str, tools=(WEATHER, ADD), brain=None) -> list:
    return (brain or EchoBrain()).respond(BrainContext(items=[_user(text)], tools=list(tools)))


def test_echo_brain_echoes_last_user_message_without_tools():
    assert _ask("hello", tools=()) == [Say("You said: hello")]


def test_echo_brain_reads_user_audio_transcript():
    item = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_audio", "transcript": "[speech 1.2 s]"}],
    }
    assert EchoBrain().respond(BrainContext(items=[item])) == [Say("You said: [speech 1.2 s]")]


def test_echo_brain_calls_tool_with_explicit_json():
    [call] = _ask('call add with {"a": 1, "b": 2.5}')
    assert isinstance(call, Call) and json.loads(call.arguments_json) == {"a": 1, "b": 2.5}


def test_echo_brain_calls_tool_with_key_value_pairs():
    [call] = _ask('get_weather city="New York" unit=fahrenheit days=3')
    assert json.loads(call.arguments_json) == {"city": "New York", "unit": "fahrenheit", "days": 3}


def test_echo_brain_infers_arguments_from_schema_when_tool_is_mentioned():
    [call] = _ask("What is the weather in Paris?")
    assert call.name == "get_weather"
    assert json.loads(call.arguments_json) == {"city": "Paris", "unit": "celsius", "days": 1}


def test_echo_brain_makes_parallel_calls_for_several_tools():
    calls = _ask("get weather in Oslo and add the numbers")
    assert [c.name for c in calls] == ["get_weather", "add"]


def test_echo_brain_answers_with_tool_outputs():
    items = [
        _user("add 2 and 3"),
        {"type": "function_call", "call_id": "c1", "name": "add", "arguments": '{"a":2,"b":3}'},
        {"type": "function_call_output", "call_id": "c1", "output": "5"},
    ]
    assert EchoBrain().respond(BrainContext(items=items, tools=[ADD])) == [Say("add returned 5.")]


def test_scripted_brain_plays_entries_then_falls_back():
    brain = ScriptedBrain(
        ["first", [Call("add", {"a": 1, "b": 2}), Say("and")], lambda ctx: {"text": "third"}]
    )
    ctx = BrainContext(items=[_user("x")])
    assert brain.respond(ctx) == [Say("first")]
    assert [type(p) for p in brain.respond(ctx)] == [Call, Say]
    assert brain.respond(ctx) == [Say("third")]
    assert brain.respond(ctx) == [Say("You said: x")]
    assert len(brain.contexts) == 4


def test_scripted_brain_rejects_unknown_entries():
    with pytest.raises(TypeError, match="Say, Call"):
        ScriptedBrain([42]).respond(BrainContext())


def test_any_text_callable_is_a_brain():
    brain = as_brain(str.upper)
    assert isinstance(brain, CallableBrain)
    assert brain.respond(BrainContext(items=[_user("hi")])) == [Say("HI")]
    assert isinstance(as_brain(None), EchoBrain)
    with pytest.raises(TypeError):
        as_brain(42)


def test_echo_brain_assigns_numbers_to_numeric_fields_in_order():
    [call] = _ask("please add 2 and 3.5", tools=(ADD,))
    assert json.loads(call.arguments_json) == {"a": 2, "b": 3.5}


def test_echo_brain_speaks_a_failed_tools_summary_instead_of_its_json():
    from realtime_widget.tools import error_output

    items = [
        _user("get_weather in Atlantis"),
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
        {
            "type": "function_call_output",
            "call_id": "c1",
            "output": error_output("ValueError", "city not found", "get_weather"),
        },
    ]
    assert EchoBrain().respond(BrainContext(items=items)) == [
        Say("The tool get_weather failed: ValueError: city not found.")
    ]
