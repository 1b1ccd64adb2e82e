"""Model names: the defaults, and the models OpenAI announced for shutdown (issue 12, DESIGN §6).

The installed ``openai`` SDK is the source of truth for what OpenAI serves now: the ``model``
Literals of ``openai.types.realtime.RealtimeSessionCreateRequest`` (realtime models) and
``AudioTranscription`` (input transcription models), and the "Deprecated values" notes under them.
``tests/protocol/test_models.py`` compares the table below with the installed SDK, so a new
deprecation or a renamed model fails CI instead of surprising users on the shutdown day.

Choosing a deprecated model still works until OpenAI turns it off; it warns once per model and
process (:func:`warn_if_deprecated`), naming the shutdown date and the default to use instead.
"""

from __future__ import annotations

import sys
import warnings

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_TRANSCRIPTION_MODEL",
    "DEPRECATED_MODELS",
    "DeprecatedModelWarning",
    "shutdown_date",
    "warn_if_deprecated",
]

DEFAULT_MODEL = "gpt-realtime-2"
"""The realtime model used when none is given (a current, reasoning-capable GA model)."""

DEFAULT_TRANSCRIPTION_MODEL = "gpt-live-transcribe"
"""The input audio transcription model of the default session (streams while the user speaks)."""

_REALTIME_SHUTDOWN = "2027-01-20"
_TRANSCRIPTION_SHUTDOWN = "2027-02-26"

DEPRECATED_MODELS: dict[str, str] = {
    # RealtimeSessionCreateRequest.model, "Deprecated values" (openai SDK 3.63)
    "gpt-realtime": _REALTIME_SHUTDOWN,
    "gpt-realtime-2025-08-28": _REALTIME_SHUTDOWN,
    "gpt-realtime-mini": _REALTIME_SHUTDOWN,
    "gpt-realtime-mini-2025-12-15": _REALTIME_SHUTDOWN,
    "gpt-audio-mini": _REALTIME_SHUTDOWN,
    "gpt-audio-mini-2025-12-15": _REALTIME_SHUTDOWN,
    # AudioTranscription.model, "Deprecated values" (openai SDK 3.63)
    "whisper-1": _TRANSCRIPTION_SHUTDOWN,
    "gpt-4o-mini-transcribe": _TRANSCRIPTION_SHUTDOWN,
    "gpt-4o-mini-transcribe-2025-12-15": _TRANSCRIPTION_SHUTDOWN,
    "gpt-4o-transcribe": _TRANSCRIPTION_SHUTDOWN,
    "gpt-4o-transcribe-diarize": _TRANSCRIPTION_SHUTDOWN,
}
"""Model name -> the shutdown date OpenAI announced for it (ISO date)."""

_TRANSCRIPTION_MODELS = frozenset(
    name for name, date in DEPRECATED_MODELS.items() if date == _TRANSCRIPTION_SHUTDOWN
)
_PACKAGE = __name__.split(".")[0]
_DEPRECATIONS_URL = "https://developers.openai.com/api/docs/deprecations"

# Models already warned about in this process: a notebook re-running a cell, or a widget making
# a client per view, should say it once, not on every construction.
_warned: set[str] = set()


class DeprecatedModelWarning(FutureWarning):
    """A model OpenAI announced for shutdown was chosen (shown by default, unlike
    ``DeprecationWarning``: the user chose the model, not a library)."""


def shutdown_date(model: object) -> str | None:
    """The announced shutdown date of ``model`` (``"2027-01-20"``), or ``None`` if it has none."""
    return DEPRECATED_MODELS.get(model) if isinstance(model, str) else None


def warn_if_deprecated(model: object, *, stacklevel: int | None = None) -> bool:
    """Warn (:class:`DeprecatedModelWarning`) the first time a deprecated model is chosen.

    Args:
        model: a realtime or transcription model name (anything else is ignored).
        stacklevel: as for :func:`warnings.warn`, counted from the caller of this function;
            by default the warning points at the first caller outside ``realtime_widget`` (the
            user's cell, not the constructor that passed the model on).

    Returns:
        Whether a warning was issued (``False`` for current models and for repeats).
    """
    date = shutdown_date(model)
    if date is None or model in _warned:
        return False
    _warned.add(model)  # type: ignore[arg-type]  # shutdown_date checked it is a str
    if model in _TRANSCRIPTION_MODELS:
        kind, default = "transcription model", DEFAULT_TRANSCRIPTION_MODEL
    else:
        kind, default = "realtime model", DEFAULT_MODEL
    warnings.warn(
        f"{kind} {model!r} is deprecated: OpenAI announced its shutdown for {date}; "
        f"choose a current one such as {default!r} (the default). See {_DEPRECATIONS_URL}",
        DeprecatedModelWarning,
        stacklevel=(stacklevel + 1) if stacklevel is not None else _first_outside_package(),
    )
    return True


def _first_outside_package() -> int:
    """The ``warnings.warn`` stacklevel of the innermost frame outside this package."""
    frame, level = sys._getframe(1), 1  # level 1 = the frame calling warnings.warn
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == _PACKAGE:
        frame, level = frame.f_back, level + 1
    return level
