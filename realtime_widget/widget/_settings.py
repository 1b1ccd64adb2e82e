"""Live session settings of the widget (issue 15, point 5): `LiveSettings`.

The browser edits the `settings` trait (voice, model, instructions, VAD, text-only, input
transcription); this collaborator turns it into `RealtimeClient.update_session` keywords, sent at
once while connected, and keeps the `settings_status` trait the browser shows next to the
fields: which choices exist (voices and models from the installed ``openai`` SDK), why the voice
is locked (the API refuses a voice change once the session has produced audio), and which field
the server refused. A refused update is rolled back by the client (its ``error`` event's
``rolled_back``): the field goes back to the value the session keeps and is marked with the
server's message, so the control is never stuck on a value nobody applied.

The model is part of the connection (the URL's ``model`` query): a new choice applies at the
next connection, and the status says so.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from realtime_widget.protocol import DEFAULT_TRANSCRIPTION_MODEL

__all__ = ["MODELS", "VOICES", "LiveSettings", "session_keywords", "settings_field"]


def _literal_values(annotation: Any) -> list[str]:
    """The strings of the ``Literal`` inside an SDK annotation (``Union[str, Literal[...]]``)."""
    out: list[str] = []
    for arg in typing.get_args(annotation):
        if typing.get_origin(arg) is typing.Literal:
            out.extend(v for v in typing.get_args(arg) if isinstance(v, str))
        elif typing.get_args(arg):
            out.extend(_literal_values(arg))
    return out


def _sdk_choices() -> tuple[list[str], list[str]]:
    # The installed SDK is the source of truth for what the API offers (DESIGN: protocol shapes).
    try:
        from openai.types.realtime import realtime_audio_config_output as out
        from openai.types.realtime import realtime_session_create_request as req
    except ImportError:  # pragma: no cover - openai is a base dependency
        return [], []
    from realtime_widget.protocol.models import DEPRECATED_MODELS

    voices = _literal_values(out.Voice)
    models = _literal_values(req.RealtimeSessionCreateRequest.model_fields["model"].annotation)
    # Realtime models only, current ones first (deprecated ones still work, listed last).
    models = [m for m in models if "realtime" in m or m.startswith("gpt-audio")]
    models.sort(key=lambda m: m in DEPRECATED_MODELS)
    return voices, models


VOICES, MODELS = _sdk_choices()
"""The API's built-in voices and realtime models, read from the installed ``openai`` SDK."""

VOICE_LOCKED = (
    "The voice cannot change once the session has produced audio (an API rule). "
    "Disconnect and Connect again (a new session) to choose another voice."
)

# Dotted GA names (the client's `rolled_back`) -> the `settings` field they come from.
_FIELDS = {
    "audio.output.voice": "voice",
    "instructions": "instructions",
    "audio.input.turn_detection": "turn_detection",
    "output_modalities": "text_only",
    "audio.input.transcription": "input_transcription",
}


def settings_field(dotted: str) -> str | None:
    """The `settings` field a refused dotted setting name belongs to, or None."""
    return _FIELDS.get(dotted)


def session_keywords(
    settings: dict[str, Any], hands_free: bool, default_vad: dict[str, Any], voice_locked: bool
) -> dict[str, Any]:
    """`RealtimeClient.update_session` keywords for the widget's settings.

    Args:
        settings: the `settings` trait.
        hands_free: server voice detection (else push-to-talk: no turn detection).
        default_vad: VAD settings used when the trait has none.
        voice_locked: the session has produced audio: the voice is left out.
    """
    config: dict[str, Any] = {}
    if settings.get("voice") and not voice_locked:
        config["voice"] = settings["voice"]
    if settings.get("instructions"):
        config["instructions"] = settings["instructions"]
    vad = settings.get("turn_detection") or default_vad
    vad = {k: v for k, v in vad.items() if v is not None}
    config["turn_detection"] = vad if hands_free else None
    if "text_only" in settings:
        config["output_modalities"] = ["text"] if settings["text_only"] else ["audio"]
    if "input_transcription" in settings:
        on = settings["input_transcription"]
        config["input_audio_transcription"] = {"model": DEFAULT_TRANSCRIPTION_MODEL} if on else None
    return config


