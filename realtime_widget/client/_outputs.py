"""Tool outputs not yet acknowledged: delivered at least once, recorded exactly once (issue 13).

A ``function_call_output`` is only safe once the server has announced it back
(``conversation.item.added``, beta ``conversation.item.created``). Until then a dropped connection
may have eaten it on the way out, or eaten the server's announcement, and the session that held
it is gone for good (DESIGN §6: there is no resume). So each output is kept here from the moment
the tool finishes, whether or not it could be sent, until the server announces it; the history
replay of the next session sends every output still kept right after the call it answers. Each
replay is a new session, so an output is recorded in the live session exactly once.

Pure bookkeeping: the client sends, and feeds the server's announcements and refusals in.
"""

from __future__ import annotations

__all__ = ["ToolOutputs"]


class ToolOutputs:
    """The outputs of finished tool calls that the server has not acknowledged yet."""

    def __init__(self) -> None:
        self._pending: dict[str, str] = {}  # call id -> output, in the order the tools finished
        self._sent: dict[str, str] = {}  # event id of a conversation.item.create -> call id

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._pending

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, call_id: str, output: str) -> bool:
        """Keep the output of call ``call_id`` until the server acknowledges it.

        Args:
            call_id: the call it answers.
            output: the ``function_call_output`` text.

        Returns:
            False (and ``output`` ignored) if an output of this call is kept already.
        """
        if call_id in self._pending:
            return False
        self._pending[call_id] = output
        return True

    def pending(self) -> dict[str, str]:
        """A copy of the outputs not yet acknowledged, by call id, oldest first."""
        return dict(self._pending)

    def sent(self, call_id: str, event_id: str) -> None:
        """Note that the output of ``call_id`` left in a ``conversation.item.create``.

        Args:
            call_id: the call the output answers.
            event_id: that event's ``event_id`` (a refusal echoes it).
        """
        self._sent[event_id] = call_id

    def on_item_announced(self, item: dict) -> str | None:
        """A server item announcement (``conversation.item.added``/``.created``).

        Args:
            item: the announced item.

        Returns:
            The call id when it acknowledged a kept output (now forgotten), else ``None``.
        """
        if item.get("type") != "function_call_output":
            return None
        call_id = item.get("call_id")
        if call_id not in self._pending:
            return None
        del self._pending[call_id]
        self._forget_sends(call_id)
        return call_id

    def _on_conversation_item_added(self, event: dict, result: dict) -> None:
        """``conversation.item.added`` (beta ``.created``), as the router hands it over."""
        announced = event.get("item")
        if isinstance(announced, dict):
            self.on_item_announced(announced)  # a tool output is safe now

    def on_refused(self, event_id: str | None) -> str | None:
        """A server ``error`` for ``event_id``: if it refused an output, forget that output.

        Sending it again would be refused again; the error itself reaches the user.

        Args:
            event_id: the ``event_id`` the error echoes, if any.

        Returns:
            The call id of the refused output, or ``None``.
        """
        call_id = self._sent.pop(event_id, None) if event_id else None
        if call_id is None:
            return None
        self._pending.pop(call_id, None)
        self._forget_sends(call_id)
        return call_id

    def on_session_lost(self) -> None:
        """The session ended: refusals of its events can no longer come."""
        self._sent.clear()

    def clear(self) -> None:
        """Forget everything (reset)."""
        self._pending.clear()
        self._sent.clear()

    def _forget_sends(self, call_id: str) -> None:
        for event_id in [e for e, c in self._sent.items() if c == call_id]:
            del self._sent[event_id]
