"""Input audio for the conversation reducer: ``InputAudioRing`` and the input event handlers.

``InputAudioRing`` holds the last few minutes of the session's input audio, by session sample.

The seed client keeps every input sample of the session in one array (and re-copies it on every
append) so that ``input_audio_buffer.speech_started/stopped`` times can index into it. This ring
keeps a bounded window addressed the same way. ``InputEvents``, a collaborator of
``RealtimeConversation``, owns what waits for a user item (speech slices, transcripts that arrive
before their item, push-to-talk audio) and handles ``input_audio_buffer.speech_*`` and input
transcription events. Pure: numpy only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from realtime_widget.conversation._deltas import content_part, grow_text

__all__ = ["InputAudioRing", "InputEvents"]

Result = dict[str, Any]

MAX_PENDING = 256
"""Queued speech slices / transcripts kept for items not announced yet; the oldest is dropped."""


def put_bounded(table: dict[str, Any], key: str, value: Any) -> None:
    """``table[key] = value``, dropping the oldest entry beyond ``MAX_PENDING``."""
    table[key] = value
    if len(table) > MAX_PENDING:
        del table[next(iter(table))]


class InputAudioRing:
    """The last ``capacity`` samples of the session's input audio, addressed by session sample.

    Sample ``n`` is the ``n``-th sample appended since the session started (or since ``clear``),
    which is how ``input_audio_buffer.speech_started.audio_start_ms`` counts (DESIGN §6). Memory is
    bounded by ``capacity`` (grown on demand, never beyond); older samples are forgotten, so a
    slice that starts before ``start`` comes back shortened at the front.

    Args:
        capacity: samples kept, e.g. ``300 * 24000`` for five minutes at 24 kHz.
    """

    def __init__(self, capacity: int) -> None:
        if capacity <= 0:
            raise ValueError(f"capacity must be a positive number of samples, got {capacity}")
        self.capacity = int(capacity)
        self._buf = np.zeros(0, dtype=np.int16)
        self._end = 0  # samples ever appended

    @property
    def end(self) -> int:
        """Session sample index one past the newest sample."""
        return self._end

    @property
    def start(self) -> int:
        """Session sample index of the oldest sample still held."""
        return max(0, self._end - self.capacity)

    def __len__(self) -> int:
        return self._end - self.start

    def clear(self) -> None:
        """Forget everything and restart session time at 0."""
        self._buf = np.zeros(0, dtype=np.int16)
        self._end = 0

    def append(self, samples: Any) -> None:
        """Append int16 samples (bytes are read as PCM16 little-endian)."""
        if isinstance(samples, (bytes, bytearray, memoryview)):
            samples = np.frombuffer(samples, dtype="<i2")
        chunk = np.asarray(samples, dtype=np.int16).reshape(-1)
        n = len(chunk)
        if n == 0:
            return
        cap = self.capacity
        new_end = self._end + n
        if new_end <= cap:
            # Still filling: session sample s sits at index s (which is also s % cap).
            if new_end > len(self._buf):
                self._grow(min(cap, max(new_end, 2 * len(self._buf))))
            self._buf[self._end : new_end] = chunk
        else:
            if len(self._buf) < cap:
                self._grow(cap)
            kept = chunk[n - cap :] if n > cap else chunk
            first = (new_end - len(kept)) % cap
            head = min(len(kept), cap - first)
            self._buf[first : first + head] = kept[:head]
            self._buf[: len(kept) - head] = kept[head:]
        self._end = new_end

    def _grow(self, size: int) -> None:
        grown = np.zeros(size, dtype=np.int16)
        held = min(self._end, len(self._buf))
        grown[:held] = self._buf[:held]
        self._buf = grown

    def slice(self, start: int, stop: int) -> np.ndarray:
        """Copy of session samples ``[start, stop)``, clipped to what is still held."""
        start = max(int(start), self.start)
        stop = min(int(stop), self._end)
        if stop <= start:
            return np.zeros(0, dtype=np.int16)
        if self._end <= len(self._buf):
            return self._buf[start:stop].copy()
        cap = self.capacity
        a, b = start % cap, stop % cap
        if a < b:
            return self._buf[a:b].copy()
        return np.concatenate([self._buf[a:], self._buf[:b]])


class InputEvents:
    """What waits for a user item, and the input audio and transcription handlers (rules 5, 6).

    Args:
        items: the conversation's items by id (read: a transcript for a known item is applied
            at once, one for an unknown item waits here).
        input_audio: the ring of session input audio that VAD turns are cut from.
        frequency: its sample rate, to turn ``*_ms`` into sample indices.
    """

    def __init__(
        self, items: dict[str, dict[str, Any]], input_audio: InputAudioRing, frequency: int
    ) -> None:
        self._items = items
        self._input_audio = input_audio
        self._frequency = frequency
        self._queued_speech: dict[str, dict[str, Any]] = {}
        self._queued_transcripts: dict[str, str] = {}
        self._queued_input_audio: np.ndarray | None = None

    def clear(self) -> None:
        """Forget everything waiting for an item (the ring is the conversation's to clear)."""
        self._queued_speech.clear()
        self._queued_transcripts.clear()
        self._queued_input_audio = None

    def queue_audio(self, samples: np.ndarray) -> None:
        """Push-to-talk audio for the next user message (wins over a VAD slice, as the seed)."""
        self._queued_input_audio = samples

    def claim(self, item_id: str, user_message: bool) -> tuple[np.ndarray | None, str | None]:
        """What waited for an item just announced: ``(audio, transcript)``, each ``None`` if none.

        The speech slice and transcript queued under its id are taken for any item; the queued
        push-to-talk audio only by a user message, and it replaces the slice.
        """
        speech = self._queued_speech.pop(item_id, None)
        audio = speech.get("audio") if speech is not None else None
        if user_message and self._queued_input_audio is not None:
            audio, self._queued_input_audio = self._queued_input_audio, None
        return audio, self._queued_transcripts.pop(item_id, None)

    def on_input_audio_buffer_speech_started(self, event: dict[str, Any], _input: Any) -> Result:
        item_id = event.get("item_id")
        put_bounded(self._queued_speech, item_id, {"audio_start_ms": event["audio_start_ms"]})
        item = self._items.get(item_id)  # type: ignore[arg-type]
        return {"item": item} if item is not None else {}

    def on_input_audio_buffer_speech_stopped(self, event: dict[str, Any], input_audio: Any):
        item_id, end_ms = event.get("item_id"), event["audio_end_ms"]
        speech = self._queued_speech.get(item_id)  # type: ignore[arg-type]
        if speech is None:
            speech = {"audio_start_ms": end_ms}
            put_bounded(self._queued_speech, item_id, speech)
        speech["audio_end_ms"] = end_ms
        start = int(speech["audio_start_ms"] * self._frequency // 1000)
        stop = int(end_ms * self._frequency // 1000)
        if input_audio is not None:
            if isinstance(input_audio, InputAudioRing):
                speech["audio"] = input_audio.slice(start, stop)
            else:
                speech["audio"] = np.array(input_audio[start:stop], dtype=np.int16)
        elif len(self._input_audio):
            speech["audio"] = self._input_audio.slice(start, stop)
        item = self._items.get(item_id)  # type: ignore[arg-type]
        return {"item": item} if item is not None else {}

    def on_conversation_item_input_audio_transcription_delta(self, event, _input=None) -> Result:
        delta = event.get("delta") or ""
        item = self._items.get(event.get("item_id"))
        if item is None:
            key = event.get("item_id")
            put_bounded(
                self._queued_transcripts, key, self._queued_transcripts.get(key, "") + delta
            )
            return {}
        grow_text(item, event.get("content_index"), "transcript", delta)
        return {"item": item, "delta": {"transcript": delta}}

    def on_conversation_item_input_audio_transcription_completed(self, event, _input=None):
        transcript = event.get("transcript")
        if not isinstance(transcript, str):  # a broken server's value is no transcript
            transcript = None
        shown = transcript or " "  # the seed's marker for "transcribed, but empty"
        item = self._items.get(event.get("item_id"))
        if item is None:
            put_bounded(self._queued_transcripts, event.get("item_id"), shown)
            return {}
        part = content_part(item, event.get("content_index"))
        if part is not None:
            part["transcript"] = transcript
        item["formatted"]["transcript"] = shown
        return {"item": item, "delta": {"transcript": transcript}}

    def on_conversation_item_input_audio_transcription_failed(self, event, _input=None):
        # Partial deltas of a failed transcription are not a transcript: drop them, which also
        # leaves the item as the seed (which ignores deltas and failures) shows it.
        item = self._items.get(event.get("item_id"))
        if item is None:
            self._queued_transcripts.pop(event.get("item_id"), None)
            return {}
        part = content_part(item, event.get("content_index"))
        if part is not None:
            part["transcript"] = None
        item["formatted"]["transcript"] = ""
        return {"item": item}
