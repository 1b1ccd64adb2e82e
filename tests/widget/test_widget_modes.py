"""``RealtimeWidget(mode="transcribe" | "translate")`` against the embedded server (issue 14).

Browser messages go through ipywidgets' own custom-message path, as in test_widget.py; the
server is the real `LocalRealtimeServer` (its transcription and translation sessions).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from realtime_widget import Captions, LocalRealtimeServer, RealtimeClient, RealtimeWidget
from tests.helpers import UNIT
from tests.server.driver import speech
from tests.widget.test_widget import SECRET, browser, speak, wait_until


def words(audio, rate) -> str:
    return "hello my friend"


@pytest.fixture
def server():
    with LocalRealtimeServer(api_key=SECRET, transcriber=words) as s:
        yield s


def captured_frames(w) -> list:
    """What the widget's sync layer sends to the browser (frames with patches and audio)."""
    frames: list = []
    w._sync._send = lambda content, buffers=None: frames.append((content, buffers or []))
    return frames


def test_widget_transcribe_mode_shows_partial_then_final_captions_and_exports(server, tmp_path):
    w = RealtimeWidget(url=server.url, api_key=SECRET, mode="transcribe", language="en")
    try:
        frames = captured_frames(w)
        wait_until(lambda: w.status == "connected", what="connected")
        recorder = w.record(tmp_path / "captions.jsonl")
        assert (w.mode, w.language) == ("transcribe", "en")
        assert "mode='transcribe'" in repr(w) and SECRET not in repr(w)
        speak(w, speech())
        wait_until(
            lambda: [i for i in w.items if i["status"] == "completed"],
            timeout=10 * UNIT,
            what="a final caption",
        )
        [item] = w.items
        assert item["role"] == "user" and item["transcript"] == "hello my friend"
        assert item["caption"]["mode"] == "transcribe" and item["caption"]["final"] is True
        assert item["caption"]["start"] is not None

        # The browser saw the words stream before they were final (coalesced frame patches).
        def patches() -> list:
            return [
                p
                for content, _ in frames
                if content.get("type") == "frame"
                for p in content["items"]
            ]

        wait_until(
            lambda: patches() and patches()[-1]["caption"]["final"], what="the final patch sent"
        )
        patches = patches()
        assert patches[-1]["transcript"] == "hello my friend"
        assert any(not p["caption"]["final"] for p in patches)
        assert "hello my friend" in w.captions.to_markdown()
        assert "hello my friend" in w.captions.to_srt()
        assert w.captions.to_records()[0]["text"] == "hello my friend"
        recorder.close()
        recorded = Captions.from_recording(tmp_path / "captions.jsonl")
        assert [seg.text for seg in recorded.segments] == ["hello my friend"]
        assert SECRET not in (tmp_path / "captions.jsonl").read_text()
        assert SECRET not in json.dumps(w.get_state(), default=str)
        assert SECRET not in repr(w.caption_session) and SECRET not in repr(w.captions)
        # No model answered: the conversation client was never used.
        assert not w.client.is_connected and not w.errors
    finally:
        w.close()
    assert not w.caption_session.is_connected


def test_widget_translate_mode_plays_the_translation_and_keeps_both_transcripts(server):
    w = RealtimeWidget(url=server.url, api_key=SECRET, mode="translate", language="fr")
    try:
        frames = captured_frames(w)
        wait_until(lambda: w.status == "connected", what="connected")
        speak(w, speech())
        wait_until(
            lambda: [i for i in w.items if i["caption"]["translation"]],
            timeout=10 * UNIT,
            what="a translated phrase",
        )
        item = w.items[-1]
        assert item["transcript"] == "hello my friend"
        assert item["caption"]["translation"].startswith("[fr]")
        audio = wait_until(
            lambda: [
                (a, buffers)
                for content, buffers in frames
                if content.get("type") == "frame"
                for a in content["audio"]
            ],
            what="translated audio sent to the browser's player",
        )
        entry, buffers = audio[0]
        assert entry["item_id"] == item["id"] and entry["samples"] > 0
        samples = np.frombuffer(buffers[entry["buffer"]], dtype="<i2")
        assert np.abs(samples).max() > 0
        assert w.caption_session.language == "fr"
    finally:
        w.close()


