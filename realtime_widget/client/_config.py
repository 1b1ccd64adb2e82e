"""The client's session configuration, kept in GA shape and sent in the connection's dialect.

Users configure with the seed's flat keys (``voice``, ``turn_detection``, ...) or GA nested keys
(``audio.output.voice``, ...), in any mix, over several ``update_session`` calls. Each call is
checked and converted to GA at once by ``build_session`` (a typo fails in the caller's cell, not
as a server error later) and merged into one GA dict, so a later ``voice=`` replaces an earlier
``audio={"output": {"voice": ...}}`` instead of conflicting with it. ``temperature`` exists only in
beta: it is kept aside and sent only in the beta dialect.

Once connected, a ``session.update`` carries only what an update changed (issue 12): its
:class:`SessionChange`, at the granularity the server merges at (top-level keys, and each key of
``audio.input``/``audio.output``; ``turn_detection``, ``transcription`` and formats are whole
values). A refused change is rolled back (:meth:`SessionConfig.rollback`), so one setting the
server does not take is never sent again with every later update.
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass
from typing import Any

from realtime_widget.protocol import DEFAULT_TRANSCRIPTION_MODEL, build_session, warn_if_deprecated

__all__ = ["DEFAULT_SESSION", "SessionChange", "SessionConfig"]

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


class _Unset:
    """The old value of a setting that did not exist before the change (survives deepcopy)."""

    def __repr__(self) -> str:
        return "<unset>"

    def __deepcopy__(self, memo: dict) -> _Unset:
        return self


_UNSET: Any = _Unset()

Path = tuple[str, ...]


@dataclass(frozen=True)
class SessionChange:
    """What one update changed: each setting's path and its (old, new) value.

    Attributes:
        values: ``path -> (old, new)``; a path is ``("instructions",)`` or
            ``("audio", "input", "turn_detection")``; ``old`` is ``_UNSET`` for a new setting.
    """

    values: dict[Path, tuple[Any, Any]]

    def __bool__(self) -> bool:
        return bool(self.values)

    @property
    def keys(self) -> list[str]:
        """The changed settings as dotted GA names (``"audio.output.voice"``)."""
        return [".".join(path) for path in self.values]


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

    def update(self, config: dict[str, Any]) -> SessionChange:
        """Check ``config`` and merge it in; returns what changed (possibly nothing).

        A model OpenAI announced for shutdown (``model``, the transcription ``model``) warns
        once per process (``DeprecatedModelWarning``) and is kept.

        Raises:
            ValueError: an unknown key or a bad value (the message names the valid ones).
        """
        before = self._leaves()
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
        after = self._leaves()
        return SessionChange(
            {
                path: (copy.deepcopy(before.get(path, _UNSET)), copy.deepcopy(value))
                for path, value in after.items()
                if before.get(path, _UNSET) != value
            }
        )

    def rollback(self, change: SessionChange) -> list[str]:
        """Undo a change the server refused; returns the dotted names restored.

        A setting changed again since (by a later update) keeps its newer value: only what
        still holds the refused value goes back to what it was before.
        """
        current = self._leaves()
        restored = []
        for path, (old, new) in change.values.items():
            if current.get(path, _UNSET) != new:
                continue
            where = self.beta_only if path[0] in _BETA_ONLY else self.ga
            for key in path[:-1]:
                where = where.setdefault(key, {})
            if old is _UNSET:
                where.pop(path[-1], None)
            else:
                where[path[-1]] = copy.deepcopy(old)
            restored.append(".".join(path))
        audio = self.ga.get("audio", {})
        for side in [side for side, settings in audio.items() if not settings]:
            del audio[side]  # an audio side that only held the refused setting
        return restored

    def rollback_param(self, param: object) -> str | None:
        """Undo the setting a refused full ``session.update`` named in its error's ``param``.

        Args:
            param: the error's dotted ``param`` (``"session.audio.input.transcription.x"``).

        Returns:
            The dotted name of the setting put back to its default (removed if it has none),
            or ``None`` when ``param`` names none of ours or it is at its default already.
        """
        if not isinstance(param, str) or not param.startswith("session."):
            return None
        parts = tuple(param.removeprefix("session.").split("."))
        path = parts[:3] if parts[0] == "audio" else parts[:1]
        path = tuple(p.split("[", 1)[0] for p in path)  # "include[0]" -> "include"
        current = self._leaves()
        if path not in current:
            return None
        old = SessionConfig()._leaves().get(path, _UNSET)  # DEFAULT_SESSION's value
        if current[path] == old:
            return None
        change = SessionChange({path: (old, current[path])})
        return next(iter(self.rollback(change)), None)

    def session(
        self, dialect: str, tools: list[dict] | None, change: SessionChange | None = None
    ) -> dict[str, Any] | None:
        """The ``session`` of a ``session.update`` in ``dialect``.

        Args:
            dialect: ``"ga"`` or ``"beta"``.
            tools: the tool definitions to send, or ``None`` to leave the session's as they are.
            change: send only these settings (and ``tools``); ``None`` sends all of them.

        Returns:
            The session object, or ``None`` when there is nothing to send in this dialect
            (e.g. only ``temperature`` changed, which GA does not have).
        """
        if change is None:
            ga, beta_only = copy.deepcopy(self.ga), dict(self.beta_only)
        else:
            ga, beta_only = {}, {}
            for path, (_, new) in change.values.items():
                where = beta_only if path[0] in _BETA_ONLY else ga
                for key in path[:-1]:
                    where = where.setdefault(key, {})
                where[path[-1]] = copy.deepcopy(new)
        if tools is not None:
            ga["tools"] = tools
        if dialect == "beta":
            ga.update(beta_only)
            return build_session(ga, "beta") if ga else None
        if not ga:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # beta-only keys were set aside already
            return build_session(ga, "ga")

    def _leaves(self) -> dict[Path, Any]:
        """Every setting by path, at the granularity the server merges at."""
        leaves: dict[Path, Any] = {(key,): value for key, value in self.beta_only.items()}
        for key, value in self.ga.items():
            if key != "audio":
                leaves[(key,)] = value
                continue
            for side, settings in value.items():
                for name, setting in settings.items():
                    leaves[("audio", side, name)] = setting
        return leaves

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
