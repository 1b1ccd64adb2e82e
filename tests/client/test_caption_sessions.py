"""`RealtimeTranscriber` and `RealtimeTranslator` against the embedded server (issue 14, point 2).

Real websockets and the real `LocalRealtimeServer`: its transcription sessions stream the
transcriber's words one by one, and its translation sessions (the echo stand-in) translate a
phrase as ``[fr] <source>`` and speak it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from realtime_widget.captions import Captions
from realtime_widget.client import RealtimeTranscriber, RealtimeTranslator
from realtime_widget.recording import Recorder
from realtime_widget.server import LocalRealtimeServer
from realtime_widget.testing.faults import FaultProxy
from tests.helpers import UNIT
from tests.server.driver import speech

KEY = "sk-caption-test-key-0123456789"


class Seen:
    """Every custom event a session dispatched, by name (callbacks run on the runtime thread)."""

    NAMES = (
        "caption.updated",
        "caption.completed",
        "session.created",
        "session.updated",
        "audio.delta",
        "error",
        "reconnecting",
        "reconnected",
        "close",
        "realtime.event",
    )

    def __init__(self, session: Any) -> None:
        self._lock = threading.Lock()
        self.events: dict[str, list[dict]] = {name: [] for name in self.NAMES}
        for name in self.NAMES:
            session.on(name, lambda event, name=name: self._add(name, event))

    def _add(self, name: str, event: dict) -> None:
        with self._lock:
            self.events[name].append(event)

    def of(self, name: str) -> list[dict]:
        with self._lock:
            return list(self.events[name])

    async def until(self, condition: Callable[[], Any], timeout: float = 10 * UNIT) -> Any:
        async def poll() -> Any:
            while not (value := condition()):
                await asyncio.sleep(0.01)
            return value

        return await asyncio.wait_for(poll(), timeout)


def words(audio, rate) -> str:
    return "hello my friend"


@pytest.fixture
async def server():
    async with LocalRealtimeServer(speed=0, api_key=KEY, transcriber=words) as srv:
        yield srv


async def test_transcriber_streams_partial_words_then_final_caption_per_turn(server):
    transcriber = RealtimeTranscriber(url=server.url, api_key=KEY, model="whisper-1")
    seen = Seen(transcriber)
    await transcriber.connect_async()
    session = await transcriber.wait_for_session_created_async(5 * UNIT)
    assert session is not None
    await seen.until(lambda: seen.of("session.updated"))
    assert transcriber.session["type"] == "transcription"
    assert transcriber.session["audio"]["input"]["transcription"]["model"] == "whisper-1"

    waiting = asyncio.ensure_future(transcriber.wait_for_next_caption_async(10 * UNIT))
    transcriber.append_input_audio(speech())
    segment = await waiting
    assert segment.final and segment.text == "hello my friend"
    assert segment.start is not None and segment.end is not None and segment.end > segment.start
    # Partial words arrived before the final text: each delta updated the segment.
    partials = [e["segment"].partial for e in seen.of("caption.updated") if not e["segment"].final]
    assert partials[-3:] == ["hello", "hello my", "hello my friend"]
    assert [e["segment"].id for e in seen.of("caption.completed")] == [segment.id]

    transcriber.append_input_audio(speech("second turn"))
    second = await transcriber.wait_for_next_caption_async(10 * UNIT)
    assert second.turn == 2 and second.start > segment.end
    assert "Turn 2" in transcriber.to_markdown() and "-->" in transcriber.to_srt()
    assert [r["text"] for r in transcriber.to_records()] == ["hello my friend"] * 2
    sources = {e["source"] for e in seen.of("realtime.event")}
    assert sources == {"client", "server"}
    assert not seen.of("error")
    await transcriber.disconnect_async()
    assert seen.of("close") and not transcriber.is_connected


async def test_transcriber_manual_turns_commit_on_request(server):
    transcriber = RealtimeTranscriber(url=server.url, api_key=KEY, turn_detection=None)
    await transcriber.connect_async()
    await transcriber.wait_for_session_created_async(5 * UNIT)
    transcriber.append_input_audio(speech(tail=0.2))
    transcriber.commit()
    segment = await transcriber.wait_for_next_caption_async(10 * UNIT)
    assert segment.text == "hello my friend"
    await transcriber.disconnect_async()


async def test_transcriber_refusal_of_a_model_arrives_as_an_error_event(server):
    transcriber = RealtimeTranscriber(url=server.url, api_key=KEY)
    seen = Seen(transcriber)
    await transcriber.connect_async()
    await transcriber.wait_for_session_created_async(5 * UNIT)
    with pytest.raises(ValueError, match="unknown transcription model 'nope'"):
        transcriber.update_session(model="nope")  # checked here: nothing is sent
    with pytest.raises(ValueError, match="unknown transcription setting"):
        transcriber.update_session(voice="alloy")
    transcriber.update_session(language="de")
    await seen.until(lambda: len(seen.of("session.updated")) >= 2)
    assert transcriber.settings["language"] == "de"
    assert not seen.of("error")
    await transcriber.disconnect_async()


async def test_transcriber_blocking_calls_and_bad_input_say_what_to_do():
    transcriber = RealtimeTranscriber(url="ws://127.0.0.1:9/v1/realtime", api_key=KEY)
    with pytest.raises(RuntimeError, match="call connect"):
        transcriber.append_input_audio(np.zeros(10, np.int16))
    with pytest.raises(ValueError):
        transcriber.append_input_audio(np.zeros(10, np.float32))


async def test_transcriber_key_is_in_no_repr_state_or_recording(server, tmp_path):
    transcriber = RealtimeTranscriber(url=server.url, api_key=KEY)
    path = tmp_path / "captions.jsonl"
    with Recorder(transcriber, path):
        await transcriber.connect_async()
        await transcriber.wait_for_session_created_async(5 * UNIT)
        transcriber.append_input_audio(speech())
        await transcriber.wait_for_next_caption_async(10 * UNIT)
        await transcriber.disconnect_async()
    assert KEY not in repr(transcriber) and KEY not in repr(transcriber.captions)
    assert KEY not in str(transcriber.session) and KEY not in str(transcriber.settings)
    assert KEY not in path.read_text()
    replayed = Captions.from_recording(path)
    assert [s.text for s in replayed.segments] == ["hello my friend"]


async def test_transcriber_reconnects_after_a_drop_and_captions_go_on(server):
    async with FaultProxy(server.url) as proxy:
        transcriber = RealtimeTranscriber(url=proxy.url, api_key=KEY, reconnect_delay=0.05 * UNIT)
        seen = Seen(transcriber)
        await transcriber.connect_async()
        await transcriber.wait_for_session_created_async(5 * UNIT)
        transcriber.append_input_audio(speech())
        first = await transcriber.wait_for_next_caption_async(10 * UNIT)
        proxy.drop()
        await seen.until(lambda: seen.of("reconnecting"))
        transcriber.append_input_audio(speech("while away"))  # held, then sent
        await seen.until(lambda: seen.of("reconnected"))
        second = await transcriber.wait_for_next_caption_async(10 * UNIT)
        assert second.text == "hello my friend" and second.turn == 2
        # The new session is a transcription session too, and its times follow the first one's.
        updates = [
            e["event"]
            for e in seen.of("realtime.event")
            if e["source"] == "client" and e["event"]["type"] == "session.update"
        ]
        assert [u["session"]["type"] for u in updates] == ["transcription", "transcription"]
        assert second.start >= first.end
        assert not seen.of("close")
        await transcriber.disconnect_async()


async def test_translator_plays_the_translation_and_shows_both_transcripts(server):
    translator = RealtimeTranslator("fr", url=server.url, api_key=KEY)
    seen = Seen(translator)
    await translator.connect_async()
    session = await translator.wait_for_session_created_async(5 * UNIT)
    assert session["type"] == "translation"
    await seen.until(lambda: seen.of("session.updated"))
    assert translator.session["audio"]["output"]["language"] == "fr"
    translator.append_input_audio(speech())
    await seen.until(lambda: seen.of("audio.delta") and translator.segments[-1].translation)
    await translator.disconnect_async()  # session.close: the server finishes the phrase first
    [segment] = translator.segments
    assert segment.final and segment.words == "hello my friend"
    assert segment.translation.startswith("[fr]") and "hello my friend" in segment.translation
    audio = translator.output_audio()
    assert audio.dtype == np.int16 and len(audio) > 2400 and np.abs(audio).max() > 0
    assert all(isinstance(e["audio"], np.ndarray) for e in seen.of("audio.delta"))
    assert KEY not in repr(translator)
    assert not seen.of("error")


async def test_translator_unsupported_language_is_the_servers_error_naming_it(server):
    translator = RealtimeTranslator("xx", url=server.url, api_key=KEY)
    seen = Seen(translator)
    await translator.connect_async()
    [error] = await seen.until(lambda: seen.of("error"))
    assert "'xx'" in error["error"]["message"]
    translator.set_language("es")
    await seen.until(lambda: seen.of("session.updated"))
    assert translator.session["audio"]["output"]["language"] == "es"
    await translator.disconnect_async()


async def test_translator_update_session_changes_and_turns_settings_off_mid_session(server):
    translator = RealtimeTranslator("fr", url=server.url, api_key=KEY, noise_reduction="near_field")
    seen = Seen(translator)
    await translator.connect_async()
    await seen.until(lambda: seen.of("session.updated"))
    assert translator.session["audio"]["input"]["transcription"] is not None
    with pytest.raises(ValueError, match="unknown translation setting"):
        translator.update_session(voice="alloy")
    with pytest.raises(ValueError, match="two-letter"):
        translator.update_session(language="french")
    # Off is sent as null: a field left out of session.update would keep its value.
    translator.update_session(language="de", transcription_model=None, noise_reduction=None)
    await seen.until(lambda: len(seen.of("session.updated")) >= 2)
    audio = translator.session["audio"]
    assert audio["output"]["language"] == "de"
    assert audio["input"]["transcription"] is None and audio["input"]["noise_reduction"] is None
    assert translator.settings == {
        "language": "de",
        "transcription_model": None,
        "noise_reduction": None,
    }
    assert not seen.of("error")
    await translator.disconnect_async()


async def test_transcriber_gives_up_when_the_server_is_gone_and_says_what_to_do(server):
    proxy = FaultProxy(server.url)
    await proxy.start()
    transcriber = RealtimeTranscriber(
        url=proxy.url, api_key=KEY, reconnect_delay=0.02 * UNIT, max_reconnect_attempts=2
    )
    seen = Seen(transcriber)
    await transcriber.connect_async()
    await transcriber.wait_for_session_created_async(5 * UNIT)
    await proxy.stop()  # nothing listens any more: every attempt is refused
    [error] = await seen.until(
        lambda: [e for e in seen.of("error") if e["error"]["code"] == "reconnect_failed"]
    )
    assert "after 2 attempts" in error["error"]["message"]
    assert "call connect() to try again" in error["error"]["message"]
    await seen.until(lambda: seen.of("close"))
    assert [e["attempt"] for e in seen.of("reconnecting")] == [1, 2]
    assert not transcriber.is_connected and not transcriber.is_reconnecting
    with pytest.raises(RuntimeError, match="call connect"):
        transcriber.append_input_audio(np.zeros(480, np.int16))


async def test_transcriber_holds_audio_while_reconnecting_within_hold_seconds(server):
    async with FaultProxy(server.url) as proxy:
        transcriber = RealtimeTranscriber(
            url=proxy.url, api_key=KEY, reconnect_delay=0.3 * UNIT, hold_seconds=1.0
        )
        seen = Seen(transcriber)
        await transcriber.connect_async()
        await transcriber.wait_for_session_created_async(5 * UNIT)
        proxy.drop()
        await seen.until(lambda: seen.of("reconnecting"))
        transcriber.append_input_audio(np.zeros(24000 * 3, np.int16))  # 3 s > hold_seconds
        await seen.until(lambda: seen.of("reconnected"))
        [error] = await seen.until(
            lambda: [e for e in seen.of("error") if e["error"]["code"] == "audio_dropped"]
        )
        assert "2.0 s of audio" in error["error"]["message"]
        appended = [
            e["event"]
            for e in seen.of("realtime.event")
            if e["source"] == "client" and e["event"]["type"] == "input_audio_buffer.append"
        ]
        assert len(appended) == 1  # the held second, sent once the new session was open
        await transcriber.disconnect_async()
