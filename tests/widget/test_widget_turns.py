"""Per-turn records (issue 15, point 6): `w.turns` (latency, speech, interruptions, tool calls),
the level strips' data and `w.plot_timeline()` (real matplotlib, Agg).

Against the embedded server through the real client; the browser's ``heard`` message goes
through ipywidgets' own custom-message dispatch, as the comm delivers it.
"""

from __future__ import annotations

import time

import matplotlib
import numpy as np
import pandas as pd
import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from realtime_widget.server import synthesize
from realtime_widget.widget._turns import LIVE_TURNS, MAX_TURNS, SHOWN_TURNS, levels
from tests.widget.test_widget import browser, completed_reply, speak, wait_until

matplotlib.use("Agg")


@pytest.fixture
def server():
    with LocalRealtimeServer() as s:
        yield s


def test_levels_are_rms_per_bin():
    tone = np.concatenate([np.zeros(2400), np.full(2400, 16384)]).astype(np.int16)
    assert levels(tone, bins=2) == [0.0, 0.5]
    assert levels(np.zeros(0, dtype=np.int16)) == []
    assert len(levels(np.ones(5, dtype=np.int16))) == 5  # never more bins than samples


def test_a_spoken_turn_has_speech_latency_levels_and_a_dataframe(server):
    w = RealtimeWidget(url=server.url)  # hands-free: server VAD
    try:
        wait_until(lambda: w.status == "connected", what="connected")
        speak(w, synthesize("What is the weather like today?"))
        speak(w, np.zeros(24000, dtype=np.int16))  # silence ends the speech
        reply = wait_until(lambda: completed_reply(w), timeout=30, what="the answer")[0]
        assert w.turns and w.turns[0]["latency_ms"] is None  # not heard yet
        time.sleep(0.05)
        browser(w, {"type": "heard", "item_id": reply["id"]})
        turn = wait_until(lambda: w.turns[0]["latency_ms"] and w.turns[0], what="latency")
        assert turn["turn"] == 1 and reply["id"] in turn["assistant_item_ids"]
        assert turn["user_item_id"] and 1.0 < turn["user_speech_s"] < 4.0
        assert 50 <= turn["latency_ms"] < 30_000 and turn["interrupted"] is False
        stats = wait_until(
            lambda: (
                w.turn_stats[0]["assistant_levels"]
                and w.turn_stats[0]["user_levels"]
                and w.turn_stats[0]
            ),
            what="level strips",
        )
        assert max(stats["user_levels"]) > 0.01 and max(stats["assistant_levels"]) > 0.01
        frame = pd.DataFrame(w.turns)
        assert list(frame["turn"]) == [1] and frame["latency_ms"].iloc[0] == turn["latency_ms"]
        fig = w.plot_timeline()
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_yticklabels()] == ["tools", "assistant", "user"]
        assert len(ax.collections) >= 2  # the user's speech and the heard answer
        assert any(t.get_text().endswith(" ms") for t in ax.texts)
    finally:
        w.close()


def test_typed_turns_tool_calls_and_clear(server):
    w = RealtimeWidget(url=server.url, turn_detection=None)

    @w.tool
    def get_time() -> str:
        """The current time."""
        return "noon"

    try:
        wait_until(lambda: w.status == "connected", what="connected")
        w.ask("call get_time with {}", timeout=30)
        w.ask("thanks", timeout=30)
        wait_until(lambda: len(w.turns) == 2 and w.turns[-1]["ended"], what="two turns")
        first, second = w.turns
        assert first["user_speech_s"] is None and first["started"] <= first["ended"]
        assert second["turn"] == 2
        assert first["tool_calls"] == ["get_time"] and second["tool_calls"] == []
        w.clear()
        assert w.turns == [] and w.turn_stats == []
    finally:
        w.close()


def test_turns_are_bounded_and_plot_without_matplotlib_says_what_to_do(server, monkeypatch):
    w = RealtimeWidget(url=server.url, autoconnect=False)
    try:
        log = w._turn_log
        for i in range(MAX_TURNS + 5):
            log._on_realtime_event(
                {"event": {"type": "input_audio_buffer.speech_started", "item_id": f"u{i}"}}
            )
            log._on_realtime_event(
                {
                    "event": {
                        "type": "response.output_item.added",
                        "item": {"type": "message", "id": f"a{i}"},
                    }
                }
            )
        assert len(w.turns) == MAX_TURNS and w.turns[-1]["turn"] == MAX_TURNS + 5
        # A live update carries only the turns that can still change: its size does not grow
        # with the session (bench_widget's bytes per minute grew 1.7x over 30 min before).
        assert [s["turn"] for s in w.turn_stats] == list(range(MAX_TURNS - 2, MAX_TURNS + 6))
        assert len(w.turn_stats) == LIVE_TURNS
        # A view that opens gets the last SHOWN_TURNS at once, and so does the saved notebook.
        browser(w, {"type": "hello", "view": "v1"})
        wait_until(lambda: len(w.turn_stats) == SHOWN_TURNS, what="the snapshot on attach")
        assert w.turn_stats[-1]["turn"] == MAX_TURNS + 5
        import builtins

        real_import = builtins.__import__

        def no_matplotlib(name, *args, **kwargs):
            if name.startswith("matplotlib"):
                raise ImportError("No module named 'matplotlib'")
            return real_import(name, *args, **kwargs)

        monkeypatch.setattr(builtins, "__import__", no_matplotlib)
        with pytest.raises(ImportError, match="pip install matplotlib"):
            w.plot_timeline()
        monkeypatch.undo()
        log._on_realtime_event({"event": {"type": "input_audio_buffer.speech_started"}})
        assert len(w.turn_stats) == LIVE_TURNS
    finally:
        w.close()
    assert len(w.turn_stats) == SHOWN_TURNS  # saved with the notebook: every shown turn
