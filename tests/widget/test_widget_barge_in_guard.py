"""Barge-in tolerance: speech heard just after an answer starts does not cut it (DESIGN §4).

The window logic is a pure function; the widget tests put a `FaultProxy` between the client and
the embedded server and inject the server's `input_audio_buffer.speech_started` at a chosen
moment, as echo of the answer's first syllables would trigger it.
"""

from __future__ import annotations

import asyncio

import pytest

from realtime_widget import LocalRealtimeServer, RealtimeWidget
from realtime_widget.runtime import get_runtime
from realtime_widget.testing.faults import FaultProxy
from realtime_widget.widget._events import DEFAULT_INTERRUPT_GUARD_MS, in_interrupt_guard
from tests.helpers import UNIT
from tests.widget.test_widget import wait_until

SPEECH_STARTED = {
    "type": "input_audio_buffer.speech_started",
    "event_id": "event_injected",
    "audio_start_ms": 0,
    "item_id": "item_injected_user_turn",
}


def test_guard_window_covers_only_the_first_guard_ms_after_playback_starts():
    assert in_interrupt_guard(10.0, 10.0, 300)
    assert in_interrupt_guard(10.299, 10.0, 300)
    assert not in_interrupt_guard(10.3, 10.0, 300)
    assert not in_interrupt_guard(9.9, 10.0, 300)  # speech before the answer began
    assert not in_interrupt_guard(10.0, None, 300)  # nothing playing yet
    assert not in_interrupt_guard(10.0, 10.0, 0)  # guard off


def test_default_guard_is_short_enough_for_a_real_barge_in():
    assert 100 <= DEFAULT_INTERRUPT_GUARD_MS <= 500
    w = RealtimeWidget(url="ws://127.0.0.1:9/v1/realtime", autoconnect=False)
    try:
        assert w.interrupt_guard_ms == DEFAULT_INTERRUPT_GUARD_MS
        w.interrupt_guard_ms = -5
        assert w.interrupt_guard_ms == 0
    finally:
        w.close()


@pytest.fixture
def proxy():
    runtime = get_runtime()
    with LocalRealtimeServer(speed=1.0) as server:
        p = runtime.run(FaultProxy(server.url).start(), 5 * UNIT)
        try:
            yield p
        finally:
            runtime.run(p.stop(), 5 * UNIT)


def frames_of(w):
    """Every `frame` the kernel sends to the browser, recorded."""
    frames: list[dict] = []
    send = w._sync._send

    def recording(content, buffers):
        frames.append(content)
        send(content, buffers)

    w._sync._send = recording
    return frames


def speak_over_the_answer(w, proxy, after_s: float) -> list[dict]:
    """Start an answer, inject speech_started `after_s` after its audio starts; frames sent."""
    frames = frames_of(w)
    wait_until(lambda: w.status == "connected", what="connected")
    w.send_text("please say a rather long sentence so that there is time to talk over it")
    started = wait_until(lambda: w._sync.playback_started, what="the answer's audio")
    loop = get_runtime().loop

    async def inject() -> None:
        while loop.time() < started + after_s:
            await asyncio.sleep(0.005)
        await proxy.inject(SPEECH_STARTED)

    get_runtime().run(inject(), 5 * UNIT)
    return frames


def test_speech_inside_the_guard_window_does_not_stop_playback(proxy):
    w = RealtimeWidget(url=proxy.url, interrupt_guard_ms=3000 * UNIT)
    try:
        frames = speak_over_the_answer(w, proxy, after_s=0.0)
        wait_until(
            lambda: any(e["type"] == "widget.interrupt_ignored" for e in w._sync.log.snapshot()),
            what="the ignored interruption in the event log",
        )
        count = len(frames)
        wait_until(lambda: any(f["audio"] for f in frames[count:]), what="audio going on")
        assert not any(f["clear"] for f in frames)
        assert w.last_truncate is None
    finally:
        w.close()


def test_speech_after_the_guard_window_stops_playback(proxy):
    w = RealtimeWidget(url=proxy.url, interrupt_guard_ms=100)
    try:
        frames = speak_over_the_answer(w, proxy, after_s=0.3)
        wait_until(lambda: any(f["clear"] for f in frames), what="a clear frame")
        assert not any(e["type"] == "widget.interrupt_ignored" for e in w._sync.log.snapshot())
    finally:
        w.close()


def test_echo_guard_is_on_by_default_and_switchable():
    # The browser's echo guard (js/audio/echo-guard.ts, unit-tested by vitest) reads this trait;
    # hands-free on speakers needs it on unless the user says otherwise.
    w = RealtimeWidget(url="ws://127.0.0.1:9/v1/realtime", autoconnect=False)
    off = RealtimeWidget(url="ws://127.0.0.1:9/v1/realtime", autoconnect=False, echo_guard=False)
    try:
        assert w.echo_guard is True
        assert off.echo_guard is False
        assert w.get_state()["echo_guard"] is True  # synced to the browser
        w.echo_guard = False
        assert w.get_state()["echo_guard"] is False
        assert "echo_guard" not in repr(w)
    finally:
        w.close()
        off.close()
