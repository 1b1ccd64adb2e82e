"""Audio formats: beta names (``"pcm16"``) <-> GA objects (``{"type": "audio/pcm", ...}``)."""

from __future__ import annotations

from typing import Any

from realtime_widget.protocol.aliases import BETA_AUDIO_FORMATS, GA_AUDIO_FORMATS

_ALLOWED = (
    "'pcm16' / {'type': 'audio/pcm', 'rate': 24000}, "
    "'g711_ulaw' / {'type': 'audio/pcmu'}, 'g711_alaw' / {'type': 'audio/pcma'}"
)


def to_ga_format(value: Any, where: str = "format") -> dict[str, Any]:
    """Return the GA format object for a beta name, a GA ``type`` string or a GA object.

    Args:
        value: ``"pcm16"``, ``"g711_ulaw"``, ``"g711_alaw"``, ``"audio/pcm"``, ``"audio/pcmu"``,
            ``"audio/pcma"`` or a GA object such as ``{"type": "audio/pcm", "rate": 24000}``
            (a missing ``rate`` means 24000, the only rate the protocol allows).
        where: the setting's name, for the error message.

    Returns:
        A new GA format object.

    Raises:
        ValueError: for any other value or rate, listing the allowed ones.
    """
    if isinstance(value, str):
        if value in BETA_AUDIO_FORMATS:
            return dict(BETA_AUDIO_FORMATS[value])
        if value in GA_AUDIO_FORMATS:
            return dict(BETA_AUDIO_FORMATS[GA_AUDIO_FORMATS[value]])
    elif isinstance(value, dict) and value.get("type") in GA_AUDIO_FORMATS:
        extra = set(value) - {"type", "rate"}
        if extra:
            raise ValueError(
                f"{where}: unknown key(s) {sorted(extra)} in {value!r}; allowed: {_ALLOWED}"
            )
        fmt = dict(BETA_AUDIO_FORMATS[GA_AUDIO_FORMATS[value["type"]]])
        if value["type"] == "audio/pcm":
            rate = value.get("rate", 24000)
            if rate != 24000 or isinstance(rate, bool):
                raise ValueError(
                    f"{where}: audio/pcm supports only rate 24000, got {rate!r}; resample to "
                    "24 kHz (realtime_widget.audio.resample), or use audio/pcmu or audio/pcma"
                )
        elif "rate" in value:
            raise ValueError(f"{where}: {value['type']} takes no rate (it is 8 kHz); got {value!r}")
        return fmt
    raise ValueError(f"{where}: unsupported audio format {value!r}; allowed: {_ALLOWED}")


def to_beta_format(value: Any, where: str = "format") -> str:
    """Return the beta format name for any value ``to_ga_format`` accepts.

    Args:
        value: a beta name, a GA ``type`` string or a GA format object.
        where: the setting's name, for the error message.

    Returns:
        ``"pcm16"``, ``"g711_ulaw"`` or ``"g711_alaw"``.

    Raises:
        ValueError: as ``to_ga_format``.
    """
    return GA_AUDIO_FORMATS[to_ga_format(value, where)["type"]]


def try_ga_format(value: Any) -> Any:
    """Like ``to_ga_format`` but return ``value`` unchanged instead of raising (peers' data)."""
    try:
        return to_ga_format(value)
    except ValueError:
        return value


def try_beta_format(value: Any) -> Any:
    """Like ``to_beta_format`` but return ``value`` unchanged instead of raising."""
    try:
        return to_beta_format(value)
    except ValueError:
        return value
