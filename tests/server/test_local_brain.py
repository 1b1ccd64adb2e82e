"""LocalBrain and chat_messages with a scripted language-model stage (pure logic, no model)."""

from __future__ import annotations

import json
import threading

import pytest

from realtime_widget.protocol.builders import user_text_item
from realtime_widget.server.brains import BrainContext, Call
from realtime_widget.server.llm import StageError, chat_messages
from realtime_widget.server.local import LocalBrain

TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object"}}


class ScriptedLLM:
    """Answers each request with the next scripted text, in 3-character deltas."""

    name = "scripted"

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.requests: list[tuple[list[dict], list[dict]]] = []

    def stream(self, messages, tools, *, temperature, max_tokens, stop):
        self.requests.append((messages, tools))
        text = self.answers.pop(0)
        for i in range(0, len(text), 3):
            yield text[i : i + 3]


_user = user_text_item


CALL = {"type": "function_call", "call_id": "c1", "name": "lookup", "arguments": '{"q": "x"}'}
OUTPUT = {"type": "function_call_output", "call_id": "c1", "output": '{"answer": 42}'}


def _run(llm, items, tools=(TOOL,)):
    brain = LocalBrain(llm)
    return list(brain.stream(BrainContext(items=items, tools=tools), threading.Event()))


def test_chat_messages_turn_items_into_chat_turns_and_tools():
    context = BrainContext(items=[_user("hi"), CALL, OUTPUT], tools=[TOOL], instructions="Be kind.")
    messages, tools = chat_messages(context)
    assert messages[0]["role"] == "system" and messages[0]["content"].startswith("Be kind.")
    assert messages[1] == {"role": "user", "content": "hi"}
    assert messages[2]["tool_calls"][0]["function"] == {"name": "lookup", "arguments": '{"q": "x"}'}
    assert messages[3] == {"role": "tool", "tool_call_id": "c1", "content": '{"answer": 42}'}
    assert tools == [
        {
            "type": "function",
            "function": {"name": "lookup", "description": "", "parameters": {"type": "object"}},
        }
    ]


def test_local_brain_speaks_text_and_returns_calls_written_as_text():
    llm = ScriptedLLM(
        'Let me look. <tool_call>{"name": "lookup", "arguments": {"q": 1}}</tool_call>'
    )
    pieces = _run(llm, [_user("find it")])
    assert "".join(p for p in pieces if isinstance(p, str)).strip() == "Let me look."
    assert pieces[-1] == Call("lookup", json.dumps({"q": 1}))


def test_local_brain_refuses_an_unknown_tool_with_a_clear_error():
    llm = ScriptedLLM('{"name": "delete_everything", "arguments": {}}')
    with pytest.raises(StageError, match="does not exist: 'delete_everything'"):
        _run(llm, [_user("do it")])


def test_local_brain_answers_a_tool_result_without_offering_tools_and_retries_plainly():
    llm = ScriptedLLM('{"name": "lookup", "arguments": {}}', "The answer is 42.")
    pieces = _run(llm, [_user("what is it"), CALL, OUTPUT])
    assert "".join(pieces) == "The answer is 42."
    first, second = llm.requests
    assert first[1] == [] and second[1] == []  # no tools offered when answering a result
    assert "tool_calls" not in json.dumps(first[0])  # results read as text, not call syntax
    assert "what is it" in second[0][-1]["content"] and "42" in second[0][-1]["content"]


def test_local_brain_gives_up_when_the_model_keeps_calling_after_a_result():
    llm = ScriptedLLM('{"name": "lookup", "arguments": {}}', '{"name": "lookup", "arguments": {}}')
    with pytest.raises(StageError, match="instead of answering"):
        _run(llm, [_user("what is it"), CALL, OUTPUT])


def test_local_brain_reads_a_failed_tool_as_its_summary_sentence_not_json():
    from realtime_widget.tools import error_output

    failed = {**OUTPUT, "output": error_output("ValueError", "city not found", "lookup")}
    llm = ScriptedLLM("Sorry, I could not find that city.")
    pieces = _run(llm, [_user("weather in Atlantis?"), CALL, failed])
    assert "".join(pieces) == "Sorry, I could not find that city."
    prompt = json.dumps(llm.requests[0][0])
    assert "The tool lookup failed: ValueError: city not found." in prompt
    assert "summary" not in prompt and '\\"error\\"' not in prompt


def test_chat_messages_summarise_a_foreign_error_output_with_the_calls_name():
    foreign = {**OUTPUT, "output": '{"error": "no such city"}'}
    messages, _ = chat_messages(BrainContext(items=[_user("hi"), CALL, foreign], tools=[TOOL]))
    assert messages[-1]["content"] == "The tool lookup failed: no such city."
