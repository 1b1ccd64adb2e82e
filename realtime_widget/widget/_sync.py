"""Kernel -> browser half of the widget: client events in, coalesced frames and traits out.

Everything here runs on the runtime loop (DESIGN §3): the client calls its listeners there, and
browser messages are handed there before they touch this state. What the browser needs leaves
through the `Outbox` at a bounded rate (docs/widget-protocol.md): per-item patches and audio in
`frame` custom messages, small state in traits. Audio is never put in a trait.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_widget.tools.invoke import bounded_traceback
from realtime_widget.widget._events import DEFAULT_INTERRUPT_GUARD_MS, ClientEvents
from realtime_widget.widget._items import EventLog, audio_content_index, item_view
from realtime_widget.widget._outbox import Outbox

__all__ = ["WidgetSync"]

logger = logging.getLogger("realtime_widget.widget")

# The saved-state traits: the browser applies each frame patch to its own copy of these (without
# sending it back), so the notebook it saves holds the current conversation. The kernel sends them
# only when a view opens, on disconnect and on close (`refresh_snapshot`): each send carries the
# whole conversation, and a periodic one would make a long session's traffic grow with its length.
_SNAPSHOT_TRAITS = frozenset({"items_snapshot", "event_log"})

_TOOL_STATES = {
    "running": "running",
    "awaiting_approval": "awaiting_approval",
    "ok": "done",
    "error": "error",
    "timeout": "error",
    "denied": "denied",
    "cancelled": "cancelled",
}


class WidgetSync:
    """The widget's kernel-side view state and its outbound traffic.

    Client events reach it through its `ClientEvents` collaborator (`events`), which owns the
    subscriptions and the pending interruption and calls the methods below.

    Args:
        client: the bound `RealtimeClient`.
        send: `send(content, buffers)`, the widget's custom-message sender.
        apply_traits: `apply_traits({name: value})`, sets synced traits in one update.
        loop: the runtime loop everything here runs on.
        outbox: the coalescer (tests may pass one with other intervals).
    """

    def __init__(
        self,
        client: Any,
        send: Callable[[dict[str, Any], list[bytes]], None],
        apply_traits: Callable[[dict[str, Any]], None],
        loop: asyncio.AbstractEventLoop,
        outbox: Outbox | None = None,
    ) -> None:
        self.client = client
        self.outbox = outbox or Outbox()
        self.log = EventLog()
        self.loop = loop
        self._send = send
        self._apply = apply_traits
        self._lock = threading.Lock()  # guards `views` against readers on other threads
        self.views: dict[str, dict[str, Any]] = {}
        self.audio_samples: dict[str, int] = {}
        self.truncated_ms: dict[str, int] = {}
        self.tool_records: dict[str, Any] = {}
        self.call_items: dict[str, str] = {}
        self.call_outputs: dict[str, str] = {}
        self.played: dict[str, int] = {}
        self.last_truncate: dict[str, Any] | None = None
        self.errors: deque[dict[str, Any]] = deque(maxlen=50)
        self.status = "disconnected"
        self._dirty: set[str] = set()
        self._snapshot_requested = False
        self._flush_handle: asyncio.TimerHandle | None = None
        self.on_interrupt_timeout: Callable[[], None] | None = None
        self.views_attached: set[str] = set()  # ids of browser views that said hello
        self.interrupt_guard_ms = DEFAULT_INTERRUPT_GUARD_MS
        self.playback_started: float | None = None  # first audio of the latest answer sent
        self._closed = False
        self.events = ClientEvents(self, client, loop)

    def close(self) -> None:
        """Stop listening to the client and sending."""
        self._closed = True
        self.events.close()
        if self._flush_handle is not None:
            self._flush_handle.cancel()

    # ------------------------------------------------------------------ reads from any thread
    def item_views(self) -> list[dict[str, Any]]:
        """Copies of the item views, in conversation order."""
        with self._lock:
            return [dict(v) for v in self.views.values()]

    # ------------------------------------------------------------------ state changes
    def mark(self, *traits: str) -> None:
        """Traits whose value changed (computed when the trait slot opens)."""
        self._dirty.update(traits)
        self.schedule()

    def add_error(self, source: str, code: str, message: str) -> None:
        """Record an error for the `errors` trait (message must be secret-free).

        The same error again (same source, code and message: pressing Connect twice against a
        wrong key) is not a second alert: its entry moves to the end with ``count`` raised and
        the new ``time``, so the browser shows one alert per distinct failure.
        """
        entry = {"time": time.time(), "source": source, "code": code or "", "message": message}
        for old in self.errors:
            if (old["source"], old["code"], old["message"]) == (source, entry["code"], message):
                self.errors.remove(old)
                entry["count"] = old.get("count", 1) + 1
                break
        self.errors.append(entry)
        self.mark("errors")

    def refresh_item(self, item: dict[str, Any]) -> None:
        """Recompute one item's view and queue it as a patch (cost: the size of that item)."""
        item_id = item.get("id")
        if not item_id:
            return
        kind = item.get("type")
        if kind == "function_call_output" and item.get("call_id"):
            # One card per call: the output is shown on its function_call item.
            self.call_outputs[item["call_id"]] = str(item.get("output") or "")
            call_item = self.call_items.get(item["call_id"])
            if call_item and call_item != item_id:
                self.refresh_by_id(call_item)
        if kind == "mcp_approval_response" and item.get("approval_request_id"):
            # The reducer marked the request with this answer: its card shows the decision.
            self.refresh_by_id(str(item["approval_request_id"]))
        call_id = item.get("call_id") if kind == "function_call" else None
        record = self.tool_records.get(call_id) if call_id else None
        if call_id:
            self.call_items[call_id] = item_id
        view = item_view(
            item,
            audio_samples=self.audio_samples.get(item_id, 0),
            truncated_ms=self.truncated_ms.get(item_id),
            tool_state=_TOOL_STATES.get(record.status) if record is not None else None,
            duration_ms=(record.duration * 1000 if record and record.duration else None),
        )
        if call_id:
            output = self.call_outputs.get(call_id)
            if output is None and record is not None and record.done:
                output = record.output
            # Shown in the browser and saved in the notebook: never with the key (DESIGN §5).
            redact = self.client.realtime.redact_text
            view["output"] = None if output is None else redact(output)
            failed = record is not None and record.traceback and record.status == "error"
            view["traceback"] = redact(bounded_traceback(record.traceback)) if failed else None
        self.put_view(view)

    def put_view(self, view: dict[str, Any]) -> None:
        """Show a view as an item: kept for `items_snapshot` and queued as a frame patch (a
        caption segment in the transcribe and translate modes is one, `_captions`)."""
        with self._lock:
            self.views[view["id"]] = view
        self._dirty.add("items_snapshot")
        self.outbox.patch_item(view)
        self.schedule()

    def interrupt_answered(self) -> None:
        """A view answered the clear frame with its final played counts."""
        self.events.interrupt_answered()

    def count_audio(self, item_id: str, samples: int) -> None:
        """An item's whole audio is known: its sample count is at least ``samples``."""
        self.audio_samples[item_id] = max(self.audio_samples.get(item_id, 0), samples)

    def end_audio(self, item_id: str, content_index: int) -> None:
        """The item's audio is complete: the player may drain it."""
        self.outbox.end_audio(item_id, content_index)

    def log_event(self, direction: str, wire: dict[str, Any], saved: bool = True) -> None:
        """Add an event to the event log (``saved``: also to the saved `event_log` trait); the
        caller schedules the flush once it has made its other changes."""
        self.outbox.log(self.log.add(direction, wire, time.time()))
        if saved:
            self._dirty.add("event_log")

    def note_truncate(self, item_id: str, content_index: int, audio_end_ms: int) -> None:
        """A truncate was sent: remember it (`last_truncate`) and show the item cut there."""
        self.last_truncate = {
            "item_id": item_id,
            "content_index": content_index,
            "audio_end_ms": audio_end_ms,
        }
        self.truncated_ms[item_id] = audio_end_ms
        self.refresh_by_id(item_id)

    def apply_tool_record(self, record: Any) -> None:
        """A tool call's record changed (on the loop): refresh its card."""
        self.tool_records[record.call_id] = record
        item_id = self.call_items.get(record.call_id)
        if item_id:
            self.refresh_by_id(item_id)

    def refresh_by_id(self, item_id: str) -> None:
        item = self.client.conversation.get_item(item_id)
        if item is not None:
            self.refresh_item(item)

    def remove_item(self, item_id: str) -> None:
        with self._lock:
            self.views.pop(item_id, None)
        self._dirty.add("items_snapshot")
        self.outbox.remove_item(item_id)
        self.schedule()

    def reset_conversation(self) -> None:
        """Forget the conversation's views, event log, played counts and tool cards (a new
        conversation): the traits are set at once and the browser is told to drop its copy."""
        with self._lock:
            self.views.clear()
        for table in (
            self.audio_samples,
            self.truncated_ms,
            self.tool_records,
            self.call_items,
            self.call_outputs,
            self.played,
        ):
            table.clear()
        self.last_truncate = None
        self.playback_started = None
        self.log = EventLog()
        self._dirty.discard("items_snapshot")
        self._dirty.discard("event_log")
        self._safe(self._apply, {"items_snapshot": [], "event_log": []})
        # The browser keeps its own copy from frame patches: a kernel value equal to the last one
        # it sent would not reach it, so it is told in so many words.
        self._safe(self._send, {"type": "cleared"}, [])
        self.mark("response_active", "usage")

    def forward_audio(self, item: dict[str, Any], samples: Any) -> None:
        """Queue assistant audio for the browser (Int16 LE bytes, merged per frame)."""
        pcm = np.asarray(samples, dtype="<i2").tobytes()
        if item["id"] not in self.audio_samples:
            self.playback_started = self.loop.time()  # the barge-in guard window opens
        if self.outbox.add_audio(item["id"], audio_content_index(item), pcm):
            self.audio_samples[item["id"]] = self.audio_samples.get(item["id"], 0) + len(pcm) // 2

    def clear_playback(self, notify_browser: bool = True) -> list[str]:
        """Drop audio in flight; with `notify_browser`, the next frame tells the player to stop."""
        cut = self.outbox.clear_playback(notify=notify_browser)
        self.schedule()
        return cut

    # ------------------------------------------------------------------ outbound
    def set_status(self, status: str, immediate: bool = False) -> None:
        """Set the `status` trait; `immediate` skips the trait slot (connect/disconnect results,
        so a blocking `connect()` returns with the status already set)."""
        self.status = status
        if immediate:
            self._dirty.discard("status")
            self._safe(self._apply, {"status": status})
        else:
            self.mark("status")

    def trait_value(self, name: str) -> Any:
        """The current value of a synced trait this layer maintains."""
        if name == "status":
            return self.status
        if name == "items_snapshot":
            return self.item_views()
        if name == "event_log":
            return self.log.snapshot()
        if name == "errors":
            return list(self.errors)
        if name == "usage":
            return self.client.usage
        if name == "response_active":
            return bool(self.client.response_active)
        raise KeyError(name)

    def schedule(self) -> None:
        """Arrange a flush when the outbox next allows one (sooner if something new is due)."""
        if self._closed:
            return
        now = self.loop.time()
        times = [t for t in (self.outbox.due(now),) if t is not None]
        # Saved-state traits alone wait for `refresh_snapshot` (their changes went out as patches).
        if self._dirty - _SNAPSHOT_TRAITS or (self._dirty and self._snapshot_requested):
            times.append(self.outbox.trait_slot(now))
        if not times:
            return
        due = min(times)
        if self._flush_handle is not None:
            if self._flush_handle.when() <= due:
                return
            self._flush_handle.cancel()
        self._flush_handle = self.loop.call_at(due, self.flush)

    def flush(self) -> None:
        """Send what is due: at most one frame and one trait update."""
        self._flush_handle = None
        if self._closed:
            return
        now = self.loop.time()
        if self._dirty and now >= self.outbox.trait_slot(now):
            snapshot_due = self._snapshot_requested
            for name in sorted(self._dirty):
                if name in _SNAPSHOT_TRAITS and not snapshot_due:
                    continue  # live changes already went out as frame patches
                self.outbox.set_trait(name, self.trait_value(name))
                self._dirty.discard(name)
            self._snapshot_requested = False
        taken = self.outbox.take_frame(now)
        if taken is not None:
            content, buffers = taken
            self._safe(self._send, content, buffers)
        traits = self.outbox.take_traits(now)
        if traits:
            self._safe(self._apply, traits)
        self.schedule()

    def saved_state(self) -> dict[str, Any]:
        """The saved-state traits' current values (on the loop)."""
        return {"items_snapshot": self.item_views(), "event_log": self.log.snapshot()}

    async def saved_state_async(self) -> dict[str, Any]:
        """`saved_state`, for `Runtime.run` from another thread."""
        return self.saved_state()

    def refresh_snapshot(self) -> None:
        """Send the saved-state traits at the next trait slot (a view appeared, or closing)."""
        self._snapshot_requested = True
        self.mark("items_snapshot", "event_log", "status", "errors", "usage", "response_active")

    def _safe(self, fn: Callable[..., None], *args: Any) -> None:
        try:
            fn(*args)
        except Exception:  # a dead comm must not kill the runtime loop
            logger.exception("= sending to the browser failed")
