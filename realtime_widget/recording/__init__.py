"""Record a realtime session to a file and play it back anywhere (issue 7).

- :class:`Recorder` (``widget.record(path)``) writes every event of a client's session, both ways
  and audio included, as JSON Lines (format in :mod:`realtime_widget.recording._format`).
- :func:`read_recording` reads it back as a :class:`Recording`.
- :func:`replay_conversation` rebuilds the ``RealtimeConversation`` (at the original pace, faster
  or at once); :class:`ReplayClient` plays it through a client-like object anything bound to a
  client can use; :func:`replay_widget` (``RealtimeWidget.replay(path)``) shows it in a widget with
  no server and no key.
"""

from __future__ import annotations

from realtime_widget.recording._format import (
    FORMAT,
    VERSION,
    Entry,
    Recording,
    RecordingError,
    read_recording,
)
from realtime_widget.recording._mirror import ClientMirror
from realtime_widget.recording._recorder import Recorder
from realtime_widget.recording._replay import (
    ReplayAPI,
    ReplayClient,
    replay_conversation,
    replay_conversation_async,
)
from realtime_widget.recording._widget import REPLAY_NOTICE, record_widget, replay_widget

__all__ = [
    "FORMAT",
    "REPLAY_NOTICE",
    "VERSION",
    "ClientMirror",
    "Entry",
    "Recorder",
    "Recording",
    "RecordingError",
    "ReplayAPI",
    "ReplayClient",
    "read_recording",
    "record_widget",
    "replay_conversation",
    "replay_conversation_async",
    "replay_widget",
]
