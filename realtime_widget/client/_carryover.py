"""What one session leaves for the next: held sends, unacknowledged messages, owed responses.

A Realtime session cannot be resumed (DESIGN §6): after a drop the client opens a new one and
seeds it with the history (``_reconnect.history_items``). Beyond the conversation itself, three
things must cross over so that nothing the user said is lost or said twice (issue 13):

- **held**: what the user said while the client was reconnecting (messages, audio, response
  requests, MCP answers): kept, in order, and sent once the new session has started;
- **unacknowledged messages**: user messages sent that the server has not announced back yet;
  the drop may have eaten them (or their announcement), so the replay says them again;
- **owed responses**: requests a lost session left unanswered (queued, or running and silent),
  asked again after the replay, with one plain request covering several reasons.

:class:`Carryover` owns those three lists and the ids it replayed (their echoes are not new
items), and does the replay. It is handed what the replay reads (the conversation, the tool
outputs not yet acknowledged, the running tools, the pending MCP approvals), ``send``, the
sequencer it asks for responses, the handle tracker (a dropped request ends its handle), and
the client's guarded hand-over that runs what was held. Runs on the runtime loop only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from realtime_widget.client._handles import ResponseHandle, ResponseTracker
from realtime_widget.client._mcp import McpServers
from realtime_widget.client._outputs import ToolOutputs
from realtime_widget.client._reconnect import history_items
from realtime_widget.client._responses import ResponseSequencer
from realtime_widget.client._tool_calls import ToolCalls
from realtime_widget.conversation import RealtimeConversation

__all__ = ["Carryover"]

Call = tuple[Callable[..., None], tuple]


class Carryover:
    """Held sends, unacknowledged user messages, owed responses, and the history replay.

    Args:
        send: ``RealtimeAPI.send`` (``type``, payload); returns the event as sent.
        conversation: the client's conversation (the history replayed).
        outputs: tool outputs the server has not acknowledged (replayed after their call).
        tool_calls: the running tools (their calls are replayed even without an output).
        mcp: the MCP servers (pending approval requests are replayed).
        responses: the in-band sequencer, asked for what is owed.
        handles: the handle tracker (a held request dropped ends its handle).
        relay: relay mode: nothing is replayed.
        run: runs a held ``fn(*args)`` once the new session works (the client's guarded
            hand-over: errors reported, held again if the session is lost meanwhile).
    """

    def __init__(
        self,
        send: Callable[..., Any],
        conversation: RealtimeConversation,
        outputs: ToolOutputs,
        tool_calls: ToolCalls,
        mcp: McpServers,
        responses: ResponseSequencer,
        handles: ResponseTracker,
        relay: bool,
        run: Callable[[Callable[..., None], tuple], None],
    ) -> None:
        self._send = send
        self._conversation = conversation
        self._outputs = outputs
        self._tool_calls = tool_calls
        self._mcp = mcp
        self._responses = responses
        self._handles = handles
        self._relay = relay
        self._run = run
        self._held: list[Call] = []  # said while reconnecting, in order
        self._unacked: list[dict] = []  # user messages sent, not yet announced back
        self._owed: list[dict | None] = []  # response requests a dropped session left unanswered
        self.replayed: set[str] = set()  # ids replayed into a new session: already in history

    @property
    def holding(self) -> bool:
        """Whether sends are held (they wait for the new session's ``session.created``)."""
        return bool(self._held)

    def has_history(self) -> bool:
        """Whether a new session has anything to be seeded with."""
        return bool(self._conversation.get_items() or self._unacked or len(self._outputs))

    def reset(self) -> None:
        """Forget everything (the client's ``reset``)."""
        self._held.clear()
        self._unacked.clear()
        self._owed.clear()
        self.replayed.clear()

    # ------------------------------------------------------------------ held sends
    def hold(self, fn: Callable[..., None], args: tuple) -> None:
        """Keep ``fn(*args)`` for the new session."""
        self._held.append((fn, args))

    def send_held(self) -> None:
        """The new session works (``session.created``): run what was held, in order, after
        the history."""
        held, self._held = self._held, []
        for fn, args in held:
            self._run(fn, args)

    def _on_session_created(self, event: dict, result: dict) -> None:
        self.send_held()  # said while reconnecting: now that the session works

    def end(self) -> int:
        """The session ends for good: held sends are dropped (their response handles end as
        lost) and nothing is owed any more. Returns how many held sends were dropped."""
        held, self._held = self._held, []
        for _fn, args in held:
            for arg in args:
                if isinstance(arg, ResponseHandle):
                    self._handles.abandon(arg, "the session ended before this request was sent")
        self._owed.clear()
        return len(held)

    # ------------------------------------------------------------------ messages and requests
    def message_sent(self, item: dict) -> None:
        """A user message left; kept until the server announces it (see :meth:`replay`)."""
        self._unacked.append(item)

    def on_item_announced(self, item: dict) -> None:
        """A new conversation item: if it is a message we sent, it and any sent before it
        are the server's now (taking events in order, it refused any it did not announce)."""
        for index, sent in enumerate(self._unacked):
            if _same_words(item, sent):
                del self._unacked[: index + 1]
                return

    def owe(self, requests: list[dict | None]) -> None:
        """Response requests the next session must ask for (``None``: a plain one)."""
        self._owed += requests

    # ------------------------------------------------------------------ the replay
    def replay(self) -> int:
        """Seed a new session with the history, the unacknowledged messages and what is owed.

        Returns:
            How many history items were sent.
        """
        if self._relay:
            return 0
        outputs = self._outputs.pending()
        items = history_items(
            self._conversation.get_items(),
            self._tool_calls.running,
            outputs,
            pending_approvals={r["id"] for r in self._mcp.pending()},
        )
        for item in items:
            if "id" in item:
                self.replayed.add(item["id"])
            with contextlib.suppress(RuntimeError):
                sent = self._send("conversation.item.create", {"item": item})
                if item["type"] == "function_call_output" and "id" not in item:
                    self._outputs.sent(item["call_id"], sent["event_id"])
        # User messages the old session never acknowledged (the drop ate the answer, or them):
        # said again after the history, and answered, so no words vanish without a trace.
        unacked = list(self._unacked)
        for item in unacked:
            with contextlib.suppress(RuntimeError):
                self._send("conversation.item.create", {"item": item})
        # One response for what is still unanswered: those messages, tool outputs the old
        # session never acknowledged, a turn it dropped before saying anything (issue 13).
        owed, self._owed = self._owed, []
        replayed_outputs = any(i["type"] == "function_call_output" and "id" not in i for i in items)
        if unacked or replayed_outputs:
            owed.append(None)
        asked_plain = False
        for params in owed:
            if params is None and asked_plain:
                continue  # several reasons, one answer
            asked_plain = asked_plain or params is None
            self._responses.request(params)
        return len(items)


def _same_words(announced: dict, sent: dict) -> bool:
    """Whether an announced item is the user message we sent (the server gave it its id)."""
    if announced.get("role") != "user" or announced.get("type") != "message":
        return False
    content = announced.get("content")
    if not isinstance(content, list):
        return False
    parts = [(p.get("type"), p.get("text")) for p in content if isinstance(p, dict)]
    return parts == [(p.get("type"), p.get("text")) for p in sent["content"]]
