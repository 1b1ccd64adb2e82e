"""What `RealtimeWidget.play`, `save_audio`, `record` and `replay` do, as plain functions.

They read only what they are handed (the bound client and the item views), so the widget's public
methods are one line each and this module needs no widget. Recording and replay come from the
modules that define them (`recording._recorder`, `recording._replay`), not the `recording`
package: its facade re-exports `replay_widget`, which builds a widget, and importing it from here
would close an import cycle (issue 16, point 2).
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

from realtime_widget.audio import SAMPLE_RATE, wav_bytes, write_wav
from realtime_widget.recording._format import Recording
from realtime_widget.recording._recorder import Recorder
from realtime_widget.recording._replay import REPLAY_NOTICE, ReplayClient
from realtime_widget.widget._audio import audio_or_raise

__all__ = ["play", "record", "replay", "save_audio"]


def play(client: Any, items: list[dict[str, Any]], item_id: str | None) -> Any:
    """An ``IPython.display.Audio`` of one item (default: the last assistant item with audio)."""
    from IPython.display import Audio  # IPython is only needed by this notebook convenience

    if item_id is None:
        spoken = [v for v in items if v["role"] == "assistant" and v["audio_samples"]]
        item_id = spoken[-1]["id"] if spoken else ""
    return Audio(data=wav_bytes(audio_or_raise(client, items, item_id), SAMPLE_RATE))


def save_audio(
    client: Any, items: list[dict[str, Any]], path: str | pathlib.Path, item_id: str | None
) -> pathlib.Path:
    """Write one item's audio, or the whole conversation's, as a 24 kHz WAV file at ``path``."""
    write_wav(str(path), audio_or_raise(client, items, item_id), SAMPLE_RATE)
    return pathlib.Path(path)


def record(client: Any, path: str | os.PathLike[str], **options: Any) -> Recorder:
    """A `Recorder` writing the client's session (events both ways, audio included) to ``path``."""
    return Recorder(client, path, **options)


def replay(
    widget_class: type,
    source: Recording | str | os.PathLike[str],
    speed: float | None = 1.0,
    *,
    autoplay: bool = True,
    **widget_options: Any,
) -> Any:
    """A ``widget_class`` instance bound to a `ReplayClient` of ``source`` (no server, no key)."""
    client = ReplayClient(source, speed=speed)
    # Push-to-talk: a replay must not switch the microphone on by itself.
    widget_options.setdefault("turn_detection", None)
    widget = widget_class(client, autoconnect=autoplay, **widget_options)
    name = pathlib.Path(source).name if isinstance(source, (str, os.PathLike)) else "a recording"
    widget.server_label = f"replay of {name}"
    widget.notice = REPLAY_NOTICE
    return widget