def url_with_model(url: str, model: str) -> str:
    """``url`` with its ``model`` query set to ``model``."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query["model"] = model
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


class LiveSettings:
    """Applies the widget's settings to its client and keeps `settings_status`.

    Listens to the client's ``error`` (refused updates) and ``conversation.updated`` (the first
    assistant audio locks the voice) events; `close` stops listening.

    Args:
        client: the bound `RealtimeClient`.
        set_traits: sets widget traits (thread-safe; called on the runtime loop).
        report: adds a widget error ``(source, code, message)``.
    """

    def __init__(
        self,
        client: Any,
        set_traits: Callable[[dict[str, Any]], None],
        report: Callable[[str, str, str], None],
    ) -> None:
        self.client = client
        self._set_traits = set_traits
        self._report = report
        self.voice_locked = False
        self.refused: dict[str, str] = {}
        self.model_note = ""
        self.settings: dict[str, Any] = {}
        # Malformed events (wrong shapes) are the client's to report: ignored here.
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "error": _tolerant(self._on_error),
            "conversation.updated": _tolerant(self._on_conversation_updated),
            "reconnected": lambda _event: self.new_session(),
        }
        for name, handler in self._handlers.items():
            client.on(name, handler)

    def close(self) -> None:
        """Stop listening to the client."""
        for name, handler in self._handlers.items():
            self.client.off(name, handler)

    def status(self) -> dict[str, Any]:
        """The `settings_status` trait's value."""
        return {
            "voices": VOICES,
            "models": MODELS,
            "model": getattr(getattr(self.client, "realtime", None), "model", ""),
            "voice_locked": VOICE_LOCKED if self.voice_locked else "",
            "refused": dict(self.refused),
            "model_note": self.model_note,
        }

    def publish(self) -> None:
        """Send `settings_status` to the browser."""
        self._set_traits({"settings_status": self.status()})

    def apply(self, settings: dict[str, Any], hands_free: bool, default_vad: dict) -> None:
        """Send the settings (only what changed goes out; see `update_session`).

        A value that cannot be a setting is reported in the widget, not raised: this runs on
        the runtime loop after a browser edit.
        """
        for field in [f for f in self.refused if settings.get(f) != self.settings.get(f)]:
            del self.refused[field]  # edited again: the new value gets its own answer
        self.settings = dict(settings)
        self._note_model(settings.get("model"))
        kept = ((self.client.session_config.get("audio") or {}).get("output") or {}).get("voice")
        if self.voice_locked and settings.get("voice") and settings["voice"] != kept:
            # Not sent (the API would refuse it): the field shows the voice still speaking.
            self.settings["voice"] = kept
            self._set_traits({"settings": dict(self.settings)})
        try:
            self.client.update_session(
                **session_keywords(settings, hands_free, default_vad, self.voice_locked)
            )
        except (TypeError, ValueError) as exc:
            self._report("kernel", "bad_settings", f"{exc}. Change the setting and try again.")
        self.publish()

    def _note_model(self, model: Any) -> None:
        api = getattr(self.client, "realtime", None)
        if not model or api is None or model == api.model:
            self.model_note = ""
            return
        if "model=" not in api.url:
            self.model_note = "This endpoint chooses its model in its URL (Azure: the deployment)."
            return
        api.model = model
        api.url = url_with_model(api.url, model)
        self.model_note = (
            f"Model {model} applies at the next connection: press Disconnect, then Connect."
            if self.client.is_connected
            else ""
        )

    def new_session(self) -> None:
        """A new session started (connect, reconnect, clear): the voice may change again."""
        self.voice_locked = False
        self.model_note = ""
        self.publish()

    # ------------------------------------------------------------------ client events
    def _on_conversation_updated(self, event: dict[str, Any]) -> None:
        if self.voice_locked:
            return
        delta = event.get("delta") or {}
        if isinstance(delta, dict) and delta.get("audio") is not None:
            if (event.get("item") or {}).get("role") == "assistant":
                self.voice_locked = True
                self.publish()

    def _on_error(self, event: dict[str, Any]) -> None:
        restored = event.get("rolled_back")
        if not restored:
            return
        message = (event.get("error") or {}).get("message") or "refused by the server"
        fields = {settings_field(name) for name in restored} - {None}
        if not fields:
            return
        current = dict(self.settings)
        config = self.client.session_config
        for field in fields:
            self.refused[str(field)] = message
            current.update(_restored_value(str(field), config))
        self.settings = current
        self._set_traits({"settings": current, "settings_status": self.status()})


def _tolerant(handler: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    """``handler``, ignoring a malformed event (wrong shapes; the client reports those)."""

    def call(event: dict[str, Any]) -> None:
        try:
            handler(event)
        except (AttributeError, KeyError, TypeError, ValueError):
            pass

    return call


def _restored_value(field: str, config: dict[str, Any]) -> dict[str, Any]:
    """The `settings` entry holding what the session kept for ``field`` after a rollback."""
    audio = config.get("audio") or {}
    if field == "voice":
        return {"voice": (audio.get("output") or {}).get("voice")}
    if field == "instructions":
        return {"instructions": config.get("instructions") or ""}
    if field == "text_only":
        return {"text_only": config.get("output_modalities") == ["text"]}
    if field == "input_transcription":
        return {"input_transcription": (audio.get("input") or {}).get("transcription") is not None}
    vad = (audio.get("input") or {}).get("turn_detection")
    return {"turn_detection": vad} if vad else {}  # push-to-talk: the VAD values stay
