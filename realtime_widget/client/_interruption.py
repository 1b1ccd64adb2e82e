"""Interruption: played-sample reports, cancelling, truncating at what was heard (DESIGN §4).

What the user heard is what the browser's player reports (``report_played``); a cut happens at
``min(played, received)`` and is skipped when the server would refuse it or it changes nothing
(an unknown item, no audio, already cut there, no playback reported). ``cancel_response(id, 0)``
cuts at 0 ms, as the seed does (issue 12): nothing was heard, so the server must not keep the
transcript. ``response.cancel`` goes out only while a response
is active, so no ``response_cancel_not_active`` error reaches the user.

:class:`Interruption` is the collaborator of ``RealtimeClient`` that does this. It is handed
the :class:`~realtime_widget.client._playback.PlaybackTracker` (which it feeds with the server's
audio, truncations and deletions), the response sequencer (to know whether a response runs, and
to note a cancel), a way to look items up, ``send`` and ``dispatch``; it touches nothing else.
Runs on the runtime loop only: the client's public methods hand the work over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from realtime_widget.client._playback import PlaybackTracker
from realtime_widget.client._responses import ResponseSequencer

__all__ = ["Interruption"]

logger = logging.getLogger("realtime_widget.client")


class Interruption:
    """Barge-in and truncation for one client.

    Args:
        playback: what was received and heard of each assistant audio part.
        responses: the in-band response sequencer (is one active; a cancel is not re-asked).
        get_item: the conversation's item of an id, or ``None``.
        send: ``RealtimeAPI.send`` (``type``, payload).
        dispatch: emits the client's events (``conversation.interrupted``).
        truncate_on_speech: whether the server's ``speech_started`` cuts the playing item at
            what was heard (the client's ``auto_truncate`` and the session's
            ``interrupt_response``; read at each one). ``None``: never.
    """

    def __init__(
        self,
        playback: PlaybackTracker,
        responses: ResponseSequencer,
        get_item: Callable[[str], dict | None],
        send: Callable[..., Any],
        dispatch: Callable[[str, Any], None],
        *,
        truncate_on_speech: Callable[[], bool] | None = None,
    ) -> None:
        self._playback = playback
        self._responses = responses
        self._get_item = get_item
        self._send = send
        self._dispatch = dispatch
        self._truncate_on_speech = truncate_on_speech or (lambda: False)

    # ------------------------------------------------------------------ the user's requests
    def report_played(self, item_id: str, content_index: int, samples: int) -> None:
        """The browser's player has played ``samples`` of that part (cumulative)."""
        self._playback.report_played(item_id, content_index, samples)

    def cancel(self, item_id: str | None, played: int | None) -> None:
        """``response.cancel`` if a response is active; then cut ``item_id`` at ``played``
        samples (``None``: at what the player reported)."""
        if self._responses.active_id is not None:
            self._send("response.cancel")
            self._responses.on_cancel()  # not to be asked again after a reconnect
        if item_id is not None:
            self.truncate(item_id, played)

    def interrupt(self) -> None:
        """Barge-in by the client: cancel, cut the playing item, ``conversation.interrupted``."""
        key = self._playback.playing()
        self.cancel(key[0] if key else None, None)
        self._dispatch(
            "conversation.interrupted", {"type": "conversation.interrupted", "source": "client"}
        )

    def truncate(self, item_id: str, played: int | None) -> None:
        """Send ``conversation.item.truncate`` for the audio of ``item_id`` not heard (if any)."""
        item = self._get_item(item_id)
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
        self._send(
            "conversation.item.truncate",
            {
                "item_id": item_id,
                "content_index": index,
                "audio_end_ms": self._playback.audio_end_ms(keep),
            },
        )

    # ------------------------------------------------------------------ server events
    def on_speech_started(self, event: dict, truncate: bool) -> None:
        """``input_audio_buffer.speech_started``: the user talks over the model.

        Args:
            event: the server event (dispatched as ``conversation.interrupted``).
            truncate: cut the playing item at what was heard (``auto_truncate`` and the
                session's ``interrupt_response``); the server cancels the response itself.
        """
        self._responses.on_cancel()  # the user talks: the turn has moved on (issue 13)
        if truncate:
            key = self._playback.playing()
            if key is not None:
                self.truncate(key[0], None)
        self._dispatch("conversation.interrupted", event)

    def on_audio_delta(self, event: dict) -> None:
        """``response.output_audio.delta``: more assistant audio received."""
        delta = event.get("delta")
        if isinstance(delta, str):
            self._playback.on_audio_delta(
                event.get("item_id", ""), event.get("content_index", 0), delta
            )

    def on_item_truncated(self, event: dict) -> None:
        """``conversation.item.truncated`` (ours or another client's): the part ends there."""
        samples = int(event.get("audio_end_ms", 0)) * self._playback.rate // 1000
        self._playback.mark_truncated(
            event.get("item_id", ""), event.get("content_index", 0), samples
        )

    def on_item_deleted(self, event: dict) -> None:
        """``conversation.item.deleted``: nothing of it can be cut any more."""
        self._playback.forget(event.get("item_id", ""))

    # The client's router (``_events``) calls these, named after the wire events.
    def _on_input_audio_buffer_speech_started(self, event: dict, result: dict) -> None:
        self.on_speech_started(event, bool(self._truncate_on_speech()))

    def _on_response_output_audio_delta(self, event: dict, result: dict) -> None:
        self.on_audio_delta(event)

    def _on_conversation_item_truncated(self, event: dict, result: dict) -> None:
        self.on_item_truncated(event)

    def _on_conversation_item_deleted(self, event: dict, result: dict) -> None:
        self.on_item_deleted(event)
