"""A new conversation in the same session: what `RealtimeWidget.clear` does.

Connected, the server's conversation is emptied item by item (``conversation.item.delete``):
the session, its settings, tools and usage stay, and each ``conversation.item.deleted`` removes
the item from the client's `RealtimeConversation` and the widget's view as usual, so nothing is
left that a later reconnect would replay. Deleting rather than reconnecting keeps one session
(no second connection, no replay) and works the same against OpenAI and the embedded server.
"""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["clear_conversation", "new_conversation"]

_POLL_S = 0.02


async def clear_conversation(client: Any, sync: Any, timeout: float) -> int:
    """Cancel the active response, delete every item on both sides, reset the widget's view.

    Items a still-running response adds after the cancel are deleted too: the loop goes on until
    the conversation stays empty. Disconnected, only the client's copy is cleared (there is no
    server conversation; keeping the copy would replay it on the next connect).

    Returns:
        How many items were deleted.

    Raises:
        TimeoutError: the server had not confirmed every deletion within ``timeout`` seconds
            (the message says how many remain; the widget still shows them).
    """
    sync.clear_playback()  # the player stops now, not when the deletions come back
    deleted = 0
    if client.is_connected:
        if client.response_active:
            client.cancel_response()  # its remaining output would land in the new conversation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        asked: set[str] = set()
        while True:
            ids = [item["id"] for item in client.conversation.get_items()]
            if not ids and not client.response_active:
                break
            for item_id in ids:
                if item_id not in asked and client.is_connected:
                    client.delete_item(item_id)
                    asked.add(item_id)
            if loop.time() >= deadline:
                raise TimeoutError(
                    f"clear(): {len(ids)} item(s) not deleted by the server after {timeout:g} s; "
                    "call clear() again, or disconnect() and clear() for a local reset"
                )
            await asyncio.sleep(_POLL_S)
        deleted = len(asked)
    else:
        deleted = len(client.conversation.get_items())
        client.conversation.clear()
    sync.reset_conversation()
    return deleted


async def new_conversation(
    client: Any, sync: Any, turn_log: Any, captioner: Any, timeout: float | None
) -> int:
    """What `RealtimeWidget.clear` and the "New conversation" button do, in every mode.

    Args:
        client: the bound `RealtimeClient`.
        sync: the widget's `WidgetSync` (its view of the conversation is reset).
        turn_log: the widget's `TurnLog` (its turns are forgotten).
        captioner: the caption modes' session, or None in a conversation: its captions start
            afresh instead (there is no server conversation to delete).
        timeout: seconds to wait for the server's confirmations (None: 10).

    Returns:
        How many items (or caption segments) were removed.

    Raises:
        TimeoutError: as `clear_conversation`.
    """
    if captioner is not None:
        count = len(captioner.captions)
        captioner.captions.clear()
        sync.reset_conversation()
        turn_log.clear()
        return count
    removed = await clear_conversation(client, sync, 10.0 if timeout is None else float(timeout))
    turn_log.clear()
    return removed
