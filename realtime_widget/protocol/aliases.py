"""The one alias table between beta and GA names (DESIGN §6, STYLE rule 6).

Everything else in the package derives its renames from these tables; nothing else spells a beta
name.
"""

from __future__ import annotations

BETA_TO_GA_SERVER_EVENTS: dict[str, str] = {
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
}
"""Beta server event type -> GA server event type.

``conversation.item.created`` is not renamed: GA servers may still send it next to
``conversation.item.added``, and the reducer treats both alike.
"""

GA_TO_BETA_SERVER_EVENTS: dict[str, str] = {
    **{ga: beta for beta, ga in BETA_TO_GA_SERVER_EVENTS.items()},
    # GA announces an item with `.added`; beta's only announcement is `.created`.
    "conversation.item.added": "conversation.item.created",
}
"""GA server event type -> beta server event type (``conversation.item.done`` has none)."""

BETA_TO_GA_CONTENT_TYPES: dict[str, str] = {"text": "output_text", "audio": "output_audio"}
"""Assistant content types, beta -> GA. User and system content (``input_text``,
``input_audio``) keeps its name in both dialects."""

GA_TO_BETA_CONTENT_TYPES: dict[str, str] = {
    ga: beta for beta, ga in BETA_TO_GA_CONTENT_TYPES.items()
}
"""Assistant content types, GA -> beta."""

BETA_AUDIO_FORMATS: dict[str, dict[str, object]] = {
    "pcm16": {"type": "audio/pcm", "rate": 24000},
    "g711_ulaw": {"type": "audio/pcmu"},
    "g711_alaw": {"type": "audio/pcma"},
}
"""Beta audio format name -> GA format object."""

GA_AUDIO_FORMATS: dict[str, str] = {
    str(obj["type"]): beta for beta, obj in BETA_AUDIO_FORMATS.items()
}
"""GA format ``type`` -> beta audio format name."""
