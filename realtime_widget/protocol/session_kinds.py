"""Transcription and translation sessions: their settings, checked and built (issue 14). Pure.

- A **transcription session** is a Realtime session whose ``session.update`` says
  ``"type": "transcription"`` (the SDK's ``RealtimeTranscriptionSessionCreateRequest``): captions
  only, no model answers.
- A **translation session** is a websocket to ``/v1/realtime/translations?model=...`` (what the
  SDK's ``client.realtime.translations.connect`` opens), speaking its own small protocol:
  ``session.update`` (only ``audio.output.language``, ``audio.input.transcription``,
  ``audio.input.noise_reduction``), ``session.input_audio_buffer.append``, ``session.close``.

What Python can check is checked here, in the caller's thread, so a typo raises a ``ValueError``
saying what to change before anything is sent; what only the server knows (which target
languages it translates to) comes back as its ``error`` event.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from realtime_widget.protocol.models import DEFAULT_TRANSCRIPTION_MODEL, warn_if_deprecated

__all__ = [
    "DEFAULT_TRANSCRIPTION_MODEL",
    "DEFAULT_TRANSLATION_MODEL",
    "TRANSCRIPTION_MODELS",
    "TRANSLATION_LANGUAGES",
    "check_language",
    "check_transcription_model",
    "transcription_session",
    "translation_session",
    "translation_url",
]

TRANSCRIPTION_MODELS = (
    "whisper-1",
    "gpt-transcribe",
    "gpt-live-transcribe",
    "gpt-4o-mini-transcribe",
    "gpt-4o-mini-transcribe-2025-12-15",
    "gpt-4o-transcribe",
    "gpt-4o-transcribe-diarize",
    "gpt-realtime-whisper",
)
"""The transcription models the ``openai`` SDK names (``AudioTranscription.model``); a test
compares this with the installed SDK so that drift fails CI."""

DEFAULT_TRANSLATION_MODEL = "gpt-realtime-translate"

TRANSLATION_LANGUAGES: dict[str, str] = {
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "hi": "Hindi",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "ru": "Russian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "zh": "Chinese",
}
"""The 16 target languages translation sessions offer (ISO-639-1 code -> English name): what the
widget's language picker lists. The server still has the last word (its ``error`` event); the
embedded server's own table (``server._translation.LANGUAGES``) is compared with this by a test."""

_LANGUAGE = re.compile(r"^[a-z]{2}$")
_PCM_24K = {"type": "audio/pcm", "rate": 24000}


def check_transcription_model(model: Any) -> str:
    """``model`` if the API knows it; a model OpenAI announced for shutdown is accepted with a
    :class:`~realtime_widget.protocol.models.DeprecatedModelWarning` (once per process).

    Raises:
        ValueError: an unknown name; the message lists the known ones.
    """
    if model not in TRANSCRIPTION_MODELS:
        known = ", ".join(repr(m) for m in TRANSCRIPTION_MODELS)
        raise ValueError(
            f"unknown transcription model {model!r}: use one of {known} "
            f"(default {DEFAULT_TRANSCRIPTION_MODEL!r})"
        )
    warn_if_deprecated(model)
    return str(model)


def check_language(language: Any, what: str = "language") -> str:
    """``language`` as an ISO-639-1 code (``"fr"``; ``"FR"`` is lowered).

    Raises:
        ValueError: not a two-letter code; the message shows the expected form.
    """
    if isinstance(language, str) and _LANGUAGE.match(language.strip().lower()):
        return language.strip().lower()
    raise ValueError(
        f"{what} must be a two-letter ISO-639-1 code such as 'fr', 'es' or 'de', got {language!r}"
    )


def transcription_session(
    *,
    model: str = DEFAULT_TRANSCRIPTION_MODEL,
    language: str | None = None,
    prompt: str | None = None,
    turn_detection: dict[str, Any] | Any | None = ...,
    noise_reduction: str | None = None,
    include: list[str] | None = None,
) -> dict[str, Any]:
    """The ``session`` of a transcription session's ``session.update`` (GA shape).

    Args:
        model: the transcription model (checked).
        language: the speech's language (ISO-639-1; improves accuracy), or ``None``.
        prompt: words or a style to guide the transcription.
        turn_detection: ``...`` for server VAD with its defaults, a dict of VAD settings (with
            ``type``), or ``None`` for manual turns (commit them yourself).
        noise_reduction: ``"near_field"``, ``"far_field"`` or ``None``.
        include: extra fields, e.g. ``["item.input_audio_transcription.logprobs"]``.

    Raises:
        ValueError: an unknown model, a malformed language or noise reduction.
    """
    transcription: dict[str, Any] = {"model": check_transcription_model(model)}
    if language is not None:
        transcription["language"] = check_language(language)
    if prompt:
        transcription["prompt"] = str(prompt)
    audio_input: dict[str, Any] = {"format": dict(_PCM_24K), "transcription": transcription}
    if turn_detection is ...:
        audio_input["turn_detection"] = {"type": "server_vad"}
    elif turn_detection is None or isinstance(turn_detection, dict):
        audio_input["turn_detection"] = (
            {"type": "server_vad", **turn_detection} if turn_detection else None
        )
    else:
        raise ValueError(
            f"turn_detection must be a dict of VAD settings or None, got {turn_detection!r}"
        )
    if noise_reduction is not None:
        audio_input["noise_reduction"] = {"type": _noise(noise_reduction)}
    session: dict[str, Any] = {"type": "transcription", "audio": {"input": audio_input}}
    if include:
        session["include"] = list(include)
    return session


def translation_session(
    *,
    language: str,
    transcription_model: str | None = DEFAULT_TRANSCRIPTION_MODEL,
    noise_reduction: str | None = None,
) -> dict[str, Any]:
    """The ``session`` of a translation session's ``session.update``.

    Args:
        language: the target language (ISO-639-1, checked for its form; the server says
            whether it translates to it).
        transcription_model: transcribe the source speech too (``session.input_transcript``
            events) with this model; ``None``: translation only.
        noise_reduction: ``"near_field"``, ``"far_field"`` or ``None``.

    Raises:
        ValueError: a malformed language, an unknown transcription model.
    """
    audio: dict[str, Any] = {"output": {"language": check_language(language)}}
    audio_input: dict[str, Any] = {}
    if transcription_model is not None:
        audio_input["transcription"] = {"model": check_transcription_model(transcription_model)}
    if noise_reduction is not None:
        audio_input["noise_reduction"] = {"type": _noise(noise_reduction)}
    if audio_input:
        audio["input"] = audio_input
    return {"audio": audio}


def translation_url(url: str | None, default: str) -> str:
    """The translations endpoint for ``url`` (``.../realtime`` -> ``.../realtime/translations``).

    A URL already ending in ``/translations`` is kept; ``None`` gives ``default``'s endpoint.
    """
    parts = urlsplit(url or default)
    path = parts.path.rstrip("/")
    if not path.endswith("/translations"):
        path += "/translations"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _noise(kind: Any) -> str:
    if kind not in ("near_field", "far_field"):
        raise ValueError(f"noise_reduction must be 'near_field' or 'far_field', got {kind!r}")
    return str(kind)
