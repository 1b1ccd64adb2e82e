"""Live settings (issue 15, point 5): the widget's `settings` applied through ``session.update``
while connected, the voice locked after the first audio, a refused field marked and undone.

Against the embedded server through the real client; the server's ``session.updated`` is what
is checked, not the client's copy.
"""

from __future__ import annotations

import typing

import pytest
from openai.types.realtime import realtime_audio_config_output

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from realtime_widget.widget._settings import MODELS, VOICES, session_keywords
from tests.widget.test_widget import stream_long_reply, wait_until


@pytest.fixture
def server():
    with LocalRealtimeServer() as s:
        yield s


@pytest.fixture
def widget(server):
    w = RealtimeWidget(url=server.url)
    updated: list[dict] = []

    def on_event(event):
        if event.get("source") == "server" and event["event"].get("type") == "session.updated":
            updated.append(event["event"]["session"])

    w.client.on("realtime.event", on_event)
    w.updated = updated  # the server's answers, newest last
    wait_until(lambda: w.status == "connected", what="connected")
    yield w
    w.close()


def test_choices_come_from_the_installed_sdk():
    literal = [a for a in typing.get_args(realtime_audio_config_output.Voice) if typing.get_args(a)]
    assert VOICES == list(typing.get_args(literal[0])) and "marin" in VOICES
    assert "gpt-realtime-2" in MODELS and all("realtime" in m or "audio" in m for m in MODELS)
    assert MODELS.index("gpt-realtime-2") < MODELS.index("gpt-realtime-mini")  # current first


def test_session_keywords_map_toggles_and_leave_a_locked_voice_out():
    vad = {"type": "server_vad", "threshold": 0.5}
    settings = {"voice": "cedar", "text_only": True, "input_transcription": False}
    kw = session_keywords(settings, True, vad, voice_locked=False)
    assert kw["voice"] == "cedar" and kw["output_modalities"] == ["text"]
    assert kw["input_audio_transcription"] is None and kw["turn_detection"] == vad
    assert "voice" not in session_keywords(settings, False, vad, voice_locked=True)
    assert session_keywords({}, False, vad, False) == {"turn_detection": None}


def test_settings_apply_live_and_the_server_confirms(widget):
    w = widget
    w.settings = {**w.settings, "voice": "cedar", "instructions": "Speak like a pirate."}
    wait_until(
        lambda: w.updated and w.updated[-1]["instructions"] == "Speak like a pirate.",
        what="session.updated with the new instructions",
    )
    assert w.updated[-1]["audio"]["output"]["voice"] == "cedar"
    w.settings = {**w.settings, "text_only": True, "input_transcription": False}
    wait_until(
        lambda: (
            w.updated[-1]["output_modalities"] == ["text"]
            and w.updated[-1]["audio"]["input"]["transcription"] is None
        ),
        what="text-only and no transcription",
    )
    assert w.settings_status["refused"] == {} and w.errors == []


def test_voice_locks_after_the_first_audio_and_unlocks_with_a_new_session(widget):
    w = widget
    assert w.settings_status["voice_locked"] == ""
    stream_long_reply(w)
    wait_until(lambda: w.settings_status["voice_locked"], what="voice locked")
    assert "Disconnect" in w.settings_status["voice_locked"]
    sent = len(w.updated)
    w.settings = {**w.settings, "voice": "ballad", "instructions": "Shorter."}
    wait_until(lambda: len(w.updated) > sent, what="the instructions update")
    assert w.updated[-1]["audio"]["output"]["voice"] != "ballad"
    wait_until(lambda: w.settings["voice"] != "ballad", what="the voice field put back")
    w.disconnect()
    w.connect()
    assert w.settings_status["voice_locked"] == ""


def test_a_refused_field_is_marked_and_put_back(widget):
    w = widget
    before = dict(w.settings["turn_detection"])
    w.settings = {**w.settings, "turn_detection": {**before, "threshold": 5}}
    wait_until(lambda: w.settings_status["refused"], what="a refused field")
    assert "1.0" in w.settings_status["refused"]["turn_detection"]
    threshold = before["threshold"]
    wait_until(lambda: w.settings["turn_detection"]["threshold"] == threshold, what="undo")
    # Another edit goes through; the refused value is not sent again.
    sent = len(w.updated)
    w.settings = {**w.settings, "instructions": "Be brief."}
    wait_until(lambda: len(w.updated) > sent, what="the next update accepted")
    assert w.updated[-1]["audio"]["input"]["turn_detection"]["threshold"] == before["threshold"]
    assert "turn_detection" in w.settings_status["refused"]  # still shown until edited


def test_a_new_model_applies_at_the_next_connection(widget):
    w = widget
    w.settings = {**w.settings, "model": "gpt-realtime-2.1"}
    wait_until(lambda: w.settings_status["model_note"], what="model note")
    assert "next connection" in w.settings_status["model_note"]
    assert "model=gpt-realtime-2.1" in w.client.realtime.url
    w.disconnect()
    w.connect()
    assert w.settings_status["model"] == "gpt-realtime-2.1"
    assert w.settings_status["model_note"] == ""
