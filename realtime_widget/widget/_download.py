"""The widget's downloads: the conversation as Markdown or WAV bytes, built in the kernel.

Pure apart from reading the client's conversation: the browser asks (``download`` message), the
kernel answers with the file's bytes as a binary buffer, and the browser saves them (Blob and an
``<a download>``). The audio stays in the kernel until asked for; nothing here carries the API key
(items hold only what the model and the user said).
"""

from __future__ import annotations

import io
import time
from typing import Any

from realtime_widget.audio import SAMPLE_RATE, write_wav
from realtime_widget.export import conversation_audio, to_markdown

__all__ = ["DOWNLOAD_FORMATS", "download_payload"]

DOWNLOAD_FORMATS = {
    "markdown": ("md", "text/markdown"),
    "wav": ("wav", "audio/wav"),
}
"""Format name -> (file extension, MIME type)."""


def download_payload(source: Any, fmt: str, now: float | None = None) -> tuple[str, str, bytes]:
    """The file for one download: ``(filename, mime, data)``.

    Args:
        source: a widget, client or conversation (as `realtime_widget.export` takes).
        fmt: ``"markdown"`` (the transcript, images embedded) or ``"wav"`` (the whole
            conversation's audio, user and assistant in order, 24 kHz mono PCM16).
        now: the time stamped into the filename (default: now).

    Raises:
        ValueError: an unknown format, or a conversation without audio for ``"wav"`` (the
            message says so).
    """
    if fmt not in DOWNLOAD_FORMATS:
        raise ValueError(f"unknown download format {fmt!r}: use one of {sorted(DOWNLOAD_FORMATS)}")
    ext, mime = DOWNLOAD_FORMATS[fmt]
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    filename = f"conversation-{stamp}.{ext}"
    if fmt == "markdown":
        return filename, mime, to_markdown(source, title="Conversation").encode("utf-8")
    buffer = io.BytesIO()
    write_wav(buffer, conversation_audio(source, gap_ms=300), SAMPLE_RATE)
    return filename, mime, buffer.getvalue()
