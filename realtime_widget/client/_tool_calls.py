"""Tool calls: run completed calls, answer each exactly once, then one response (issue 4).

The seed calls a tool for every ``response.output_item.done`` carrying a function call (even an
incomplete one), sends ``response.create`` after *each* output (so a response with two calls
trips ``conversation_already_has_active_response``), and leaves the model waiting forever when
the tool is unknown or its arguments are not JSON. Here:

- only ``completed`` calls run (a cancelled response's half-streamed call does not);
- every ``call_id`` gets exactly one ``function_call_output``, whatever happens (the registry's
  ``invoke`` never raises; a timeout or a failure here becomes an error output too);
- when the response is done and all its calls are answered, a single ``response.create``
  follows, and only if that response completed (a barge-in's turn will answer instead);
- :meth:`ToolCalls.cancel` (the user's Stop, issue 15) ends running calls at once: each gets one
  "cancelled by the user" output (the registry's, or ours if the registry never saw the call), a
  tool finishing later is not answered again, and no ``response.create`` follows: the user asked
  for quiet, and the model reads the cancellation with the next turn.

Runs on the runtime loop: tools run as tasks, so a slow tool does not block events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from realtime_widget.protocol.tool_outputs import CANCELLED, CANCELLED_MESSAGE
from realtime_widget.tools.invoke import error_output

__all__ = ["ToolCalls"]

logger = logging.getLogger(__name__)


class ToolCalls:
    """Runs the function calls of responses and answers them.

    Args:
        registry: a ``ToolRegistry`` (``async invoke(call_id, name, arguments) -> record``).
        send_output: delivers the ``function_call_output`` of ``(call_id, output)``; returns
            False when it is held for the next session instead (disconnected).
        request_response: asks the response sequencer for one ``response.create``.
        timeout: seconds before a call is answered with a timeout error (``None``: the
            registry's own limits only).
    """

    def __init__(
        self,
        registry: Any,
        send_output: Callable[[str, str], bool],
        request_response: Callable[[], None],
        timeout: float | None = None,
    ) -> None:
        self.registry = registry
        self._send_output = send_output
        self._request_response = request_response
        self.timeout = timeout
        self._started: set[str] = set()
        self.answered: set[str] = set()
        self._open: dict[str, set[str]] = {}  # response id -> call ids not answered yet
        self._finished: dict[str, bool] = {}  # response id -> whether it completed
        self._tasks: set[asyncio.Task[None]] = set()
        self._call_tasks: dict[str, asyncio.Task[None]] = {}  # call id -> its task, while open
        self._cancelled: set[str] = set()  # call ids the user cancelled, until answered
        self._halted: set[str] = set()  # response ids with a cancelled call: no response follows

    @property
    def running(self) -> set[str]:
        """Call ids whose tool is still running."""
        return {c for calls in self._open.values() for c in calls}

    def on_output_item_done(self, event: dict) -> None:
        """``response.output_item.done``: start the tool of a completed function call."""
        self._start(event.get("response_id") or "", event.get("item") or {})

    def on_response_done(self, event: dict) -> None:
        """``response.done``: start calls we missed, then answer once all are done."""
        response = event.get("response") or {}
        response_id = response.get("id") or ""
        for item in response.get("output") or []:
            self._start(response_id, item)
        self._finished[response_id] = response.get("status") == "completed"
        self._maybe_continue(response_id)

    # The client's router (``_events``) calls these, named after the wire events.
    def _on_response_output_item_done(self, event: dict, result: dict) -> None:
        self.on_output_item_done(event)

    def _on_response_done(self, event: dict, result: dict) -> None:
        self.on_response_done(event)

    def on_session_lost(self) -> None:
        """The connection dropped: no ``response.done`` will come for responses in progress.

        A response whose calls are all answered already continues now (its request is held for
        the next session by ``request_response``); the others continue when their tools finish.
        """
        for response_id in list(self._open):
            self._finished.setdefault(response_id, True)
            self._maybe_continue(response_id)

    def cancel(self, reason: str = "cancelled by the user") -> list[str]:
        """Cancel every running call; each is answered once with the cancellation output.

        Args:
            reason: kept on each call's ``CancelToken``.

        Returns:
            The call ids cancelled.
        """
        cancelled = []
        for response_id, calls in self._open.items():
            for call_id in sorted(calls):
                if call_id in self.answered or call_id in self._cancelled:
                    continue
                cancelled.append(call_id)
                self._cancelled.add(call_id)
                self._halted.add(response_id)
                registry_cancel = getattr(self.registry, "cancel", None)
                if registry_cancel is None or not registry_cancel(call_id, reason):
                    # The registry does not know the call (not started yet, or a registry
                    # without cancel): stop our task; `_run` answers for it.
                    task = self._call_tasks.get(call_id)
                    if task is not None:
                        task.cancel()
        if cancelled:
            logger.info("= tool calls cancelled: %s", ", ".join(cancelled))
        return cancelled

    def clear(self) -> None:
        """Forget everything and cancel running tools (reset)."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self._call_tasks.clear()
        self._started.clear()
        self.answered.clear()
        self._open.clear()
        self._finished.clear()
        self._cancelled.clear()
        self._halted.clear()

    def _start(self, response_id: str, item: dict) -> None:
        call_id = item.get("call_id")
        if item.get("type") != "function_call" or not call_id:
            return
        if item.get("status") != "completed" or call_id in self._started:
            return
        self._started.add(call_id)
        self._open.setdefault(response_id, set()).add(call_id)
        name, arguments = item.get("name") or "", item.get("arguments") or "{}"
        task = asyncio.get_running_loop().create_task(
            self._run(response_id, call_id, name, arguments)
        )
        self._tasks.add(task)
        self._call_tasks[call_id] = task
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: self._call_tasks.pop(call_id, None))

    async def _run(self, response_id: str, call_id: str, name: str, arguments: str) -> None:
        try:
            record = await asyncio.wait_for(
                self.registry.invoke(call_id, name, arguments), self.timeout
            )
            output = record.output
        except asyncio.TimeoutError:
            output = error_output(
                "timeout",
                f"tool {name!r} did not finish within the client's tool_timeout of "
                f"{self.timeout} s; raise tool_timeout or the tool's own timeout",
                name,
            )
        except asyncio.CancelledError:
            if call_id not in self._cancelled:
                raise  # clear(): a reset, nobody to answer
            output = error_output(CANCELLED, CANCELLED_MESSAGE, name)
        except Exception as exc:  # the registry should not raise; the model must hear anyway
            logger.exception("= tool %s failed outside the registry", name)
            output = error_output(type(exc).__name__, f"tool {name!r} failed: {exc}", name)
        self._cancelled.discard(call_id)
        if call_id not in self.answered:
            self.answered.add(call_id)
            if not self._send_output(call_id, output if isinstance(output, str) else str(output)):
                logger.info("= output of call %s held for the next session", call_id)
        self._open.get(response_id, set()).discard(call_id)
        self._maybe_continue(response_id)

    def _maybe_continue(self, response_id: str) -> None:
        if response_id not in self._finished or self._open.get(response_id):
            return
        had_calls = response_id in self._open
        completed = self._finished.pop(response_id)
        self._open.pop(response_id, None)
        halted = response_id in self._halted
        self._halted.discard(response_id)
        if had_calls and completed and not halted:
            self._request_response()
