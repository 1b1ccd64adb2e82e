"""``RealtimeWidget.record`` / ``RealtimeWidget.replay`` (``record_widget`` / ``replay_widget``):
a widget plays a recording with no server and no key."""

from __future__ import annotations

import time

import pytest

from realtime_widget.recording import (
    REPLAY_NOTICE,
    ReplayClient,
    read_recording,
    replay_widget,
)
from realtime_widget.server import LocalRealtimeServer
from tests.helpers import UNIT
from tests.recording._live_session import record_live_session, summarize


@pytest.fixture(scope="module")
def lesson(tmp_path_factory):
    """(path, live item summaries) of a recorded live session named lesson.jsonl."""
    path = tmp_path_factory.mktemp("widget") / "lesson.jsonl"
    return path, record_live_session(path)


def test_replayed_widget_shows_the_recorded_conversation_offline(lesson, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    from realtime_widget.widget import RealtimeWidget

    path, live = lesson
    widget = RealtimeWidget.replay(path, speed=None)
    try:
        assert isinstance(widget.client, ReplayClient) and widget.server is None
        assert widget.client.wait_until_finished(10 * UNIT)
        assert summarize(widget.client.conversation.get_items()) == live
        deadline = time.monotonic() + 5 * UNIT
        while len(widget.items) < len(live) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert [v["id"] for v in widget.items] == [i["id"] for i in live]
        assert "add returned 5." in widget.transcript
        assert widget.server_label == "replay of lesson.jsonl" and widget.notice == REPLAY_NOTICE
        assert widget.hands_free is False  # a replay never switches the microphone on
    finally:
        widget.close()


def test_replay_builds_the_widget_class_asked_for_and_can_wait_to_be_started(lesson):
    from realtime_widget.widget import RealtimeWidget

    class ClassroomWidget(RealtimeWidget):
        pass

    widget = ClassroomWidget.replay(lesson[0], speed=None, autoplay=False)
    try:
        assert isinstance(widget, ClassroomWidget)
        time.sleep(0.1 * UNIT)
        assert not widget.client.is_connected and widget.client.conversation.get_items() == []
        widget.connect()
        assert widget.client.wait_until_finished(10 * UNIT)
        assert len(widget.client.conversation.get_items()) == len(lesson[1])
    finally:
        widget.close()


def test_widget_recording_round_trips_through_replay(tmp_path, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    from realtime_widget.widget import RealtimeWidget

    path = tmp_path / "widget.jsonl"
    with LocalRealtimeServer(speed=0) as server:
        widget = RealtimeWidget(url=server.url, autoconnect=False, turn_detection=None)
        try:
            recorder = widget.record(path)
            widget.connect(10 * UNIT)
            widget.send_text("good morning class")
            completed = []
            widget.on("conversation.item.completed", completed.append)
            deadline = time.monotonic() + 10 * UNIT
            while len(completed) < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            widget.disconnect()
            recorder.close()
            live = summarize(widget.client.conversation.get_items())
        finally:
            widget.close()
    assert [i["role"] for i in live] == ["user", "assistant"]
    replayed = ReplayClient(read_recording(path), speed=None)
    assert replayed.play(timeout=10 * UNIT)
    assert summarize(replayed.conversation.get_items()) == live


def test_replay_widget_function_is_the_classmethod_without_a_class(lesson):
    widget = replay_widget(lesson[0], speed=None)
    try:
        assert widget.client.wait_until_finished(10 * UNIT)
        assert summarize(widget.client.conversation.get_items()) == lesson[1]
    finally:
        widget.close()
