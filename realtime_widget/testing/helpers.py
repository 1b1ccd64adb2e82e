"""Helpers for tests and notebooks that drive a client (no pytest needed to import them)."""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["converse"]


def converse(client: Any, text: str, timeout: float = 10.0) -> dict[str, Any]:
    """Send a user message and block until the model has finished answering it.

    Waits through tool calls: it returns after the first ``response.done`` whose output has no
    function call (the model's final answer), and gives that response's last item.

    Args:
        client: a connected ``RealtimeClient`` (e.g. the ``realtime_client`` fixture).
        text: the user message.
        timeout: seconds to wait.

    Returns:
        The final response's last conversation item (``["formatted"]["transcript"]`` /
        ``["text"]`` hold the answer).

    Raises:
        TimeoutError: no final answer within ``timeout`` (the message counts the responses).
    """
    finished = threading.Event()
    state: dict[str, Any] = {"responses": 0, "item_id": None}

    def on_event(event: dict[str, Any]) -> None:
        wire = event.get("event") or {}
        if event.get("source") != "server" or wire.get("type") != "response.done":
            return
        state["responses"] += 1
        output = (wire.get("response") or {}).get("output") or []
        if not any(o.get("type") == "function_call" for o in output):
            state["item_id"] = output[-1].get("id") if output else None
            finished.set()

    client.on("realtime.event", on_event)
    try:
        client.send_user_message_content(text)
        if not finished.wait(timeout):
            raise TimeoutError(
                f"no final answer to {text!r} within {timeout} s "
                f"({state['responses']} responses finished); is a tool hanging?"
            )
    finally:
        client.off("realtime.event", on_event)
    item = client.conversation.get_item(state["item_id"]) if state["item_id"] else None
    return item if item is not None else {}
