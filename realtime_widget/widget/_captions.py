"""The widget's transcribe and translate modes: a caption session shown as the conversation.

``RealtimeWidget(mode="transcribe")`` binds a :class:`~realtime_widget.client.RealtimeTranscriber`
and ``mode="translate", language="fr"`` a :class:`~realtime_widget.client.RealtimeTranslator`
(issue 14, point 1). This collaborator listens to that session and feeds the widget's existing
kernel -> browser path (:class:`~realtime_widget.widget._sync.WidgetSync`): each caption segment
becomes an item view (a user turn whose transcript streams in, with a ``caption`` part carrying
the turn's times and the translation), patched through the same coalesced frames as a
conversation's items, so the browser's conversation view, the saved notebook and ``w.items`` show
captions with no second channel; translated audio goes to the same player as an answer's audio.
Runs on the runtime loop (the session's listeners).
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_widget.audio import SAMPLE_RATE, write_wav
from realtime_widget.captions import CaptionSegment
from realtime_widget.protocol.session_kinds import check_language, check_transcription_model

__all__ = [
    "CAPTION_MODES",
    "MODES",
    "OFFLINE_CAPTIONS_NOTICE",
    "CaptionSync",
    "caption_download",
    "caption_view",
    "check_mode",
]

logger = logging.getLogger("realtime_widget.widget")

MODES = ("conversation", "transcribe", "translate")
CAPTION_MODES = frozenset({"transcribe", "translate"})

OFFLINE_CAPTIONS_NOTICE = (
    "This is the offline demo: the embedded server's stand-ins caption speech with a description "
    '("[speech 1.2 s]"), not its words, and mark translations ("[fr] ..."). Install '
    "realtime_widget[local] for real captions and translations on this computer, or set "
    "OPENAI_API_KEY before creating the widget."
)
"""The notice of a caption mode on the echo tier (the conversation's offline notice speaks of a
model that answers, which a caption session has not)."""

# Server refusals of a caption session's settings: what to change in the widget's arguments.
_FIX_HINTS = {
    "translate": "pick another target language under Settings, or create the widget again "
    "with another language= (e.g. language='fr')",
    "transcribe": "change it under Settings, or create the widget again with another "
    "transcription_model= or language=",
}


def check_mode(
    mode: Any, language: Any, transcription_model: Any, has_client: bool
) -> tuple[str, str | None]:
    """The widget's mode and language, checked; bad input raises saying what to change.

    Raises:
        ValueError: an unknown mode, a translate mode without a language, a malformed language,
            an unknown transcription model, a language in conversation mode, or a client passed
            to a caption mode.
    """
    if mode not in MODES:
        raise ValueError(
            f"mode must be one of {', '.join(repr(m) for m in MODES)}, got {mode!r}: "
            "'transcribe' for live captions, 'translate' (with language=) for live translation"
        )
    if mode == "conversation":
        if language is not None or transcription_model is not None:
            raise ValueError(
                "language= and transcription_model= are for mode='transcribe' or "
                "mode='translate'; a conversation takes its settings from session options"
            )
        return mode, None
    if has_client:
        raise ValueError(
            f"mode={mode!r} opens its own transcription or translation session: create the "
            "widget without client= (pass url= and api_key= to choose the server)"
        )
    if transcription_model is not None:
        check_transcription_model(transcription_model)
    if mode == "translate":
        if language is None:
            raise ValueError(
                "mode='translate' needs the target language: e.g. "
                "RealtimeWidget(mode='translate', language='fr')"
            )
        return mode, check_language(language, "language")
    return mode, None if language is None else check_language(language, "language")


def caption_view(segment: CaptionSegment, mode: str) -> dict[str, Any]:
    """A caption segment as an item view (docs/widget-protocol.md: item shape + ``caption``)."""
    words = segment.words
    return {
        "id": segment.id,
        "type": "message",
        "role": "user",
        "status": "completed" if segment.final else "in_progress",
        "text": "",
        "transcript": words,
        "transcribing": not words and not segment.final,
        "audio_samples": 0,
        "audio_content_index": 0,
        "truncated_ms": None,
        "tool": None,
        "output": None,
        "tool_state": None,
        "duration_ms": None,
        "traceback": None,
        "mcp": None,
        "images": [],
        "caption": {
            "mode": mode,
            "turn": segment.turn,
            "start": segment.start,
            "end": segment.end,
            "final": segment.final,
            "translation": segment.translation,
            "error": segment.error,
        },
    }


def caption_download(session: Any, fmt: str, now: float | None = None) -> tuple[str, str, bytes]:
    """The Transcript / Audio download of a caption mode: ``(filename, mime, data)``.

    Markdown is the captions (with their translations); WAV is the translated audio (a
    transcription session has none).

    Raises:
        ValueError: an unknown format, or no audio to save (the message says so).
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    if fmt == "markdown":
        data = session.captions.to_markdown().encode("utf-8")
        return f"captions-{stamp}.md", "text/markdown", data
    if fmt != "wav":
        raise ValueError(f"unknown download format {fmt!r}: use 'markdown' or 'wav'")
    audio = session.output_audio() if hasattr(session, "output_audio") else None
    if audio is None or not len(audio):
        raise ValueError(
            "no audio to save: live captions have none (the translate mode saves the "
            "translation's audio); download the transcript instead"
        )
    buffer = io.BytesIO()
    write_wav(buffer, audio, SAMPLE_RATE)
    return f"translation-{stamp}.wav", "audio/wav", buffer.getvalue()


