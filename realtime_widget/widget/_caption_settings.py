"""The settings panel of the transcribe and translate modes (issue 15): `CaptionSettings`.

A caption session takes other settings than a conversation (no voice, model answer, instructions
or token usage). What each kind's ``session.update`` accepts (the SDK's
``RealtimeTranscriptionSessionCreateRequest`` and ``RealtimeTranslationSessionUpdateRequest``):

- transcribe: the transcription model, a language hint, a prompt, noise reduction and server VAD
  (threshold, prefix padding, silence);
- translate: the target language (one of `TRANSLATION_LANGUAGES`), the source transcript's model
  (or none) and noise reduction.

The browser edits the `settings` trait with these fields; this collaborator turns them into the
session's ``update_session`` (sent at once while connected, else at the next connection) and
keeps `settings_status` (the choices, refused fields, notes) as `LiveSettings` does for a
conversation. A field the server refuses (its ``error`` names the field's ``param``) goes back
to the value the session keeps (the last ``session.created``/``.updated``), is sent again so the
session's settings match what the server applies, and is marked with the server's message. A
target language refused mid-session while the server translates into it is applied by opening a
new session (the notice says so): a server may fix the language when a session starts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime_widget.protocol.session_kinds import (
    DEFAULT_TRANSCRIPTION_MODEL,
    TRANSCRIPTION_MODELS,
    TRANSLATION_LANGUAGES,
)

__all__ = [
    "NOISE_REDUCTIONS",
    "CaptionSettings",
    "caption_field",
    "initial_caption_settings",
    "session_settings",
    "settings_from_session",
]

NOISE_REDUCTIONS = ("near_field", "far_field")
"""Noise reduction kinds both caption sessions take ("" in the settings: off)."""

_VAD_KEYS = ("threshold", "prefix_padding_ms", "silence_duration_ms")

# Dotted ``param`` prefixes of a server refusal -> the settings field; the first match wins.
_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "transcribe": (
        ("session.audio.input.transcription.language", "language"),
        ("session.audio.input.transcription.prompt", "prompt"),
        ("session.audio.input.transcription", "transcription_model"),
        ("session.audio.input.noise_reduction", "noise_reduction"),
        ("session.audio.input.turn_detection", "turn_detection"),
    ),
    "translate": (
        ("session.audio.output.language", "language"),
        ("session.audio.input.transcription", "transcription_model"),
        ("session.audio.input.noise_reduction", "noise_reduction"),
    ),
}

LANGUAGE_RECONNECT = (
    "The server does not change the target language during a session: a new session was "
    "opened to translate into {name}."
)


def caption_field(mode: str, param: Any) -> str | None:
    """The settings field a refused dotted ``param`` belongs to in ``mode``, or None."""
    if not isinstance(param, str):
        return None
    for prefix, field in _FIELDS.get(mode, ()):
        if param == prefix or param.startswith(prefix + "."):
            return field
    return None


def initial_caption_settings(
    mode: str, language: str | None, transcription_model: str | None, vad: dict[str, Any]
) -> dict[str, Any]:
    """The `settings` trait a caption-mode widget starts with (what its session is opened with)."""
    settings: dict[str, Any] = {
        "language": language or "",
        "transcription_model": transcription_model or DEFAULT_TRANSCRIPTION_MODEL,
        "noise_reduction": "",
    }
    if mode == "transcribe":
        settings["prompt"] = ""
        settings["turn_detection"] = {"type": "server_vad", **{k: vad.get(k) for k in _VAD_KEYS}}
    return settings


def session_settings(mode: str, settings: dict[str, Any]) -> dict[str, Any]:
    """The caption session's ``update_session`` keywords for the widget's `settings` (pure)."""
    noise = settings.get("noise_reduction") or None
    model = settings.get("transcription_model") or None
    if mode == "translate":
        return {
            "language": settings.get("language"),
            "transcription_model": model,
            "noise_reduction": noise,
        }
    vad = settings.get("turn_detection") or {}
    return {
        "model": model or DEFAULT_TRANSCRIPTION_MODEL,
        "language": settings.get("language") or None,
        "prompt": settings.get("prompt") or None,
        "noise_reduction": noise,
        "turn_detection": {k: vad[k] for k in _VAD_KEYS if vad.get(k) is not None},
    }


def settings_from_session(mode: str, session: dict[str, Any] | None) -> dict[str, Any]:
    """The `settings` fields holding what a session object (as the server reports it) applies."""
    audio = (session or {}).get("audio") or {}
    audio_in = audio.get("input") or {}
    transcription = audio_in.get("transcription") or {}
    noise = (audio_in.get("noise_reduction") or {}).get("type") or ""
    if mode == "translate":
        return {
            "language": (audio.get("output") or {}).get("language") or "",
            "transcription_model": transcription.get("model") or "",
            "noise_reduction": noise,
        }
    out: dict[str, Any] = {
        "transcription_model": transcription.get("model") or DEFAULT_TRANSCRIPTION_MODEL,
        "language": transcription.get("language") or "",
        "prompt": transcription.get("prompt") or "",
        "noise_reduction": noise,
    }
    vad = audio_in.get("turn_detection")
    if isinstance(vad, dict):
        out["turn_detection"] = {
            "type": vad.get("type", "server_vad"),
            **{k: vad.get(k) for k in _VAD_KEYS},
        }
    return out


class CaptionSettings:
    """Applies the widget's settings to its caption session and keeps `settings_status`.

    Listens to the session's ``error`` (refused fields) and ``session.updated`` (what the
    session applies: the header's language follows it; ``session.created`` only tells the
    server's defaults, before the widget's settings); `close` stops listening.

    Args:
        session: the `RealtimeTranscriber` or `RealtimeTranslator`.
        mode: ``"transcribe"`` or ``"translate"``.
        settings: the `settings` the session was made with.
        set_traits: sets widget traits (thread-safe; called on the runtime loop).
        report: adds a widget error ``(source, code, message)``.
        reconnect: opens a new session with the current settings (a coroutine function; the
            widget's disconnect then connect, so its status follows).
        submit: runs a coroutine on the runtime loop.
    """

    def __init__(
        self,
        session: Any,
        mode: str,
        settings: dict[str, Any],
        set_traits: Callable[[dict[str, Any]], None],
        report: Callable[[str, str, str], None],
        reconnect: Callable[[], Any],
        submit: Callable[[Any], Any],
    ) -> None:
        self.session = session
        self.mode = mode
        self._set_traits = set_traits
        self._report = report
        self._reconnect = reconnect
        self._submit = submit
        self.settings: dict[str, Any] = dict(settings)
        self.refused: dict[str, str] = {}
        self.notes: dict[str, str] = {}
        self._sent: dict[str, Any] | None = None  # the keywords last given to the session
        self._language_change: str | None = None  # a target language sent mid-session
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "error": self._on_error,
            "session.updated": self._on_session_updated,
        }
        for name, handler in self._handlers.items():
            session.on(name, handler)

    def close(self) -> None:
        """Stop listening to the session."""
        for name, handler in self._handlers.items():
            self.session.off(name, handler)

    def status(self) -> dict[str, Any]:
        """The `settings_status` trait's value in a caption mode."""
        return {
            "voices": [],
            "models": [],
            "transcription_models": list(TRANSCRIPTION_MODELS),
            "languages": [[code, name] for code, name in TRANSLATION_LANGUAGES.items()],
            "noise_reductions": list(NOISE_REDUCTIONS),
            "refused": dict(self.refused),
            "notes": dict(self.notes),
        }

    def publish(self) -> None:
        """Send `settings_status` to the browser."""
        self._set_traits({"settings_status": self.status()})

    def apply(self, settings: dict[str, Any]) -> None:
        """Give the session the settings that changed (sent at once when connected).

        Bad input is reported in the widget and the field goes back, not raised: this runs on
        the runtime loop after a browser edit.
        """
        for field in [f for f in self.refused if settings.get(f) != self.settings.get(f)]:
            del self.refused[field]  # edited again: the new value gets its own answer
        self.notes.pop("language", None)
        previous, self.settings = self.settings, dict(settings)
        keywords = session_settings(self.mode, settings)
        changed = {k: v for k, v in keywords.items() if (self._sent or {}).get(k, ...) != v}
        if changed:
            try:
                self.session.update_session(**changed)
            except (TypeError, ValueError) as exc:
                self._refuse_locally(changed, previous, str(exc))
                return
            self._sent = {**(self._sent or {}), **changed}
            if self.mode == "translate" and "language" in changed and self.session.is_connected:
                self._language_change = str(changed["language"])
        self.publish()

    def _refuse_locally(self, changed: dict[str, Any], previous: dict[str, Any], why: str) -> None:
        # ``previous`` is what the session has: a value that raises here never reached it.
        self._report("kernel", "bad_settings", f"{why}. Change the setting and try again.")
        names = {"model": "transcription_model"}
        for key in changed:
            field = names.get(key, key)
            self.refused[field] = why
            if field in previous:
                self.settings[field] = previous[field]
        self._set_traits({"settings": dict(self.settings), "settings_status": self.status()})

    # ------------------------------------------------------------------ session events
    def _on_session_updated(self, event: dict[str, Any]) -> None:
        applied = settings_from_session(self.mode, event.get("session"))
        if self._language_change and applied.get("language") == self._language_change:
            self._language_change = None  # applied in place: no new session needed
        self._set_traits({"language": applied.get("language", "")})

    def _on_error(self, event: dict[str, Any]) -> None:
        error = event.get("error") or {}
        if event.get("source") == "local" or not isinstance(error, dict):
            return
        field = caption_field(self.mode, error.get("param"))
        if field is None:
            return
        wanted = self._language_change
        if field == "language" and wanted in TRANSLATION_LANGUAGES:
            # A supported language refused mid-session: a new session starts with it.
            self._language_change = None
            self.notes["language"] = LANGUAGE_RECONNECT.format(name=TRANSLATION_LANGUAGES[wanted])
            self.publish()
            self._submit(self._reconnect())
            return
        message = str(error.get("message") or "refused by the server")
        self.refused[field] = message
        kept = settings_from_session(self.mode, self.session.session)
        if field in kept:
            self.settings[field] = kept[field]
        # The session's own settings follow what the server applies (a reconnect reuses them).
        restored = session_settings(self.mode, self.settings)
        try:
            self.session.update_session(**restored)
        except (TypeError, ValueError):  # the session reports nothing valid: keep what it has
            pass
        self._sent = restored
        self._set_traits({"settings": dict(self.settings), "settings_status": self.status()})
