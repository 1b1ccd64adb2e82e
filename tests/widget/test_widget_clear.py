"""``RealtimeWidget.clear`` and the widget's downloads, against the real embedded server.

Issue 15 point 7: a new conversation (``w.clear()`` and the "New conversation" button) empties
the conversation on the server, in the client and in the widget; the download buttons get the
transcript as Markdown and the audio as WAV, built in the kernel.
"""

from __future__ import annotations

import io
import time
import wave

import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from tests.helpers import UNIT
from tests.widget.test_widget import (
    SECRET,
    browser,
    completed_reply,
    stream_long_reply,
    wait_until,
)


@pytest.fixture
def server():
    with LocalRealtimeServer(api_key=SECRET) as s:
        yield s


@pytest.fixture
def widget(server):
    w = RealtimeWidget(url=server.url, api_key=SECRET)
    wait_until(lambda: w.status == "connected", what="connected")
    yield w
    w.close()


def server_items(server) -> int:
    (session,) = server.sessions
    return len(session.conversation)


def capture_sends(w) -> list:
    """What the widget's own handlers send to the browser (replies to `download`)."""
    sent: list = []
    w.send = lambda content, buffers=None: sent.append((content, buffers or []))
    return sent


def test_widget_clear_empties_the_server_client_and_widget_and_the_next_message_works(
    widget, server
):
    reply = widget.ask("hello there", timeout=20 * UNIT)
    assert server_items(server) >= 2 and widget.event_log is not None
    wait_until(lambda: len(widget.items) >= 2, what="the exchange in the widget")

    deleted = widget.clear()

    assert deleted >= 2
    assert widget.items == [] and widget.transcript.strip() == ""
    assert widget.client.conversation.get_items() == []
    assert server_items(server) == 0
    assert widget.items_snapshot == [] and widget.event_log == []
    assert widget.status == "connected"
    again = widget.ask("a fresh start", timeout=20 * UNIT)
    assert again.text and again.item["id"] != reply.item["id"]
    wait_until(lambda: len(widget.items) == 2, what="only the new exchange")
    assert "hello there" not in widget.transcript and "a fresh start" in widget.transcript
    assert server_items(server) == 2


def test_widget_clear_cancels_an_answer_being_spoken_and_leaves_nothing_behind(widget, server):
    stream_long_reply(widget)
    assert widget.client.response_active

    widget.clear()

    time.sleep(0.5 * UNIT)  # the cancelled response's last events have arrived by now
    assert not widget.client.response_active
    assert widget.items == [] and widget.client.conversation.get_items() == []
    assert server_items(server) == 0


def test_widget_new_conversation_button_clears_through_the_kernel(widget, server):
    widget.ask("remember this", timeout=20 * UNIT)
    browser(widget, {"type": "clear"})
    wait_until(lambda: widget.items == [] and server_items(server) == 0, what="cleared")
    assert widget.client.conversation.get_items() == []


def test_widget_clear_while_disconnected_drops_the_history_a_connect_would_replay(widget, server):
    widget.ask("old topic", timeout=20 * UNIT)
    widget.disconnect()
    assert widget.clear() >= 2
    widget.connect()
    assert widget.items == [] and widget.client.conversation.get_items() == []
    wait_until(lambda: len(server.sessions) == 1, what="one session")
    assert server_items(server) == 0  # nothing replayed into the new session


def test_widget_download_transcript_is_the_exporters_markdown_without_the_key(widget):
    reply = widget.ask("what is markdown?", timeout=20 * UNIT)
    sent = capture_sends(widget)
    browser(widget, {"type": "download", "format": "markdown", "request_id": "r1"})
    content, buffers = wait_until(lambda: sent, what="the download reply")[0]
    assert content["type"] == "download" and content["request_id"] == "r1"
    assert content["mime"] == "text/markdown" and content["filename"].endswith(".md")
    text = bytes(buffers[0]).decode("utf-8")
    assert content["size"] == len(buffers[0])
    assert text.startswith("# Conversation\n")
    assert "**User:** what is markdown?" in text
    assert f"**Assistant:** {reply.text}" in text
    assert SECRET not in text


def test_widget_download_audio_is_a_24khz_wav_of_the_whole_conversation(widget):
    widget.ask("say something", timeout=20 * UNIT)
    replies = wait_until(lambda: completed_reply(widget), what="a completed reply")
    sent = capture_sends(widget)
    browser(widget, {"type": "download", "format": "wav", "request_id": "r2"})
    content, buffers = wait_until(lambda: sent, what="the download reply")[0]
    assert content["mime"] == "audio/wav" and content["filename"].endswith(".wav")
    with wave.open(io.BytesIO(bytes(buffers[0]))) as f:
        assert (f.getframerate(), f.getnchannels(), f.getsampwidth()) == (24000, 1, 2)
        frames = f.getnframes()
    # Text turns have no audio: the answer's samples are the whole file.
    assert frames == sum(r["audio_samples"] for r in replies) > 0


def test_widget_download_audio_without_audio_says_so(widget):
    widget.clear()
    sent = capture_sends(widget)
    browser(widget, {"type": "download", "format": "wav", "request_id": "r3"})
    content, buffers = wait_until(lambda: sent, what="the download reply")[0]
    assert "no audio" in content["error"] and buffers == []
    wait_until(lambda: any(e["code"] == "download_failed" for e in widget.errors), what="an alert")