class CaptionSync:
    """Shows a caption session in the widget through its `WidgetSync`.

    Args:
        session: the `RealtimeTranscriber` or `RealtimeTranslator`.
        sync: the widget's kernel -> browser state.
        mode: ``"transcribe"`` or ``"translate"``.
    """

    def __init__(self, session: Any, sync: Any, mode: str) -> None:
        self.session = session
        self.sync = sync
        self.mode = mode
        self._audio_part: str | None = None  # the phrase whose translated audio is streaming
        self._subscriptions: list[tuple[str, Callable]] = []
        handlers: dict[str, Callable[[dict], None]] = {
            "caption.updated": self._on_caption,
            "audio.delta": self._on_audio,
            "error": self._on_error,
            "reconnecting": lambda event: sync.set_status("reconnecting"),
            "reconnected": lambda event: sync.set_status("connected"),
            "close": self._on_close,
        }
        for name, handler in handlers.items():
            session.on(name, handler)
            self._subscriptions.append((name, handler))

    def close(self) -> None:
        """Stop listening to the session."""
        for name, handler in self._subscriptions:
            self.session.off(name, handler)
        self._subscriptions.clear()

    def _on_caption(self, event: dict) -> None:
        self.sync.put_view(caption_view(event["segment"], self.mode))

    def _on_audio(self, event: dict) -> None:
        segments = self.session.captions
        part = segments.segments[-1].id if len(segments) else "translation"
        if self._audio_part is not None and part != self._audio_part:
            self.sync.outbox.end_audio(self._audio_part, 0)
        self._audio_part = part
        pcm = np.asarray(event["audio"], dtype="<i2").tobytes()
        self.sync.outbox.add_audio(part, 0, pcm)
        self.sync.schedule()

    def _on_error(self, event: dict) -> None:
        error = event.get("error") or {}
        code = str(error.get("code") or error.get("type") or "error")
        message = str(error.get("message") or code)
        if event.get("source") != "local" and code == "invalid_value":
            message = f"{message} — {_FIX_HINTS[self.mode]}"
        source = "kernel" if event.get("source") == "local" else "server"
        self.sync.add_error(source, code, message)

    def _on_close(self, event: dict) -> None:
        if self._audio_part is not None:
            self.sync.outbox.end_audio(self._audio_part, 0)
            self._audio_part = None
        if event.get("error"):
            self.sync.set_status("error")
        elif self.sync.status != "connecting":
            self.sync.set_status("disconnected")
