"""Per-turn records of the widget (issue 15, point 6): `TurnLog`, `w.turns` and `plot_timeline`.

A turn starts when the user speaks (server ``input_audio_buffer.speech_started``), commits
push-to-talk audio or sends a message, and ends with the last response it caused. Its latency is
from the end of the user's speech (``speech_stopped``, the commit or the message; kernel clock)
to the first audio of the answer heard in the browser (the view's ``heard`` message, received on
the kernel's clock: both ends are measured by the same clock). Levels are the RMS of the user's
and the assistant's audio in a few bins, for the view's level strips. Records are bounded.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "LIVE_TURNS",
    "MAX_TURNS",
    "SHOWN_TURNS",
    "STRIP_BINS",
    "TurnLog",
    "levels",
    "plot_timeline",
]

logger = logging.getLogger("realtime_widget.widget")

MAX_TURNS = 500
"""Turns kept (the oldest are dropped): an hour's lively conversation fits."""

STRIP_BINS = 24
"""Bars in a turn's level strip."""

SHOWN_TURNS = 100
"""Turns the browser draws statistics on (a view's snapshot and the saved notebook carry them)."""

LIVE_TURNS = 8
"""Turns each live `turn_stats` update carries: the ones that can still change. The browser
merges them into what it has, so an update's size does not grow with the session (the whole list
on every event made the widget's bytes per minute grow 1.7x over 30 minutes, bench_widget)."""


def levels(samples: Any, bins: int = STRIP_BINS) -> list[float]:
    """RMS levels (0..1) of int16 ``samples`` in ``bins`` equal slices; [] for no audio."""
    pcm = np.asarray(samples, dtype=np.float32).ravel() / 32768.0
    if pcm.size == 0:
        return []
    bins = min(bins, pcm.size)
    parts = np.array_split(pcm, bins)
    return [round(float(np.sqrt(np.mean(p * p))), 4) for p in parts]


class _Turn:
    """One turn, mutable while it lasts."""

    def __init__(self, index: int, started: float) -> None:
        self.index = index
        self.started = started
        self.speech_started: float | None = None
        self.speech_ended: float | None = None
        self.audio_start_ms: float | None = None  # on the input audio's own clock
        self.user_item_id: str | None = None
        self.user_speech_s: float | None = None
        self.assistant_item_ids: list[str] = []
        self.first_heard: float | None = None
        self.ended: float | None = None
        self.interrupted_at: float | None = None
        self.tool_calls: list[tuple[float, str]] = []
        self.user_levels: list[float] = []
        self.assistant_levels: list[float] = []

    @property
    def latency_ms(self) -> float | None:
        if self.first_heard is None or self.speech_ended is None:
            return None
        return round(max(0.0, self.first_heard - self.speech_ended) * 1000.0, 1)

    def record(self) -> dict[str, Any]:
        return {
            "turn": self.index,
            "user_item_id": self.user_item_id,
            "assistant_item_ids": list(self.assistant_item_ids),
            "started": self.started,
            "ended": self.ended,
            "user_speech_s": self.user_speech_s,
            "latency_ms": self.latency_ms,
            "interrupted": self.interrupted_at is not None,
            "tool_calls": [name for _, name in self.tool_calls],
        }

    def view(self) -> dict[str, Any]:
        """What the browser draws on the turn (the `turn_stats` trait's entries)."""
        return {
            "turn": self.index,
            "user_item_id": self.user_item_id,
            "assistant_item_ids": list(self.assistant_item_ids),
            "latency_ms": self.latency_ms,
            "interrupted": self.interrupted_at is not None,
            "user_levels": self.user_levels,
            "assistant_levels": self.assistant_levels,
        }


