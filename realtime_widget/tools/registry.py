"""``ToolRegistry``: the tools of a session, their definitions, and safe invocation.

The registry is shared by the client (which sends ``definitions()`` in ``session.update`` and calls
``invoke`` for each ``function_call`` item), the widget (which shows the history and the approve /
deny buttons) and the notebook (which adds tools from cells). So every method may be called from
any thread; tool calls themselves run on whatever loop awaits ``invoke`` (the runtime loop when
the client drives them).

``invoke`` never raises: whatever goes wrong becomes an error output the model can act on, so a
call is always answered exactly once (DESIGN §8: "a raising or unknown tool leaving the model
waiting forever").
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from realtime_widget.tools._build import tool_from_definition, tool_from_function
from realtime_widget.tools._listeners import Listeners
from realtime_widget.tools.approval import (
    ApprovalBook,
    Decision,
    denial_message,
    request_decision,
)
from realtime_widget.tools.cancel import CancelToken
from realtime_widget.tools.decorator import attach_options
from realtime_widget.tools.history import ToolCallHistory, ToolCallRecord, _now
from realtime_widget.tools.invoke import (
    CallError,
    MainThreadExecutor,
    RegisteredTool,
    bind_arguments,
    cancelled_error,
    error_output,
    parse_arguments,
    run_tool,
)
from realtime_widget.tools.schema import ToolDefinitionError
from realtime_widget.tools.serialize import DEFAULT_MAX_OUTPUT_CHARS, SerializeLimits

__all__ = ["ToolRegistry"]

logger = logging.getLogger("realtime_widget.tools")

ApprovalCallback = Callable[[ToolCallRecord], Any]
"""``callback(record) -> bool | None | Awaitable[bool | None]``; None means "ask the user"."""


class ToolRegistry:
    """The tools a realtime session offers the model.

    Args:
        approval_callback: Decides ``requires_approval`` calls: ``callback(record)`` returns
            True (run), False (decline) or None (ask the user through ``approve``/``deny``).
            It is called on the loop running the call, so it must not block: make it async (or
            return an awaitable) to decide later.
        approval_timeout: Seconds to wait for a decision before declining; None waits forever.
        main_thread_executor: Runs ``thread="main"`` tools on the kernel's main thread (the
            widget sets it; see :func:`realtime_widget.tools.loop_executor`).
        max_output_chars: Cap on the text of one output sent to the model.
        max_history: How many call records :attr:`history` keeps (oldest dropped first);
            None keeps all.

    Example:
        >>> registry = ToolRegistry()
        >>> @registry.tool
        ... def add(a: int, b: int) -> int:
        ...     '''Add two integers.'''
        ...     return a + b
        >>> [d["name"] for d in registry.definitions()]
        ['add']
    """

    def __init__(
        self,
        *,
        approval_callback: ApprovalCallback | None = None,
        approval_timeout: float | None = None,
        main_thread_executor: MainThreadExecutor | None = None,
        max_output_chars: int = DEFAULT_MAX_OUTPUT_CHARS,
        max_history: int | None = 1000,
    ) -> None:
        self._lock = threading.RLock()
        self._tools: dict[str, RegisteredTool] = {}
        self._change_listeners = Listeners()
        self._approval_listeners = Listeners()
        self._record_listeners = Listeners()
        self._approvals = ApprovalBook()
        self._tokens: dict[str, CancelToken] = {}  # call id -> token, while the call is open
        self.approval_callback = approval_callback
        self.approval_timeout = approval_timeout
        self.main_thread_executor = main_thread_executor
        self.limits = SerializeLimits(max_chars=max_output_chars)
        self.history = ToolCallHistory(maxlen=max_history)
        """Every call so far, oldest first (a list of :class:`ToolCallRecord`)."""

    # ------------------------------------------------------------------ registration
    def add(
        self,
        fn_or_definition: Callable[..., Any] | dict[str, Any],
        handler: Callable[..., Any] | None = None,
        **options: Any,
    ) -> RegisteredTool:
        """Register a tool, replacing any tool of the same name (re-running a cell).

        Two forms:

        * ``add(fn, **options)``: the definition is built from ``fn``'s signature and
          docstring; options (``name``, ``description``, ``timeout``, ``requires_approval``,
          ``thread``) override those given with ``@tool``.
        * ``add(definition, handler, **options)`` (the seed client's form): ``definition`` is
          ``{"name", "description", "parameters"}``; ``handler(arguments_dict)`` receives the
          parsed arguments unvalidated.

        Args:
            fn_or_definition: A function, or a definition dict.
            handler: The handler for the definition form.
            **options: Tool options.

        Returns:
            The registered tool.

        Raises:
            ToolDefinitionError: The function cannot be a tool, or the definition is malformed;
                the message says how to fix it.
        """
        if isinstance(fn_or_definition, dict):
            registered = tool_from_definition(fn_or_definition, handler, options)
        else:
            if handler is not None:
                raise ToolDefinitionError(
                    "add(fn, handler): a handler is only for the definition form "
                    "add({'name': ..., 'parameters': ...}, handler); pass just the function."
                )
            registered = tool_from_function(fn_or_definition, options)
        with self._lock:
            replaced = self._tools.get(registered.name)
            self._tools[registered.name] = registered
        if replaced is not None:
            logger.info("= tool %s redefined", registered.name)
        self._change_listeners.fire()
        return registered

    add_tool = add

    def tool(self, fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Decorator: mark and register a function, bare (``@registry.tool``) or with options.

        Args:
            fn: The function when used bare.
            **options: As for :func:`realtime_widget.tools.tool`.

        Returns:
            The function unchanged (or a decorator when called with options only).
        """

        def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
            attach_options(f, **options)
            self.add(f, **options)
            return f

        return decorate(fn) if fn is not None else decorate

    def remove(self, name: str, *, missing_ok: bool = False) -> None:
        """Unregister a tool. Calls already running finish and are answered normally.

        Args:
            name: Tool name.
            missing_ok: Do nothing (instead of raising) when there is no such tool.

        Raises:
            KeyError: No tool of that name (unless ``missing_ok``).
        """
        with self._lock:
            removed = self._tools.pop(name, None)
            names = sorted(self._tools)
        if removed is None:
            if missing_ok:
                return
            raise KeyError(f"no tool named {name!r}; registered tools: {names}")
        self._change_listeners.fire()

    remove_tool = remove

    def clear(self) -> None:
        """Unregister every tool (one change notification)."""
        with self._lock:
            had = bool(self._tools)
            self._tools.clear()
        if had:
            self._change_listeners.fire()

    def definitions(self) -> list[dict[str, Any]]:
        """The ``session.tools`` list: one ``{"type": "function", ...}`` dict per tool."""
        with self._lock:
            return [copy.deepcopy(t.definition) for t in self._tools.values()]

    def get(self, name: str) -> RegisteredTool | None:
        """The registered tool called ``name``, or None."""
        with self._lock:
            return self._tools.get(name)

    def __getitem__(self, name: str) -> RegisteredTool:
        tool = self.get(name)
        if tool is None:
            raise KeyError(f"no tool named {name!r}; registered tools: {list(self)}")
        return tool

    def __contains__(self, name: object) -> bool:
        with self._lock:
            return name in self._tools

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(list(self._tools))

    def __len__(self) -> int:
        with self._lock:
            return len(self._tools)

    def __repr__(self) -> str:
        return f"ToolRegistry(tools={list(self)!r}, calls={len(self.history)})"

    # ------------------------------------------------------------------ listeners
    def on_change(self, callback: Callable[[], Any]) -> Callable[[], None]:
        """Call ``callback()`` after every add, redefinition or removal.

        A connected client uses it to send ``session.update`` with the new ``definitions()``.
        Called on the thread that changed the registry.

        Returns:
            A function that unsubscribes the callback.
        """
        return self._change_listeners.subscribe(callback)

    def on_approval_request(self, callback: Callable[[ToolCallRecord], Any]) -> Callable[[], None]:
        """Call ``callback(record)`` when a call starts waiting for ``approve``/``deny``.

        Returns:
            A function that unsubscribes the callback.
        """
        return self._approval_listeners.subscribe(callback)

    def on_record(self, callback: Callable[[ToolCallRecord], Any]) -> Callable[[], None]:
        """Call ``callback(record)`` when a call arrives, waits for approval, and finishes.

        Returns:
            A function that unsubscribes the callback.
        """
        return self._record_listeners.subscribe(callback)

    # ------------------------------------------------------------------ approval
    @property
    def pending_approvals(self) -> list[ToolCallRecord]:
        """Calls waiting for ``approve``/``deny``, oldest first."""
        return self._approvals.pending()

    def approve(self, call_id: str, *, by: str = "user") -> bool:
        """Let a waiting call run. Callable from any thread.

        Args:
            call_id: The call's id (see :attr:`pending_approvals`).
            by: Recorded as ``record.approved_by``.

        Returns:
            False when no call with that id is waiting (already decided or unknown).
        """
        return self._decide(call_id, Decision(True, by))

    def deny(self, call_id: str, reason: str | None = None, *, by: str = "user") -> bool:
        """Decline a waiting call; the model is told the user declined. Any thread.

        Args:
            call_id: The call's id.
            reason: Optional explanation passed on to the model.
            by: Who declined.

        Returns:
            False when no call with that id is waiting.
        """
        return self._decide(call_id, Decision(False, by, reason))

    def _decide(self, call_id: str, decision: Decision) -> bool:
        if self._approvals.decide(call_id, decision):
            return True
        logger.warning(
            "= no tool call %s is waiting for approval (already decided or unknown); pending: %s",
            call_id,
            [r.call_id for r in self.pending_approvals],
        )
        return False

    # ------------------------------------------------------------------ cancellation
    @property
    def running(self) -> list[str]:
        """Call ids not finished yet (running or waiting for approval), oldest first."""
        with self._lock:
            return list(self._tokens)

    def cancel(self, call_id: str, reason: str = "cancelled by the user") -> bool:
        """Cancel a call that has not finished. Callable from any thread.

        Its ``invoke`` returns at once with status ``cancelled`` and a "cancelled by the user"
        output: an async tool gets ``asyncio.CancelledError``; a sync tool's
        :class:`~realtime_widget.tools.CancelToken` is set (a tool without one runs on in its
        thread and its late result is dropped); a call waiting for approval is not run.

        Args:
            call_id: The call's id.
            reason: Kept on the token (``token.reason``).

        Returns:
            False when no such call is open (unknown, finished, or cancelled already).
        """
        with self._lock:
            token = self._tokens.get(call_id)
        if token is None or not token.cancel(reason):
            return False
        # A call waiting for approve/deny: end the wait; `_approve_or_raise` sees the token.
        self._approvals.decide(call_id, Decision(False, "user", reason))
        logger.info("= tool call %s cancelled (%s)", call_id, reason)
        return True

    def cancel_all(self, reason: str = "cancelled by the user") -> list[str]:
        """Cancel every open call (see :meth:`cancel`); returns the ids cancelled."""
        return [call_id for call_id in self.running if self.cancel(call_id, reason)]

    async def _approve_or_raise(self, tool: RegisteredTool, record: ToolCallRecord) -> None:
        def announce(rec: ToolCallRecord) -> None:
            self._record_listeners.fire(rec)
            self._approval_listeners.fire(rec)

        decision = await request_decision(
            self._approvals,
            record,
            callback=self.approval_callback,
            timeout=self.approval_timeout,
            announce=announce,
        )
        token = self._tokens.get(record.call_id)
        if token is not None and token.cancelled:
            raise cancelled_error()
        if not decision.approved:
            raise CallError("denied", denial_message(tool.name, decision), status="denied")
        record.approved_by = decision.by

    # ------------------------------------------------------------------ invocation
    async def invoke(
        self, call_id: str, name: str, arguments: str | dict[str, Any]
    ) -> ToolCallRecord:
        """Run one tool call; never raises (except when this coroutine itself is cancelled).

        Args:
            call_id: The ``call_id`` of the ``function_call`` item.
            name: The tool name the model asked for.
            arguments: The JSON arguments string (a dict is accepted too).

        Returns:
            The finished :class:`ToolCallRecord`; ``record.output`` is the string to send as
            the ``function_call_output``: the serialised result, or
            ``{"summary": <a sentence to say>, "error": {"type", "message"}}`` for unknown tool,
            invalid JSON, invalid arguments, an exception, a timeout, a declined approval, a
            cancellation (:meth:`cancel`) or an unserialisable result.
        """
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, default=repr)
        record = ToolCallRecord(call_id=call_id, name=name, arguments=arguments, started_at=_now())
        token = CancelToken()
        with self._lock:
            self._tokens[call_id] = token
        self.history.add(record)
        self._record_listeners.fire(record)
        started = time.monotonic()
        try:
            record.result, record.output = await self._run(record, token)
            record.status = "ok"
        except CallError as exc:
            record.error = exc.payload()
            record.output = error_output(exc.type, exc.message, name)
            record.status = exc.status  # type: ignore[assignment]
        except asyncio.CancelledError:
            error = cancelled_error()
            record.error = error.payload()
            record.output = error_output(error.type, error.message, name)
            record.status = "cancelled"
            raise
        except Exception as exc:  # a bug of ours: still answer the model
            logger.exception("= internal error while invoking tool %s (call %s)", name, call_id)
            record.error = {"type": "internal_error", "message": repr(exc)}
            record.output = error_output("internal_error", f"The tool call failed: {exc!r}", name)
            record.status = "error"
        finally:
            with self._lock:
                if self._tokens.get(call_id) is token:
                    del self._tokens[call_id]
            record.duration = time.monotonic() - started
            record.finished_at = _now()
            self._record_listeners.fire(record)
        return record

    async def _run(self, record: ToolCallRecord, token: CancelToken) -> tuple[Any, str]:
        tool = self.get(record.name)
        if tool is None:
            raise CallError(
                "unknown_tool",
                f"There is no tool named {record.name!r}. Available tools: "
                f"{', '.join(self) or 'none'}.",
            )
        args, kwargs, record.parsed_arguments = bind_arguments(
            tool, parse_arguments(record.arguments)
        )
        if tool.options.requires_approval:
            await self._approve_or_raise(tool, record)
            self._record_listeners.fire(record)
        return await run_tool(
            tool,
            args,
            kwargs,
            record,
            main_executor=self.main_thread_executor,
            limits=self.limits,
            token=token,
        )
