"""Interruption: played-sample reports, ``cancel_response``, ``interrupt`` (DESIGN §4).

What the user heard is what the browser's player reports (``report_played``); a cut happens at
``min(played, received)`` and is skipped when the server would refuse it or it changes nothing
(an unknown item, no audio, already cut there, no playback reported). ``cancel_response(id, 0)``
cuts at 0 ms, as the seed does (issue 12): nothing was heard, so the server must not keep the
transcript. ``response.cancel`` goes out only while a response
is active, so no ``response_cancel_not_active`` error reaches the user.
"""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["InterruptionMixin"]

logger = logging.getLogger("realtime_widget.client")


class InterruptionMixin:
    """The interruption side of ``RealtimeClient``."""

    # Provided by RealtimeClient; declared for readers and type checkers.
    realtime: Any
    conversation: Any
    _playback: Any
    _responses: Any

    def report_played(self, item_id: str, content_index: int, samples: int) -> None:
        """Record playback progress: ``samples`` (cumulative, output rate) of that part heard."""
        self._soon(self._playback.report_played, item_id, int(content_index), int(samples))

    def cancel_response(self, id: str | None = None, sample_count: int = 0) -> dict | None:
        """Cancel the active response and truncate assistant item ``id`` at what was heard.

        Cuts at ``min(sample_count, samples received)``, at 0 ms when ``sample_count`` is 0 (the
        seed's default: nothing was heard); skips the truncate when the item is unknown or has
        no audio, or when it was already cut there. Sends ``response.cancel`` only if a
        response is active. Without ``id`` it only cancels.

        Returns:
            The item, or ``None`` (no ``id``, or an unknown one).

        Raises:
            ValueError: ``id`` names an item that is not an assistant message.
        """
        self._require("cancel responses")
        item = self.conversation.get_item(id) if id else None
        if item is not None and (item.get("type") != "message" or item.get("role") != "assistant"):
            raise ValueError(f"item {id!r} is not an assistant message; only those can be cut")
        self._soon(self._cancel_response, id, int(sample_count))
        return item

    def _cancel_response(self, item_id: str | None, played: int | None) -> None:
        if self._responses.active_id is not None:
            self.realtime.send("response.cancel")
            self._responses.on_cancel()  # not to be asked again after a reconnect
        if item_id is not None:
            self._truncate(item_id, played)

    def interrupt(self) -> None:
        """Barge-in: cancel the active response and cut the playing item at what was heard.

        Uses the counts given to :meth:`report_played`; dispatches ``conversation.interrupted``.
        """
        self._require("interrupt")
        self._soon(self._interrupt)

    def _interrupt(self) -> None:
        key = self._playback.playing()
        self._cancel_response(key[0] if key else None, None)
        self.dispatch(
            "conversation.interrupted", {"type": "conversation.interrupted", "source": "client"}
        )

    def _truncate(self, item_id: str, played: int | None) -> None:
        item = self.conversation.get_item(item_id)
        if item is None:
            logger.info("= truncate of unknown item %s skipped", item_id)
            return
        index = next(
            (
                i
                for i, part in enumerate(item.get("content") or [])
                if part.get("type") in ("output_audio", "audio")
            ),
            None,
        )
        if index is None:
            return
        keep = self._playback.truncation_point(item_id, index, played)
        if keep is None:
            return
        self._playback.mark_truncated(item_id, index, keep)
        self.realtime.send(
            "conversation.item.truncate",
            {
                "item_id": item_id,
                "content_index": index,
                "audio_end_ms": self._playback.audio_end_ms(keep),
            },
        )
