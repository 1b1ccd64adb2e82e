"""The two widget entry points of record/replay: ``widget.record(path)`` and ``replay(path)``.

Written as functions so that ``RealtimeWidget.record`` / ``RealtimeWidget.replay`` stay one line
each; usable directly meanwhile.
"""

from __future__ import annotations

import os
import pathlib
from typing import Any

from realtime_widget.recording._format import Recording
from realtime_widget.recording._recorder import Recorder
from realtime_widget.recording._replay import ReplayClient

__all__ = ["REPLAY_NOTICE", "record_widget", "replay_widget"]

REPLAY_NOTICE = (
    "Replay of a recorded session: no model, no server and no API key are involved. "
    "Press Connect to play it again."
)


def record_widget(widget: Any, path: str | os.PathLike[str], **options: Any) -> Recorder:
    """Start recording a widget's session (every event both ways, audio included) to ``path``.

    Stop with ``.close()`` on the returned recorder (or use it in a ``with`` block); the file is
    flushed every half second, so an interrupted kernel leaves a readable recording.

    Args:
        widget: a ``RealtimeWidget`` (or anything with a ``client``).
        path: the JSON Lines file to write.
        **options: :class:`Recorder` options (``flush_interval``).
    """
    return Recorder(widget.client, path, **options)


def replay_widget(
    source: Recording | str | os.PathLike[str],
    speed: float | None = 1.0,
    *,
    autoplay: bool = True,
    widget_class: type | None = None,
    **widget_options: Any,
) -> Any:
    """A ``RealtimeWidget`` playing a recording: transcript, audio and tool calls, offline.

    Args:
        source: a file written by ``widget.record(path)`` / :class:`Recorder`, or a
            :class:`Recording`.
        speed: 1.0 = the original pace, 2.0 = twice as fast, ``None`` = all at once.
        autoplay: start playing now (else press Connect, or call ``widget.connect()``). Audio
            sent before the widget is displayed is not heard in the browser (the transcript is),
            so for a live audience create it with ``autoplay=False`` and press Connect.
        widget_class: the class to build (``RealtimeWidget`` or a subclass; for a classmethod).
        **widget_options: more ``RealtimeWidget`` options (e.g. ``instructions`` for display).

    Returns:
        The widget; ``widget.client`` is the :class:`ReplayClient`.
    """
    if widget_class is None:
        from realtime_widget.widget import RealtimeWidget as widget_class

    client = ReplayClient(source, speed=speed)
    # Push-to-talk: a replay must not switch the microphone on by itself.
    widget_options.setdefault("turn_detection", None)
    widget = widget_class(client, autoconnect=autoplay, **widget_options)
    name = pathlib.Path(source).name if isinstance(source, (str, os.PathLike)) else "a recording"
    widget.server_label = f"replay of {name}"
    widget.notice = REPLAY_NOTICE
    return widget
