"""The client's session configuration, kept in GA shape and sent in the connection's dialect.

Users configure with the seed's flat keys (``voice``, ``turn_detection``, ...) or GA nested keys
(``audio.output.voice``, ...), in any mix, over several ``update_session`` calls. Each call is
checked and converted to GA at once by ``build_session`` (a typo fails in the caller's cell, not
as a server error later) and merged into one GA dict, so a later ``voice=`` replaces an earlier
``audio={"output": {"voice": ...}}`` instead of conflicting with it. ``temperature`` exists only in
beta: it is kept aside and sent only in the beta dialect.
"""

from __future__ import annotations

import copy
import warnings
from typing import Any

from realtime_widget.protocol import DEFAULT_TRANSCRIPTION_MODEL, build_session, warn_if_deprecated

__all__ = ["DEFAULT_SESSION", "SessionConfig"]

DEFAULT_SESSION: dict[str, Any] = {
    "modalities": ["text", "audio"],
    "voice": "alloy",
    "input_audio_format": "pcm16",
    "output_audio_format": "pcm16",
    "input_audio_transcription": {"model": DEFAULT_TRANSCRIPTION_MODEL},
    "turn_detection": None,
    "tool_choice": "auto",
}
"""The seed client's defaults (minus GA-less ``temperature`` and the 4096-token cap), with a
current transcription model instead of the seed's ``whisper-1`` (shut down on 2027-02-26)."""

_BETA_ONLY = frozenset({"temperature"})
_FORMATS = {"audio/pcm": (24000, 2), "audio/pcmu": (8000, 1), "audio/pcma": (8000, 1)}


class SessionConfig:
    """Merged session settings.

    Args:
        initial: settings applied over :data:`DEFAULT_SESSION` (flat and/or GA keys).
    """

    def __init__(self, initial: dict[str, Any] | None = None) -> None:
        self._initial = dict(initial or {})
        self.reset()

    def reset(self) -> None:
        """Back to the defaults and the constructor's settings."""
        self.ga: dict[str, Any] = {}
        self.beta_only: dict[str, Any] = {}
        self.update(DEFAULT_SESSION)
        self.update(self._initial)

    def update(self, config: dict[str, Any]) -> None:
        """Check ``config`` and merge it in.

        A model OpenAI announced for shutdown (``model``, the transcription ``model``) warns
        once per process (``DeprecatedModelWarning``) and is kept.

        Raises:
            ValueError: an unknown key or a bad value (the message names the valid ones).
        """
        config = dict(config)
        config.pop("tools", None)  # tools come from the registry (add_tool)
        for key in _BETA_ONLY & config.keys():
            self.beta_only[key] = config.pop(key)
        ga = build_session(config, "ga")
        ga.pop("type", None)
        transcription = ga.get("audio", {}).get("input", {}).get("transcription") or {}
        for model in (ga.get("model"), transcription.get("model")):
            warn_if_deprecated(model)
        for key, value in ga.items():
            if key == "audio":
                audio = self.ga.setdefault("audio", {})
                for side, settings in value.items():
                    audio.setdefault(side, {}).update(settings)
            else:
                self.ga[key] = value

    def session(self, dialect: str, tools: list[dict]) -> dict[str, Any]:
        """The ``session`` of a ``session.update`` in ``dialect``, with ``tools``."""
        config = {**copy.deepcopy(self.ga), "tools": tools}
        if dialect == "beta":
            config.update(self.beta_only)
            return build_session(config, "beta")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # beta-only keys were set aside already
            return build_session(config, "ga")

    def to_dict(self) -> dict[str, Any]:
        """A copy of the merged GA settings (plus beta-only ones)."""
        return {**copy.deepcopy(self.ga), **self.beta_only}

    @property
    def turn_detection(self) -> dict[str, Any] | None:
        """The input turn detection settings, or ``None`` (manual turns)."""
        return self.ga.get("audio", {}).get("input", {}).get("turn_detection")

    @property
    def output_rate(self) -> tuple[int, int]:
        """(sample rate, bytes per sample) of the output audio format."""
        fmt = self.ga.get("audio", {}).get("output", {}).get("format") or {}
        return _FORMATS.get(fmt.get("type", "audio/pcm"), (24000, 2))
