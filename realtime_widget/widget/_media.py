"""`RealtimeWidget`'s audio and recording conveniences: play, save_audio, record, replay.

They only read the bound client and the item views, so they live in this mixin rather than in the
widget's class body (widget.py keeps the state, the connection and the browser plumbing). Every
name here is public API of `RealtimeWidget`, documented as such.
"""

from __future__ import annotations

import pathlib
from typing import Any

from realtime_widget.audio import SAMPLE_RATE, wav_bytes, write_wav
from realtime_widget.widget._audio import audio_or_raise

__all__ = ["WidgetMediaMixin"]


class WidgetMediaMixin:
    """Audio export and session recording for `RealtimeWidget` (needs ``_client`` and ``items``)."""

    _client: Any
    items: Any

    def play(self, item_id: str | None = None) -> Any:
        """An ``IPython.display.Audio`` of one item (default: the last assistant item with audio).

        Raises:
            ValueError: the item has no audio.
        """
        from IPython.display import Audio

        if item_id is None:
            spoken = [v for v in self.items if v["role"] == "assistant" and v["audio_samples"]]
            item_id = spoken[-1]["id"] if spoken else ""
        return Audio(data=wav_bytes(audio_or_raise(self._client, self.items, item_id), SAMPLE_RATE))

    def save_audio(self, path: str | pathlib.Path, item_id: str | None = None) -> pathlib.Path:
        """Write one item's audio, or the whole conversation's (in order), as a 24 kHz WAV file.

        Raises:
            ValueError: there is no audio to save.
        """
        write_wav(str(path), audio_or_raise(self._client, self.items, item_id), SAMPLE_RATE)
        return pathlib.Path(path)

    # ------------------------------------------------------------------ record and replay
    def record(self, path: str | pathlib.Path, **options: Any) -> Any:
        """Record this session (events both ways, audio included) to ``path`` as JSON Lines.

        The API key is never written. Returns the `Recorder`: ``.close()`` it to stop, or use it
        as a context manager.
        """
        from realtime_widget.recording import record_widget

        return record_widget(self, path, **options)

    @classmethod
    def replay(cls, path: str | pathlib.Path, speed: float | None = 1.0, **options: Any) -> Any:
        """A widget that plays a recording back: transcript, audio and tool calls, at the
        original pace (``speed=2.0`` twice as fast, ``None`` at once), with no server and no key.
        """
        from realtime_widget.recording import replay_widget

        return replay_widget(path, speed, widget_class=cls, **options)