def test_widget_translate_mode_shows_the_servers_refusal_with_what_to_change(server):
    w = RealtimeWidget(url=server.url, api_key=SECRET, mode="translate", language="xx")
    try:
        error = wait_until(lambda: w.errors, what="the refusal in the widget")[-1]
        assert error["source"] == "server" and "'xx'" in error["message"]
        assert "language=" in error["message"]
    finally:
        w.close()


def test_widget_transcribe_mode_works_offline_with_no_arguments(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    w = RealtimeWidget(mode="transcribe")
    try:
        wait_until(lambda: w.status == "connected", what="connected to the embedded server")
        assert w.server is not None
        assert "stand-ins caption speech with a description" in w.notice
        assert "answers" not in w.notice  # no model answers in this mode
        speak(w, speech())
        item = wait_until(
            lambda: [i for i in w.items if i["status"] == "completed"],
            timeout=10 * UNIT,
            what="a caption from the stand-in transcriber",
        )[0]
        assert item["transcript"]
    finally:
        w.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"mode": "dictate"}, "mode must be one of 'conversation', 'transcribe', 'translate'"),
        ({"mode": "translate"}, "needs the target language"),
        ({"mode": "translate", "language": "French"}, "two-letter ISO-639-1"),
        ({"mode": "transcribe", "transcription_model": "whisper-9"}, "unknown transcription"),
        ({"language": "fr"}, "are for mode='transcribe' or mode='translate'"),
    ],
)
def test_widget_refuses_bad_mode_input_saying_what_to_change(kwargs, message):
    with pytest.raises(ValueError, match=message):
        RealtimeWidget(url="ws://127.0.0.1:9/v1/realtime", autoconnect=False, **kwargs)


def test_widget_caption_mode_refuses_a_client():
    client = RealtimeClient(url="ws://127.0.0.1:9/v1/realtime", api_key="k")
    with pytest.raises(ValueError, match="without client="):
        RealtimeWidget(client, mode="transcribe")


def test_widget_default_mode_is_conversation_with_no_captions(server):
    w = RealtimeWidget(url=server.url, api_key=SECRET, autoconnect=False)
    try:
        assert w.mode == "conversation" and w.captions is None and w.caption_session is None
    finally:
        w.close()


def test_widget_caption_modes_download_clear_and_refuse_ask(server):
    w = RealtimeWidget(url=server.url, api_key=SECRET, mode="translate", language="fr")
    try:
        wait_until(lambda: w.status == "connected", what="connected")
        with pytest.raises(RuntimeError, match="mode='translate': it only listens"):
            w.ask("hello")
        with pytest.raises(RuntimeError, match="no model answers"):
            w.send_text("hello")
        speak(w, speech())
        wait_until(lambda: len(w.caption_session.output_audio()) > 0, what="translated audio")
        wait_until(lambda: w.items and w.items[-1]["caption"]["translation"], what="a phrase")
        sent: list = []
        w.send = lambda content, buffers=None: sent.append((content, buffers or []))
        browser(w, {"type": "download", "format": "markdown", "request_id": "r1"})
        browser(w, {"type": "download", "format": "wav", "request_id": "r2"})
        replies = wait_until(
            lambda: len([c for c, _ in sent if c.get("type") == "download"]) == 2 and sent,
            what="both download replies",
        )
        (md, md_buffers), (wav, wav_buffers) = [
            (c, b) for c, b in replies if c["type"] == "download"
        ]
        assert md["filename"].endswith(".md") and b"[fr]" in bytes(md_buffers[0])
        assert wav["filename"].endswith(".wav") and bytes(wav_buffers[0])[:4] == b"RIFF"
        assert SECRET.encode() not in bytes(md_buffers[0])

        browser(w, {"type": "clear"})
        wait_until(lambda: not w.items and not len(w.captions), what="captions cleared")
        assert w.status == "connected"
    finally:
        w.close()


def test_widget_caption_download_payloads():
    from realtime_widget.captions import Captions
    from realtime_widget.widget._captions import caption_download

    class Transcriber:
        captions = Captions()

    Transcriber.captions.process_event(
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": "a",
            "transcript": "hello",
        }
    )
    name, mime, data = caption_download(Transcriber(), "markdown", now=0)
    assert name.startswith("captions-") and mime == "text/markdown" and b"hello" in data
    with pytest.raises(ValueError, match="live captions have none"):
        caption_download(Transcriber(), "wav")
