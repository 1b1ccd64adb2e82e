"""RealtimeWidget in-process, against the embedded server through the real client.

Browser messages go through ipywidgets' own custom-message path (`_handle_custom_msg`, what the
comm calls), so the handlers run exactly as they do in a kernel; what the kernel sends to the
browser is checked in test_widget_kernel.py with a real ipykernel.
"""

from __future__ import annotations

import json
import re
import time
import wave

import numpy as np
import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from realtime_widget.server import synthesize
from tests.helpers import UNIT

SECRET = "sk-test-0123456789-secret-key"


def wait_until(predicate, timeout=10 * UNIT, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def completed_reply(w):
    return [i for i in w.items if i["role"] == "assistant" and i["status"] == "completed"]


def browser(w, content, buffers=()):
    """Deliver a custom message as the comm would (ipywidgets' own dispatch)."""
    w._handle_custom_msg(content, [memoryview(b) for b in buffers])


LONG_REQUEST = "please say a rather long sentence so that there is time to talk over it"


def stream_long_reply(w, request=LONG_REQUEST):
    """Ask for a long spoken answer; return its item view once 0.5 s of audio has streamed."""
    w.send_text(request)
    return wait_until(
        lambda: [i for i in w.items if i["role"] == "assistant" and i["audio_samples"] > 12000],
        what="assistant audio streaming",
    )[0]


def speak(w, speech):
    """Send int16 ``speech`` as the browser's microphone does: 40 ms binary chunks."""
    for seq, start in enumerate(range(0, len(speech), 960)):
        browser(
            w, {"type": "audio", "seq": seq}, [speech[start : start + 960].astype("<i2").tobytes()]
        )


@pytest.fixture
def no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def server():
    with LocalRealtimeServer() as s:
        yield s


@pytest.fixture
def widget(server):
    w = RealtimeWidget(url=server.url)
    wait_until(lambda: w.status == "connected", what="connected")
    yield w
    w.close()


def test_widget_without_arguments_or_key_starts_the_embedded_server_and_says_offline_demo(no_key):
    w = RealtimeWidget()
    try:
        assert w.server is not None
        assert "offline demo" in w.notice and "OPENAI_API_KEY" in w.notice
        assert "offline demo" in w.server_label
        wait_until(lambda: w.status == "connected", what="connected")
        assert w.client.is_connected
    finally:
        w.close()
    assert not w.client.is_connected


def test_widget_embedded_server_requires_a_key_only_the_kernel_knows(no_key):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    w = RealtimeWidget()
    other = RealtimeWidget(autoconnect=False)
    try:
        wait_until(lambda: w.status == "connected", what="connected with the kernel's key")
        key = w.server.api_key
        assert key and len(key) >= 32  # random (a new one per server: test_widget_server.py)
        assert other.server is w.server  # the offline widgets of a process share one server
        for headers in ({}, {"Authorization": "Bearer sk-guessed"}):
            with pytest.raises(InvalidStatus) as info:
                connect(w.server.url, additional_headers=headers, open_timeout=5 * UNIT)
            assert info.value.response.status_code == 401
        w.send_text("hello with the local key")
        wait_until(lambda: completed_reply(w), what="a completed reply")
        browser(w, {"type": "hello", "view": "v1"})  # a view appears: saved state refreshed
        wait_until(lambda: w.items_snapshot and w.event_log, what="saved-state traits")
        text = json.dumps(w.get_state(), default=str) + repr(w) + repr(w.client) + repr(w.server)
        assert key not in text + str(w.errors) + w.server_label + w.notice
    finally:
        w.close()
        other.close()


def test_widget_send_text_round_trip_through_the_real_client_and_server(widget):
    widget.send_text("hello widget")
    reply = wait_until(lambda: completed_reply(widget), what="a completed reply")[0]
    assert reply["transcript"] == "You said: hello widget"
    assert reply["audio_samples"] > 24000 // 2
    user = next(i for i in widget.items if i["role"] == "user")
    assert user["text"] == "hello widget"
    assert widget.transcript == "**User:** hello widget\n\n**Assistant:** You said: hello widget"
    wait_until(lambda: widget.usage.get("responses") == 1, what="usage trait")


def test_widget_typed_message_from_the_browser_reaches_the_model(widget):
    browser(widget, {"type": "text", "text": "typed in the browser"})
    reply = wait_until(lambda: completed_reply(widget), what="a completed reply")[0]
    assert reply["transcript"] == "You said: typed in the browser"


def test_widget_traits_repr_and_event_log_hold_no_audio_and_no_api_key():
    with LocalRealtimeServer(api_key=SECRET) as s:
        w = RealtimeWidget(url=s.url, api_key=SECRET)
        try:
            wait_until(lambda: w.status == "connected", what="connected with the key")
            w.send_text("say something long enough to stream audio")
            wait_until(lambda: completed_reply(w), what="a completed reply")
            browser(w, {"type": "hello", "view": "v1"})  # a view appears: saved state refreshed
            wait_until(lambda: w.items_snapshot and w.event_log, what="saved-state traits")
            state = json.dumps(w.get_state(), default=str)
            text = state + repr(w) + str(w.errors)
            assert SECRET not in text
            # No audio: no long base64 runs anywhere in the synced state.
            assert not re.search(r"[A-Za-z0-9+/]{200,}", state.replace(w.get_state()["_esm"], ""))
            assert any("bytes of audio" in e["json"] for e in w.event_log)
            # Item views carry sample counts, never the samples.
            assert all("audio" not in item for item in w.items)
            assert any(item["audio_samples"] > 0 for item in w.items if item["role"] == "assistant")
        finally:
            w.close()


def test_widget_refuses_send_text_while_disconnected_with_a_hint(server):
    w = RealtimeWidget(url=server.url, autoconnect=False)
    try:
        assert w.status == "disconnected"
        with pytest.raises(RuntimeError, match="connect"):
            w.send_text("hi")
        w.connect()
        assert w.status == "connected"
        w.disconnect()
        assert w.status == "disconnected"
    finally:
        w.close()


def test_widget_push_to_talk_turns_binary_audio_buffers_into_a_user_turn(server):
    w = RealtimeWidget(url=server.url, turn_detection=None)
    try:
        wait_until(lambda: w.status == "connected", what="connected")
        assert w.hands_free is False and w.client.get_turn_detection_type() is None
        speech = synthesize("What is the weather like today?")
        browser(w, {"type": "ptt_start", "played": []})
        speak(w, speech)
        browser(w, {"type": "ptt_stop"})
        wait_until(lambda: completed_reply(w), timeout=20 * UNIT, what="a spoken reply")
        user = [i for i in w.items if i["role"] == "user"]
        assert len(user) == 1
        assert user[0]["audio_samples"] == len(speech)
    finally:
        w.close()


def test_widget_push_to_talk_too_short_is_reported_not_sent(server):
    w = RealtimeWidget(url=server.url, turn_detection=None)
    try:
        wait_until(lambda: w.status == "connected", what="connected")
        browser(w, {"type": "ptt_start", "played": []})
        browser(w, {"type": "audio", "seq": 1}, [np.zeros(480, "<i2").tobytes()])
        browser(w, {"type": "ptt_stop"})
        error = wait_until(lambda: w.errors, what="an error entry")[-1]
        assert error["code"] == "input_too_short" and "hold" in error["message"].lower()
        assert not [i for i in w.items if i["role"] == "user"]
    finally:
        w.close()


def test_widget_stop_truncates_the_playing_item_at_what_the_browser_played():
    with LocalRealtimeServer(speed=1.0) as s:
        w = RealtimeWidget(url=s.url, turn_detection=None)
        try:
            wait_until(lambda: w.status == "connected", what="connected")
            streaming = stream_long_reply(
                w, "please say a rather long sentence so that there is time to stop it " * 2
            )
            report = {"item_id": streaming["id"], "content_index": 0, "samples": 12000}
            browser(w, {"type": "stop", "played": [report]})
            cut = wait_until(lambda: w.last_truncate, what="a truncate")
            assert cut == {"item_id": streaming["id"], "content_index": 0, "audio_end_ms": 500}
            assert w.played_samples == {f"{streaming['id']}:0": 12000}
            item = wait_until(
                lambda: [i for i in w.items if i["id"] == streaming["id"] and i["truncated_ms"]],
                what="the item marked truncated",
            )[0]
            assert item["truncated_ms"] == 500
        finally:
            w.close()


def test_widget_played_reports_are_cumulative_and_never_go_back(widget):
    browser(
        widget, {"type": "played", "played": [{"item_id": "a", "content_index": 0, "samples": 500}]}
    )
    browser(
        widget, {"type": "played", "played": [{"item_id": "a", "content_index": 0, "samples": 200}]}
    )
    wait_until(lambda: widget.played_samples.get("a:0") == 500, what="played count")
    time.sleep(0.1 * UNIT)
    assert widget.played_samples == {"a:0": 500}


def test_widget_browser_errors_land_in_the_errors_trait(widget):
    browser(widget, {"type": "browser_error", "code": "mic_denied", "message": "Microphone denied"})
    error = wait_until(lambda: widget.errors, what="errors trait")[-1]
    assert error["source"] == "browser" and error["code"] == "mic_denied"


def test_widget_save_audio_and_play_give_24khz_wav(widget, tmp_path):
    widget.send_text("audio please")
    reply = wait_until(lambda: completed_reply(widget), what="a completed reply")[0]
    path = widget.save_audio(tmp_path / "reply.wav", reply["id"])
    with wave.open(str(path)) as f:
        assert f.getframerate() == 24000 and f.getnchannels() == 1
        assert f.getnframes() == reply["audio_samples"]
    whole = widget.save_audio(tmp_path / "all.wav")
    with wave.open(str(whole)) as f:
        assert f.getnframes() >= reply["audio_samples"]
    audio = widget.play()
    assert audio.data[:4] == b"RIFF"
    with pytest.raises(ValueError, match="no audio"):
        widget.save_audio(tmp_path / "none.wav", "item_missing")


def test_widget_tool_decorator_registers_a_tool_the_model_can_call(widget):
    @widget.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    assert "add" in widget.client.tools
    widget.send_text('call add with {"a": 2, "b": 3}')
    call = wait_until(
        lambda: [
            i for i in widget.items if i["type"] == "function_call" and i["tool_state"] == "done"
        ],
        timeout=20 * UNIT,
        what="a finished tool call",
    )[0]
    assert call["tool"]["name"] == "add" and call["duration_ms"] is not None
    assert call["output"] == "5"  # the card shows the call's result
    # The output item appears when the server announces it, a moment after the tool finished.
    outputs = wait_until(
        lambda: [i for i in widget.items if i["type"] == "function_call_output"],
        timeout=10 * UNIT,
        what="the call's output item",
    )
    assert outputs[0]["output"] == "5"


def test_widget_hands_free_switch_changes_turn_detection_live(widget):
    assert widget.client.get_turn_detection_type() == "server_vad"
    widget.hands_free = False
    wait_until(lambda: widget.client.get_turn_detection_type() is None, what="manual turns")
    widget.hands_free = True
    wait_until(lambda: widget.client.get_turn_detection_type() == "server_vad", what="server VAD")


def test_widget_barge_in_without_a_view_truncates_at_the_last_played_report():
    with LocalRealtimeServer(speed=1.0) as s:
        w = RealtimeWidget(url=s.url)  # hands-free: server VAD interrupts
        try:
            wait_until(lambda: w.status == "connected", what="connected")
            streaming = stream_long_reply(w)
            report = {"item_id": streaming["id"], "content_index": 0, "samples": 7200}
            browser(w, {"type": "played", "played": [report]})
            # The user talks over the answer; no view is attached to answer the clear frame.
            speak(w, synthesize("Wait, stop talking please."))
            cut = wait_until(lambda: w.last_truncate, timeout=15 * UNIT, what="a truncate")
            assert cut == {"item_id": streaming["id"], "content_index": 0, "audio_end_ms": 300}
        finally:
            w.close()


def test_widget_barge_in_with_a_view_truncates_at_the_views_final_played_count():
    import threading

    with LocalRealtimeServer(speed=1.0) as s:
        w = RealtimeWidget(url=s.url)
        try:
            wait_until(lambda: w.status == "connected", what="connected")
            browser(w, {"type": "hello", "view": "v1"})
            interrupted = threading.Event()
            w.on("conversation.interrupted", lambda event: interrupted.set())
            streaming = stream_long_reply(w)
            stale = {"item_id": streaming["id"], "content_index": 0, "samples": 7200}
            browser(w, {"type": "played", "played": [stale]})
            speak(w, synthesize("Wait, stop talking please."))
            assert interrupted.wait(15 * UNIT), "server VAD did not hear the speech"
            time.sleep(0.6 * UNIT)  # longer than a round trip: the kernel waits for the view
            assert w.last_truncate is None
            final = {"item_id": streaming["id"], "content_index": 0, "samples": 9600}
            browser(w, {"type": "interrupted", "played": [final]})
            cut = wait_until(lambda: w.last_truncate, what="a truncate")
            assert cut == {"item_id": streaming["id"], "content_index": 0, "audio_end_ms": 400}
            assert w.played_samples[f"{streaming['id']}:0"] == 9600
        finally:
            w.close()


def test_widget_bound_to_a_given_client_leaves_it_connected_when_closed(server):
    from realtime_widget import RealtimeClient

    client = RealtimeClient(url=server.url)
    client.connect()
    try:
        w = RealtimeWidget(client)
        assert w.client is client and w.server is None and w.notice == ""
        # The client's manual turns are shown as they are, not replaced by the widget's default.
        assert w.hands_free is False and client.get_turn_detection_type() is None
        wait_until(lambda: w.status == "connected", what="connected")
        w.send_text("shared client")
        wait_until(lambda: completed_reply(w), what="a completed reply")
        w.close()
        assert client.is_connected
    finally:
        client.disconnect()


def test_widget_with_interrupt_response_off_keeps_playing_over_the_user():
    import threading

    with LocalRealtimeServer(speed=1.0) as s:
        w = RealtimeWidget(url=s.url, turn_detection={"interrupt_response": False})
        try:
            wait_until(lambda: w.status == "connected", what="connected")
            interrupted = threading.Event()
            w.on("conversation.interrupted", lambda event: interrupted.set())
            streaming = stream_long_reply(w)
            report = {"item_id": streaming["id"], "content_index": 0, "samples": 7200}
            browser(w, {"type": "played", "played": [report]})
            speak(w, synthesize("Wait, stop talking please."))
            assert interrupted.wait(15 * UNIT), "server VAD did not hear the speech"
            time.sleep(0.5 * UNIT)
            assert w.last_truncate is None
        finally:
            w.close()


def test_widget_with_a_key_in_the_environment_targets_openai_without_showing_the_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    w = RealtimeWidget(autoconnect=False, instructions="Be brief.", voice="marin")
    try:
        assert w.server is None and w.notice == ""
        assert w.server_label.startswith("OpenAI")
        assert "api.openai.com" in w.client.realtime.url
        assert w.settings["voice"] == "marin" and w.settings["instructions"] == "Be brief."
        text = json.dumps(w.get_state(), default=str) + repr(w) + repr(w.client)
        assert SECRET not in text
    finally:
        w.close()


def test_widget_defaults_to_current_models_and_warns_once_about_a_deprecated_one(monkeypatch):
    from realtime_widget.protocol import (
        DEFAULT_MODEL,
        DEFAULT_TRANSCRIPTION_MODEL,
        DeprecatedModelWarning,
    )
    from realtime_widget.protocol import models as models_module

    monkeypatch.setattr(models_module, "_warned", set())
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    w = RealtimeWidget(autoconnect=False)
    try:
        assert w.client.realtime.model == DEFAULT_MODEL
        assert w.server_label == f"OpenAI {DEFAULT_MODEL}"
        transcription = w.client.session_config["audio"]["input"]["transcription"]
        assert transcription == {"model": DEFAULT_TRANSCRIPTION_MODEL}
    finally:
        w.close()
    with pytest.warns(DeprecatedModelWarning, match="'gpt-realtime-mini'.*2027-01-20") as record:
        w = RealtimeWidget(autoconnect=False, model="gpt-realtime-mini")
    w.close()
    assert record[0].filename == __file__
