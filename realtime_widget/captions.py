"""Live captions: transcription and translation events -> a bounded list of segments (issue 14).

Pure (no socket, clock or thread: times come from the events), so the same reducer serves
``RealtimeTranscriber``, ``RealtimeTranslator``, the widget's transcribe and translate modes and
a recording read back from disk.

Rules:

- **Transcription sessions** (``session.type: "transcription"``): one segment per speech turn,
  keyed by the turn's item id. ``input_audio_buffer.speech_started`` opens it (``start`` from
  ``audio_start_ms``), ``.speech_stopped`` sets ``end`` (``audio_end_ms``),
  ``conversation.item.input_audio_transcription.delta`` appends to ``partial`` (deltas are
  append-only fragments: no spaces are inserted between them), ``.completed`` sets ``text`` and
  ``final`` (its ``transcript`` wins over the deltas), ``.failed`` ends it with ``error``. A
  transcript for an item without ``speech_started`` (a manual commit) opens its segment then.
- **Translation sessions** (``/v1/realtime/translations``): the protocol has no turn events, only
  ``session.input_transcript.delta`` (source words) and ``session.output_transcript.delta``
  (translated words), each with ``elapsed_ms``. A phrase is the source words then their
  translation, so a source delta after the current segment's translation has begun opens the next
  segment and makes the previous one final; ``session.closed`` (or :meth:`Captions.finish`) makes
  the last one final. Times are the deltas' ``elapsed_ms``.
- Bounded: at most ``max_segments`` segments (the oldest are dropped, counted in ``dropped``),
  each at most ``MAX_SEGMENT_CHARS`` characters per text (the rest is cut, with a note).
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["MAX_SEGMENT_CHARS", "CaptionSegment", "Captions"]

MAX_SEGMENT_CHARS = 20_000
"""Characters kept per text of one segment (a stuck turn cannot grow without bound)."""
_CUT_NOTE = " [...]"


@dataclasses.dataclass
class CaptionSegment:
    """One speaker turn (transcription) or phrase (translation).

    Attributes:
        id: the turn's item id (transcription) or ``"phrase_<n>"`` (translation).
        turn: 1, 2, ... in the order the turns began (counts on after old segments are dropped).
        start: seconds into the session's audio where the speech began (``None``: unknown yet).
        end: seconds where it ended (``None`` while the speaker goes on).
        partial: the words streamed so far.
        text: the final words (``""`` until ``final``).
        final: whether the words are complete.
        translation: the translated words (translation sessions; ``""`` otherwise).
        error: why the transcription failed (``""`` when it did not).
    """

    id: str
    turn: int
    start: float | None = None
    end: float | None = None
    partial: str = ""
    text: str = ""
    final: bool = False
    translation: str = ""
    error: str = ""

    @property
    def words(self) -> str:
        """The best text so far: the final text, else the partial one."""
        return self.text if self.final else self.partial

    def to_record(self) -> dict[str, Any]:
        """A flat dict (``pandas.DataFrame(captions.to_records())`` takes a list of them)."""
        record = dataclasses.asdict(self)
        record["text"] = self.words
        return record


_Handler = Callable[["Captions", dict], "CaptionSegment | None"]


class Captions:
    """The caption segments of one session, updated event by event.

    Args:
        max_segments: segments kept (the oldest are dropped past it).

    Example:
        >>> captions = Captions()
        >>> _ = captions.process_event({"type": "input_audio_buffer.speech_started",
        ...                             "item_id": "item_1", "audio_start_ms": 500})
        >>> _ = captions.process_event({"type": "conversation.item.input_audio_transcription.delta",
        ...                             "item_id": "item_1", "delta": "Hello"})
        >>> captions.segments[0].partial
        'Hello'
    """

    def __init__(self, max_segments: int = 2000) -> None:
        if max_segments < 1:
            raise ValueError(f"max_segments must be at least 1, got {max_segments!r}")
        self.max_segments = max_segments
        self._segments: deque[CaptionSegment] = deque()
        self._by_id: dict[str, CaptionSegment] = {}
        self._turns = 0
        self.dropped = 0
        """Segments dropped because more than ``max_segments`` were made."""
        self.time_offset = 0.0
        """Seconds added to the times of the events: a session reopened after a drop counts its
        audio from 0 again, and its owner sets this to the audio sent before it."""
        self._finished: list[CaptionSegment] = []

    # ------------------------------------------------------------------ reading
    @property
    def segments(self) -> list[CaptionSegment]:
        """Copies of the segments, oldest first."""
        return [dataclasses.replace(s) for s in self._segments]

    def __len__(self) -> int:
        return len(self._segments)

    def __repr__(self) -> str:
        return f"<Captions segments={len(self._segments)} dropped={self.dropped}>"

    def get(self, segment_id: str) -> CaptionSegment | None:
        """A copy of the segment with this id, or ``None``."""
        segment = self._by_id.get(segment_id)
        return dataclasses.replace(segment) if segment is not None else None

    @property
    def text(self) -> str:
        """The words of every segment, one line each (partial ones included)."""
        return "\n".join(s.words for s in self._segments if s.words)

    @property
    def translation(self) -> str:
        """The translated words of every segment, one line each."""
        return "\n".join(s.translation for s in self._segments if s.translation)

    # ------------------------------------------------------------------ updating
    def process_event(self, event: dict) -> CaptionSegment | None:
        """Apply one server event (GA names); returns a copy of the segment it changed.

        Events that do not concern captions return ``None``; malformed ones too (never raises
        for what a server sends).
        """
        handler = _HANDLERS.get(event.get("type", ""))
        if handler is None:
            return None
        try:
            segment = handler(self, event)
        except (TypeError, ValueError, AttributeError):  # their fault: a malformed event
            return None
        return dataclasses.replace(segment) if segment is not None else None

    def pop_finished(self) -> list[CaptionSegment]:
        """Copies of the segments that became final since the last call (each once)."""
        finished, self._finished = self._finished, []
        return [dataclasses.replace(s) for s in finished]

    @classmethod
    def from_recording(cls, path: Any, max_segments: int = 2000) -> Captions:
        """The captions of a session recorded with ``Recorder`` (``widget.record(path)``).

        Raises:
            RecordingError: not a recording (the message says how to make one).
        """
        # File I/O stays out of this layer; the format module alone (its package imports the client)
        # and only when asked.
        from realtime_widget.recording._format import read_recording

        captions = cls(max_segments)
        captions.process_events(read_recording(path).server_events())
        captions.finish()
        return captions

    def process_events(self, events: Iterable[dict]) -> None:
        """Apply many events (a recording's server events, in order)."""
        for event in events:
            self.process_event(event)

    def finish(self) -> CaptionSegment | None:
        """Make the last segment final (the session ended); returns it, or ``None``."""
        if not self._segments or self._segments[-1].final:
            return None
        last = self._segments[-1]
        self._finalize(last)
        return dataclasses.replace(last)

    def clear(self) -> None:
        """Forget every segment (turn numbers start again at 1)."""
        self._segments.clear()
        self._by_id.clear()
        self._turns = 0
        self.dropped = 0
        self._finished.clear()

    def _finalize(self, segment: CaptionSegment) -> None:
        if not segment.final:
            segment.text = segment.partial.strip()
            segment.final = True
            self._finished.append(segment)

    def _seconds(self, ms: Any) -> float | None:
        if isinstance(ms, bool) or not isinstance(ms, int | float):
            return None
        return self.time_offset + max(0.0, ms / 1000.0)

    def _segment(self, segment_id: str) -> CaptionSegment:
        segment = self._by_id.get(segment_id)
        if segment is None:
            self._turns += 1
            segment = CaptionSegment(id=segment_id, turn=self._turns)
            self._segments.append(segment)
            self._by_id[segment_id] = segment
            while len(self._segments) > self.max_segments:
                old = self._segments.popleft()
                self._by_id.pop(old.id, None)
                self.dropped += 1
        return segment

    # ------------------------------------------------------------------ transcription
    def _on_speech_started(self, event: dict) -> CaptionSegment | None:
        item_id = event.get("item_id")
        if not isinstance(item_id, str):
            return None
        segment = self._segment(item_id)
        segment.start = self._seconds(event.get("audio_start_ms"))
        return segment

    def _on_speech_stopped(self, event: dict) -> CaptionSegment | None:
        item_id = event.get("item_id")
        if not isinstance(item_id, str):
            return None
        segment = self._segment(item_id)
        segment.end = self._seconds(event.get("audio_end_ms"))
        return segment

    def _on_transcription_delta(self, event: dict) -> CaptionSegment | None:
        item_id, delta = event.get("item_id"), event.get("delta")
        if not isinstance(item_id, str) or not isinstance(delta, str):
            return None
        segment = self._segment(item_id)
        if not segment.final:
            segment.partial = _append(segment.partial, delta)
        return segment

    def _on_transcription_completed(self, event: dict) -> CaptionSegment | None:
        item_id, transcript = event.get("item_id"), event.get("transcript")
        if not isinstance(item_id, str) or not isinstance(transcript, str):
            return None
        segment = self._segment(item_id)
        if not segment.final:
            self._finished.append(segment)
        segment.partial = segment.text = _cut(transcript.strip())
        segment.final = True
        return segment

    def _on_transcription_failed(self, event: dict) -> CaptionSegment | None:
        item_id = event.get("item_id")
        if not isinstance(item_id, str):
            return None
        segment = self._segment(item_id)
        error = event.get("error") or {}
        segment.error = str(error.get("message") or error.get("code") or "transcription failed")
        self._finalize(segment)
        return segment

    # ------------------------------------------------------------------ translation
    def _phrase(self, event: dict, *, source: bool) -> CaptionSegment:
        last = self._segments[-1] if self._segments else None
        if (
            last is None
            or last.final
            or not last.id.startswith("phrase_")
            or (source and last.translation)
        ):
            if last is not None:
                self._finalize(last)
            segment = self._segment(f"phrase_{self._turns + 1}")
            segment.start = self._seconds(event.get("elapsed_ms"))
            return segment
        return last

    def _on_input_transcript_delta(self, event: dict) -> CaptionSegment | None:
        delta = event.get("delta")
        if not isinstance(delta, str):
            return None
        segment = self._phrase(event, source=True)
        segment.partial = _append(segment.partial, delta)
        segment.end = _later(segment.end, self._seconds(event.get("elapsed_ms")))
        return segment

    def _on_output_transcript_delta(self, event: dict) -> CaptionSegment | None:
        delta = event.get("delta")
        if not isinstance(delta, str):
            return None
        segment = self._phrase(event, source=False)
        segment.translation = _append(segment.translation, delta)
        segment.end = _later(segment.end, self._seconds(event.get("elapsed_ms")))
        return segment

    def _on_session_closed(self, event: dict) -> CaptionSegment | None:
        if not self._segments or self._segments[-1].final:
            return None
        last = self._segments[-1]
        self._finalize(last)
        return last

    # ------------------------------------------------------------------ export
    def to_records(self) -> list[dict[str, Any]]:
        """One dict per segment (``id``, ``turn``, ``start``, ``end``, ``text``, ``partial``,
        ``final``, ``translation``, ``error``): ``pandas.DataFrame(captions.to_records())``."""
        return [s.to_record() for s in self._segments]

    def to_markdown(self, title: str = "Captions") -> str:
        """The captions as Markdown: one paragraph per turn, with its time and translation."""
        lines = [f"# {title}", ""]
        for s in self._segments:
            stamp = f"[{_clock(s.start)}]" if s.start is not None else ""
            head = f"**Turn {s.turn}** {stamp}".rstrip()
            words = s.words or "…"
            if not s.final:
                words += " *(in progress)*"
            lines.append(f"{head}: {_md(words)}")
            if s.translation:
                lines.append(f"> {_md(s.translation)}")
            if s.error:
                lines.append(f"> ⚠ {_md(s.error)}")
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    def to_srt(self, *, translation: bool = False, min_duration: float = 1.0) -> str:
        """The captions as SubRip (``.srt``) subtitles.

        Args:
            translation: subtitle with the translated words instead of the source words.
            min_duration: seconds a cue lasts when its end is unknown.

        Returns:
            The SRT text; segments with no words (or no start time) are left out.
        """
        cues = []
        for s in self._segments:
            words = s.translation if translation else s.words
            if not words or s.start is None:
                continue
            end = s.end if s.end is not None and s.end > s.start else s.start + min_duration
            cues.append(f"{len(cues) + 1}\n{_srt_time(s.start)} --> {_srt_time(end)}\n{words}\n")
        return "\n".join(cues)


_HANDLERS: dict[str, _Handler] = {
    "input_audio_buffer.speech_started": Captions._on_speech_started,
    "input_audio_buffer.speech_stopped": Captions._on_speech_stopped,
    "conversation.item.input_audio_transcription.delta": Captions._on_transcription_delta,
    "conversation.item.input_audio_transcription.completed": Captions._on_transcription_completed,
    "conversation.item.input_audio_transcription.failed": Captions._on_transcription_failed,
    "session.input_transcript.delta": Captions._on_input_transcript_delta,
    "session.output_transcript.delta": Captions._on_output_transcript_delta,
    "session.closed": Captions._on_session_closed,
}
"""server event type -> handler; every other event is ignored (dispatch table, STYLE 4)."""


def _append(text: str, delta: str) -> str:
    if len(text) >= MAX_SEGMENT_CHARS:
        return text
    joined = text + delta
    return joined if len(joined) <= MAX_SEGMENT_CHARS else _cut(joined)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_SEGMENT_CHARS else text[:MAX_SEGMENT_CHARS] + _CUT_NOTE


def _later(current: float | None, value: float | None) -> float | None:
    if value is None:
        return current
    return value if current is None else max(current, value)


def _clock(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:d}:{minutes:02d}:{rest:02d}" if hours else f"{minutes:02d}:{rest:02d}"


def _srt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    hours, ms = divmod(ms, 3_600_000)
    minutes, ms = divmod(ms, 60_000)
    secs, ms = divmod(ms, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d},{ms:03d}"


def _md(text: str) -> str:
    # One paragraph per turn: newlines inside the words would break the layout.
    return " ".join(text.split())
