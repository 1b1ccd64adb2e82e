"""Failed tool outputs: a sentence to say, then the structured fields (issue 15, point 3)."""

from __future__ import annotations

import json

import pytest

from realtime_widget.protocol.tool_outputs import error_output, error_summary, spoken_output


def test_error_output_is_json_with_the_sentence_first():
    output = error_output("ValueError", "city not found", "get_weather")
    assert output == (
        '{"summary": "The tool get_weather failed: ValueError: city not found.", '
        '"error": {"type": "ValueError", "message": "city not found"}}'
    )
    assert spoken_output(output) == "The tool get_weather failed: ValueError: city not found."


@pytest.mark.parametrize(
    ("type_", "message", "sentence"),
    [
        ("cancelled", "whatever", "The tool t was cancelled by the user."),
        (
            "timeout",
            "Tool t did not finish within 1 s.",
            "The tool t timed out: Tool t did not finish within 1 s.",
        ),
        ("denied", "The user declined.", "The tool t was not run: The user declined."),
        ("KeyError", "'x'", "The tool t failed: KeyError: 'x'."),
        ("", "it broke", "The tool t failed: it broke."),
    ],
)
def test_error_summary_reads_well_for_each_kind(type_, message, sentence):
    assert error_summary(type_, message, "t") == sentence


def test_error_summary_quotes_a_long_message_cut_and_on_one_line():
    sentence = error_summary("ValueError", "line\n" * 500, "t")
    assert len(sentence) < 400 and "\n" not in sentence and sentence.endswith("....")


@pytest.mark.parametrize(
    ("output", "sentence"),
    [
        ('{"error": "no such city"}', "The tool t failed: no such city."),
        ('{"error": {"message": "boom", "type": "E"}}', "The tool t failed: E: boom."),
        ('{"error": {"code": "rate_limited"}}', "The tool t failed: rate_limited."),
        ('{"temp": 21}', None),
        ('{"error": null, "temp": 21}', None),
        ("the error was mine", None),
        ('"error"', None),
        ('{broken json, "error"', None),
        (None, None),
        (42, None),
    ],
)
def test_spoken_output_understands_other_clients_error_objects(output, sentence):
    assert spoken_output(output, "t") == sentence


def test_error_output_keeps_unicode_readable():
    assert json.loads(error_output("E", "Zürich?", "t"))["error"]["message"] == "Zürich?"
