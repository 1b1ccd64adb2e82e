"""One ``response.create`` in flight at a time (issue 4, DESIGN §6).

The server refuses a second ``response.create`` while one response is active
(``conversation_already_has_active_response``): the seed client sends one after every tool output
and after every user message, so it trips this whenever a tool answers while the model still
talks. Here requests wait in a queue and leave one by one: the next is sent only after the
previous one's ``response.done`` (or its refusal). Server-VAD responses, which the server creates
by itself, count as active too. Pure bookkeeping: the caller supplies ``send`` and feeds events.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Callable

__all__ = ["ResponseSequencer"]

_UNKNOWN = "<unknown>"  # a response the server says is active but we have not seen created
_REMEMBERED = 64  # sent response.create events kept to match refusals by event_id


class ResponseSequencer:
    """Queues ``response.create`` requests so that at most one is in flight.

    Args:
        send: sends a ``response.create`` with the given ``response`` parameters (or none) and
            returns the event as sent (its ``event_id`` matches refusals).

    Queued parameterless requests are coalesced: two user messages sent while the model talks
    get one answer covering both, as in a live conversation.
    """

    def __init__(self, send: Callable[[dict | None], dict]) -> None:
        self._send = send
        self._queue: deque[dict | None] = deque()
        self._sent: OrderedDict[str, dict | None] = OrderedDict()
        self.active_id: str | None = None
        self.in_flight: str | None = None
        self._active_params: dict | None = None  # what the running (or requested) one asked for
        self._spoke = False  # whether it produced anything (or was cancelled): see ``owed``

    @property
    def is_active(self) -> bool:
        """True while a response runs or a ``response.create`` awaits its ``response.created``."""
        return self.active_id is not None or self.in_flight is not None

    @property
    def queued(self) -> int:
        """How many requests wait for the current response to finish."""
        return len(self._queue)

    def request(self, params: dict | None = None) -> None:
        """Ask for a response now, or after the current one."""
        if params is None and self._queue and self._queue[-1] is None:
            return
        self._queue.append(params)
        self._pump()

    def reset(self) -> None:
        """Forget everything (a new session)."""
        self._queue.clear()
        self._sent.clear()
        self.active_id = self.in_flight = None
        self._active_params, self._spoke = None, False

    def on_output(self) -> None:
        """The active response produced something: words, audio or a completed function call."""
        self._spoke = True

    def on_cancel(self) -> None:
        """The active response is being cancelled (by the user, or the user barged in): a drop
        before its ``response.done`` must not ask for it again."""
        self._spoke = True

    def owed(self) -> list[dict | None]:
        """The requests a lost session leaves unanswered (ask before :meth:`reset`).

        The queue, and the running or requested response if it had produced nothing yet: a drop
        as a response starts, or before its only call completed, would otherwise leave the
        user's turn silently unanswered. One that already spoke was heard (in part), as after a
        barge-in, and is not asked again.
        """
        owed = list(self._queue)
        if self.is_active and not self._spoke:
            owed.insert(0, self._active_params)
        return owed

    def expire(self) -> bool:
        """Give up on the running response (the server never ended it); send the next request.

        Returns:
            True when a response (or a request for one) was running.
        """
        running = self.is_active
        if self.in_flight is not None:
            self._sent.pop(self.in_flight, None)
        self.active_id = self.in_flight = None
        self._pump()
        return running

    def _pump(self) -> None:
        if self.is_active or not self._queue:
            return
        params = self._queue.popleft()
        event = self._send(params)
        self.in_flight = event["event_id"]
        self._sent[self.in_flight] = params
        self._active_params, self._spoke = params, False
        while len(self._sent) > _REMEMBERED:
            self._sent.popitem(last=False)

    # ------------------------------------------------------------------ server events
    def on_response_created(self, event: dict) -> None:
        """``response.created``: ours or the server's own (VAD), it is now the active one."""
        response_id = (event.get("response") or {}).get("id") or _UNKNOWN
        if response_id != self.active_id:
            ours = self.in_flight is not None
            self._active_params = self._sent.get(self.in_flight) if ours else None
            self._spoke = False
        self.active_id = response_id
        self.in_flight = None

    def on_response_done(self, event: dict) -> None:
        """``response.done``: the active response ended; send the next queued request."""
        done_id = (event.get("response") or {}).get("id")
        if self.active_id in (done_id, _UNKNOWN, None):
            self.active_id = None
        self._pump()

    def on_error(self, event: dict) -> bool:
        """``error``: when it refuses one of our ``response.create``, requeue or drop it.

        Returns:
            True when the error concerned a ``response.create`` sent by this sequencer.
        """
        error = event.get("error") or {}
        event_id = error.get("event_id")
        if event_id not in self._sent:
            return False
        params = self._sent.pop(event_id)
        if event_id == self.in_flight:
            self.in_flight = None
        if error.get("code") == "conversation_already_has_active_response":
            # Not fatal: a response we have not seen yet (VAD) is running; ask again after it.
            self._queue.appendleft(params)
            self.active_id = self.active_id or _UNKNOWN
        self._pump()
        return True