class TurnLog:
    """Follows the client's events and the browser's ``heard`` reports, turn by turn.

    Args:
        client: the bound `RealtimeClient` (listened to; `close` stops).
        publish: sets the `turn_stats` trait (called on the runtime loop).
        clock: wall-clock seconds (tests may pass their own).
    """

    def __init__(
        self,
        client: Any,
        publish: Callable[[dict[str, Any]], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._publish = publish
        self._clock = clock
        self._turns: deque[_Turn] = deque(maxlen=MAX_TURNS)
        self._count = 0
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "realtime.event": self._on_realtime_event,
            "conversation.interrupted": self._on_interrupted,
            "conversation.item.completed": self._on_item_completed,
        }
        for name, handler in self._handlers.items():
            client.on(name, handler)
        # Wire event -> handler (names kept); server and client events alike.
        self._wire: dict[str, Callable[[dict[str, Any]], None]] = {
            "input_audio_buffer.speech_started": self._on_speech_started,
            "input_audio_buffer.speech_stopped": self._on_speech_stopped,
            "input_audio_buffer.committed": self._on_committed,
            "conversation.item.create": self._on_item_create,
            "response.output_item.added": self._on_output_item_added,
            "response.done": self._on_response_done,
        }

    def close(self) -> None:
        """Stop listening to the client."""
        for name, handler in self._handlers.items():
            self.client.off(name, handler)

    def records(self) -> list[dict[str, Any]]:
        """`RealtimeWidget.turns`: one dict per turn, oldest first."""
        return [t.record() for t in self._turns]

    def clear(self) -> None:
        """The conversation was cleared: no turns (an empty update: the browser forgets them)."""
        self._turns.clear()
        self._send()

    def snapshot(self) -> dict[str, Any]:
        """The `turn_stats` trait for a view that opens or a notebook saved: the last
        `SHOWN_TURNS` turns (live updates carry only the last `LIVE_TURNS`)."""
        return {"turn_stats": [t.view() for t in list(self._turns)[-SHOWN_TURNS:]]}

    def refresh(self) -> None:
        """Publish `snapshot` (a view attached: it draws every shown turn at once)."""
        self._publish(self.snapshot())

    async def snapshot_async(self) -> dict[str, Any]:
        """`snapshot`, for `Runtime.run` from another thread."""
        return self.snapshot()

    # ------------------------------------------------------------------ events
    def _send(self) -> None:
        self._publish({"turn_stats": [t.view() for t in list(self._turns)[-LIVE_TURNS:]]})

    def _current(self) -> _Turn | None:
        return self._turns[-1] if self._turns else None

    def _new_turn(self) -> _Turn:
        self._count += 1
        turn = _Turn(self._count, self._clock())
        self._turns.append(turn)
        return turn

    def _open_turn(self) -> _Turn:
        """The turn a new user input belongs to: the current one until an answer began."""
        turn = self._current()
        if turn is None or turn.assistant_item_ids or turn.tool_calls:
            turn = self._new_turn()
        return turn

    def _on_realtime_event(self, event: dict[str, Any]) -> None:
        wire = event.get("event")
        handler = self._wire.get(wire.get("type", "")) if isinstance(wire, dict) else None
        if handler is None:
            return
        try:
            handler(wire)
        except (AttributeError, KeyError, TypeError, ValueError):
            # A malformed event (wrong shapes): the client reports it; the records skip it.
            logger.debug("turns: malformed %s ignored", wire.get("type"), exc_info=True)

    def _on_speech_started(self, wire: dict[str, Any]) -> None:
        turn = self._open_turn()
        turn.speech_started = self._clock()
        turn.audio_start_ms = wire.get("audio_start_ms")
        turn.user_item_id = wire.get("item_id") or turn.user_item_id
        self._send()

    def _on_speech_stopped(self, wire: dict[str, Any]) -> None:
        turn = self._current()
        if turn is None:
            return
        turn.speech_ended = self._clock()
        start, end = turn.audio_start_ms, wire.get("audio_end_ms")
        if isinstance(end, (int, float)) and isinstance(start, (int, float)):
            turn.user_speech_s = round(max(0.0, (end - start) / 1000.0), 3)
        elif turn.speech_started is not None:
            turn.user_speech_s = round(turn.speech_ended - turn.speech_started, 3)

    def _on_committed(self, wire: dict[str, Any]) -> None:
        turn = self._open_turn()  # hands-free: the turn whose speech just stopped
        if turn.speech_ended is None:  # push-to-talk: the commit ends the speech
            turn.speech_ended = self._clock()
        turn.user_item_id = wire.get("item_id") or turn.user_item_id

    def _on_item_create(self, wire: dict[str, Any]) -> None:
        item = wire.get("item") or {}
        if item.get("type") != "message" or item.get("role") != "user":
            return
        turn = self._open_turn()
        turn.speech_ended = turn.speech_ended or self._clock()
        turn.user_item_id = turn.user_item_id or item.get("id")

    def _on_output_item_added(self, wire: dict[str, Any]) -> None:
        item = wire.get("item") or {}
        turn = self._current() or self._new_turn()
        if item.get("type") == "function_call":
            turn.tool_calls.append((self._clock(), str(item.get("name") or "?")))
        elif item.get("type") == "message" and item.get("id"):
            turn.assistant_item_ids.append(item["id"])
        self._send()

    def _on_response_done(self, wire: dict[str, Any]) -> None:
        turn = self._current()
        if turn is None:
            return
        turn.ended = self._clock()
        if (wire.get("response") or {}).get("status") == "cancelled" and not turn.interrupted_at:
            turn.interrupted_at = turn.ended
        self._send()

    def _on_interrupted(self, event: dict[str, Any]) -> None:
        # The user cut the answer in: the interruption belongs to the answered turn.
        for turn in reversed(self._turns):
            if turn.assistant_item_ids:
                turn.interrupted_at = turn.interrupted_at or self._clock()
                break
        self._send()

    def _on_item_completed(self, event: dict[str, Any]) -> None:
        item = event.get("item") or {}
        audio = (item.get("formatted") or {}).get("audio")
        if audio is None or not len(audio) or item.get("type") != "message":
            return
        for turn in reversed(self._turns):
            if item.get("id") == turn.user_item_id:
                turn.user_levels = levels(audio)
            elif item.get("id") in turn.assistant_item_ids:
                turn.assistant_levels = levels(audio)
            else:
                continue
            self._send()
            return

    def heard(self, item_id: str) -> None:
        """The browser played the first audio of ``item_id`` (its ``heard`` message)."""
        for turn in reversed(self._turns):
            if item_id in turn.assistant_item_ids:
                if turn.first_heard is None:
                    turn.first_heard = self._clock()
                    self._send()
                return

    def spans(self) -> list[_Turn]:
        """The turns (for `plot_timeline`)."""
        return list(self._turns)


def plot_timeline(turns: list[Any], title: str = "Session timeline") -> Any:
    """A matplotlib figure: who spoke when, interruptions and tool calls.

    Raises:
        ImportError: matplotlib is not installed (the message says how to install it).
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plot_timeline needs matplotlib, which is not installed: run "
            "`pip install matplotlib` in this environment, then call it again"
        ) from exc
    fig, ax = plt.subplots(figsize=(10, 2.6))
    t0 = turns[0].started if turns else 0.0
    for turn in turns:
        if turn.speech_started is not None and turn.speech_ended is not None:
            ax.broken_barh(
                [(turn.speech_started - t0, max(turn.speech_ended - turn.speech_started, 0.05))],
                (1.6, 0.8),
                color="tab:blue",
            )
        elif turn.speech_ended is not None:
            ax.plot([turn.speech_ended - t0], [2.0], "o", color="tab:blue")
        start = turn.first_heard
        if start is not None:
            end = turn.interrupted_at or turn.ended or start
            ax.broken_barh([(start - t0, max(end - start, 0.05))], (0.6, 0.8), color="tab:orange")
            if turn.latency_ms is not None:
                ax.annotate(f"{turn.latency_ms:.0f} ms", (start - t0, 1.45), fontsize=7)
        if turn.interrupted_at is not None:
            ax.axvline(turn.interrupted_at - t0, color="tab:red", linestyle="--", linewidth=1)
        for at, name in turn.tool_calls:
            ax.plot([at - t0], [0.3], marker="^", color="tab:green")
            ax.annotate(name, (at - t0, 0.05), fontsize=7, color="tab:green")
    ax.set_yticks([0.3, 1.0, 2.0], ["tools", "assistant", "user"])
    ax.set_ylim(-0.1, 2.6)
    ax.set_xlabel("seconds since the first turn")
    ax.set_title(title)
    ax.plot([], [], color="tab:red", linestyle="--", label="interrupted")
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    return fig
