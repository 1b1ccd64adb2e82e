"""Item announcements: ``conversation.item.appended`` and ``.completed``, once per item.

The reducer (``RealtimeConversation``) reports every change of an item; the client also tells
its listeners, exactly once per item, when an item joins the conversation (``appended``) and when
it is complete (``completed``), whichever server events say so (GA ``conversation.item.added`` /
``.done``, beta ``.created``, ``response.output_item.done``). Completion is also when the
``max_audio_seconds`` cap is applied (after listeners saw the item's audio), and, for an item
that never completes, while its audio streams in (``CapSchedule``).

:class:`ItemAnnouncements` owns the ids announced and the cap's schedule; it is handed the
conversation, ``dispatch``, what to tell when a new item appears (the carry-over's
unacknowledged messages), and a getter for the client's ``max_audio_seconds``. Its
``_on_<event>`` handlers are composed by the router (``_events``). Runs on the runtime loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime_widget.client._audio_cap import CapSchedule, cap_audio
from realtime_widget.conversation import RealtimeConversation

__all__ = ["ItemAnnouncements"]

_RATE = 24000  # the conversation's audio rate


class ItemAnnouncements:
    """Announces each conversation item once as appended and once as completed.

    Args:
        conversation: the client's conversation (its items, for the audio cap).
        dispatch: emits the client's events.
        appended: told of each new item (the carry-over's ``on_item_announced``).
        max_audio_seconds: the client's ``max_audio_seconds`` (settable, so read when needed).
    """

    def __init__(
        self,
        conversation: RealtimeConversation,
        dispatch: Callable[[str, Any], None],
        appended: Callable[[dict], None],
        max_audio_seconds: Callable[[], float | None],
    ) -> None:
        self._conversation = conversation
        self._dispatch = dispatch
        self._appended_hook = appended
        self._max_audio_seconds = max_audio_seconds
        self._appended: set[str] = set()
        self._completed: set[str] = set()
        self._cap_schedule = CapSchedule()  # max_audio_seconds while audio streams in

    def reset(self) -> None:
        """Forget the items announced (a cleared conversation)."""
        self._appended.clear()
        self._completed.clear()
        self._cap_schedule = CapSchedule()

    def mark_unfinished_items(self) -> None:
        """The session was lost: a response it cut will never finish; show it as the server
        would a cancel."""
        for item in self._conversation.get_items():
            if item.get("status") == "in_progress":
                item["status"] = "incomplete"
                self._dispatch(
                    "conversation.updated",
                    {"type": "conversation.updated", "item": item, "delta": None},
                )

    # ------------------------------------------------------------------ server events
    def _on_conversation_item_added(self, event: dict, result: dict) -> None:
        """``conversation.item.added`` (beta ``conversation.item.created``)."""
        item = result.get("item")
        if item is None:
            return
        if item["id"] not in self._appended:
            self._appended_hook(item)  # once: a reconnect need not say it again
            self._appended.add(item["id"])
            self._dispatch(
                "conversation.item.appended", {"type": "conversation.item.appended", **result}
            )
        if item.get("status") == "completed":
            self._completed_once(result)

    def _on_conversation_item_done(self, event: dict, result: dict) -> None:
        item = result.get("item")
        if item is not None and item.get("status") == "completed":
            self._completed_once(result)

    _on_response_output_item_done = _on_conversation_item_done

    def _on_response_output_audio_delta(self, event: dict, result: dict) -> None:
        max_audio_seconds = self._max_audio_seconds()
        if max_audio_seconds is not None:  # also for an item that never completes
            audio = (result.get("delta") or {}).get("audio")
            cap = int(max_audio_seconds * _RATE)
            if audio is not None and self._cap_schedule.due(len(audio), cap):
                cap_audio(self._conversation.get_items(), cap)

    def _completed_once(self, result: dict) -> None:
        item_id = result["item"]["id"]
        if item_id not in self._completed:
            self._completed.add(item_id)
            self._dispatch(
                "conversation.item.completed", {"type": "conversation.item.completed", **result}
            )
            max_audio_seconds = self._max_audio_seconds()
            if max_audio_seconds is not None:  # after listeners saw the item's audio
                cap_audio(self._conversation.get_items(), int(max_audio_seconds * _RATE))
