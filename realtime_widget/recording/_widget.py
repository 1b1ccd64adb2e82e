"""The two widget entry points of record/replay: ``widget.record(path)`` and ``replay(path)``.

The public spellings of ``RealtimeWidget.record`` / ``RealtimeWidget.replay`` for users of
``realtime_widget.recording``. Building the widget is the widget's job (``widget/_media.py``):
this module only imports the widget class, when no ``widget_class`` is given, so the dependency
runs one way (issue 16, point 2).
"""

from __future__ import annotations

import os
from typing import Any

from realtime_widget.recording._format import Recording
from realtime_widget.recording._recorder import Recorder
from realtime_widget.recording._replay import REPLAY_NOTICE

__all__ = ["REPLAY_NOTICE", "record_widget", "replay_widget"]


def record_widget(widget: Any, path: str | os.PathLike[str], **options: Any) -> Recorder:
    """Start recording a widget's session (every event both ways, audio included) to ``path``.

    Stop with ``.close()`` on the returned recorder (or use it in a ``with`` block); the file is
    flushed every half second, so an interrupted kernel leaves a readable recording.

    Args:
        widget: a ``RealtimeWidget`` (or anything with a ``client``).
        path: the JSON Lines file to write.
        **options: :class:`Recorder` options (``flush_interval``).
    """
    # The transcribe and translate modes record their caption session (the client stays idle);
    # read their captions back with ``Captions.from_recording(path)``.
    session = getattr(widget, "caption_session", None)
    return Recorder(session if session is not None else widget.client, path, **options)


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
        # Deferred: the widget (anywidget, traitlets) is not needed to read or replay recordings.
        from realtime_widget.widget import RealtimeWidget as widget_class

    return widget_class.replay(source, speed, autoplay=autoplay, **widget_options)
