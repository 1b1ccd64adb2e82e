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
import inspect
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from realtime_widget.tools.approval import ApprovalBook, Decision
from realtime_widget.tools.decorator import ToolOptions, mark, options_of
from realtime_widget.tools.history import ToolCallHistory, ToolCallRecord, _now
from realtime_widget.tools.invoke import (
    CallError,
    MainThreadExecutor,
    RegisteredTool,
    bind_arguments,
    error_output,
    execute,
    is_async_callable,
    parse_arguments,
)
from realtime_widget.tools.schema import ToolDefinitionError, build_signature
from realtime_widget.tools.serialize import (
    DEFAULT_MAX_OUTPUT_CHARS,
    SerializeLimits,
    serialize_result,
)

__all__ = ["ToolRegistry"]

logger = logging.getLogger("realtime_widget.tools")

ApprovalCallback = Callable[[ToolCallRecord], Any]
"""``callback(record) -> bool | None | Awaitable[bool | None]``; None means "ask the user"."""


def _call_each(callbacks: list[Callable[..., Any]], *args: Any) -> None:
    for callback in callbacks:
        try:
            callback(*args)
        except Exception:  # a listener's bug must not break tool calls
            logger.exception("= tools listener %r raised", callback)


def _subscribe(lock: threading.RLock, callbacks: list[Any], callback: Any) -> Callable[[], None]:
    with lock:
        callbacks.append(callback)

    def unsubscribe() -> None:
        with lock:
            if callback in callbacks:
                callbacks.remove(callback)

    return unsubscribe


class ToolRegistry:
    """The tools a realtime session offers the model.

    Args:
        approval_callback: Decides ``requires_approval`` calls: ``callback(record)`` returns
            True (run), False (decline) or None (ask the user through ``approve``/``deny``);
            may be async.
        approval_timeout: Seconds to wait for a decision before declining; None waits forever.
        main_thread_executor: Runs ``thread="main"`` tools on the kernel's main thread (the
            widget sets it; see :func:`realtime_widget.tools.loop_executor`).
        max_output_chars: Cap on the text of one output sent to the model.

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
    ) -> None:
        self._lock = threading.RLock()
        self._tools: dict[str, RegisteredTool] = {}
        self._change_callbacks: list[Callable[[], Any]] = []
        self._approval_request_callbacks: list[Callable[[ToolCallRecord], Any]] = []
        self._record_callbacks: list[Callable[[ToolCallRecord], Any]] = []
        self._approvals = ApprovalBook()
        self.approval_callback = approval_callback
        self.approval_timeout = approval_timeout
        self.main_thread_executor = main_thread_executor
        self.limits = SerializeLimits(max_chars=max_output_chars)
        self.history = ToolCallHistory()
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
            registered = self._from_definition(fn_or_definition, handler, options)
        else:
            if handler is not None:
                raise ToolDefinitionError(
                    "add(fn, handler): a handler is only for the definition form "
                    "add({'name': ..., 'parameters': ...}, handler); pass just the function."
                )
            registered = self._from_function(fn_or_definition, options)
        with self._lock:
            replaced = self._tools.get(registered.name)
            self._tools[registered.name] = registered
            callbacks = list(self._change_callbacks)
        if replaced is not None:
            logger.info("= tool %s redefined", registered.name)
        _call_each(callbacks)
        return registered

    add_tool = add

    def _from_function(self, fn: Callable[..., Any], options: dict[str, Any]) -> RegisteredTool:
        if not callable(fn):
            raise ToolDefinitionError(
                f"add() takes a function or a definition dict, got {type(fn).__name__}"
            )
        merged = options_of(fn).merged(**options)
        signature = build_signature(fn, name=merged.name, description=merged.description)
        return RegisteredTool(
            name=signature.name,
            definition=signature.definition(),
            handler=fn,
            options=merged,
            signature=signature,
            is_async=is_async_callable(fn),
        )

    def _from_definition(
        self,
        definition: dict[str, Any],
        handler: Callable[..., Any] | None,
        options: dict[str, Any],
    ) -> RegisteredTool:
        name = definition.get("name")
        if not isinstance(name, str) or not name:
            raise ToolDefinitionError(
                "a tool definition needs a 'name', e.g. {'name': 'get_weather', "
                "'description': ..., 'parameters': {...}}"
            )
        if not callable(handler):
            raise ToolDefinitionError(
                f"tool {name!r}: add(definition, handler) needs a callable handler that takes "
                f"the arguments dict"
            )
        merged = ToolOptions().merged(**options)
        full = {
            "type": "function",
            "name": name,
            "description": definition.get("description", ""),
            "parameters": definition.get("parameters", {"type": "object", "properties": {}}),
        }
        full.update({k: v for k, v in definition.items() if k not in full})
        return RegisteredTool(
            name=name,
            definition=full,
            handler=handler,
            options=merged,
            signature=None,
            is_async=is_async_callable(handler),
        )

    def tool(self, fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Decorator: mark and register a function, bare (``@registry.tool``) or with options.

        Args:
            fn: The function when used bare.
            **options: As for :func:`realtime_widget.tools.tool`.

        Returns:
            The function unchanged (or a decorator when called with options only).
        """

        def decorate(f: Callable[..., Any]) -> Callable[..., Any]:
            mark(f, **options)
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
            callbacks = list(self._change_callbacks)
            names = sorted(self._tools)
        if removed is None:
            if missing_ok:
                return
            raise KeyError(f"no tool named {name!r}; registered tools: {names}")
        _call_each(callbacks)

    remove_tool = remove

    def clear(self) -> None:
        """Unregister every tool (one change notification)."""
        with self._lock:
            had = bool(self._tools)
            self._tools.clear()
            callbacks = list(self._change_callbacks)
        if had:
            _call_each(callbacks)

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
        return _subscribe(self._lock, self._change_callbacks, callback)

    def on_approval_request(self, callback: Callable[[ToolCallRecord], Any]) -> Callable[[], None]:
        """Call ``callback(record)`` when a call starts waiting for ``approve``/``deny``.

        Returns:
            A function that unsubscribes the callback.
        """
        return _subscribe(self._lock, self._approval_request_callbacks, callback)

    def on_record(self, callback: Callable[[ToolCallRecord], Any]) -> Callable[[], None]:
        """Call ``callback(record)`` when a call arrives, waits for approval, and finishes.

        Returns:
            A function that unsubscribes the callback.
        """
        return _subscribe(self._lock, self._record_callbacks, callback)

    def _notify_record(self, record: ToolCallRecord) -> None:
        with self._lock:
            callbacks = list(self._record_callbacks)
        _call_each(callbacks, record)

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

    async def _decision(self, record: ToolCallRecord) -> Decision:
        callback = self.approval_callback
        if callback is not None:
            try:
                verdict = callback(record)
                if inspect.isawaitable(verdict):
                    verdict = await asyncio.wait_for(verdict, self.approval_timeout)
            except asyncio.TimeoutError:
                return Decision(False, "timeout", f"no decision within {self.approval_timeout} s")
            except Exception as exc:
                logger.exception("= approval callback raised for call %s", record.call_id)
                return Decision(False, "callback", f"the approval callback failed: {exc!r}")
            if verdict is not None:
                return Decision(bool(verdict), "callback")
        future = self._approvals.open(record)
        try:
            self._notify_record(record)
            with self._lock:
                callbacks = list(self._approval_request_callbacks)
            _call_each(callbacks, record)
            return await asyncio.wait_for(future, self.approval_timeout)
        except asyncio.TimeoutError:
            return Decision(False, "timeout", f"no decision within {self.approval_timeout} s")
        finally:
            self._approvals.close(record.call_id)

    async def _approve_or_raise(self, tool: RegisteredTool, record: ToolCallRecord) -> None:
        record.status = "awaiting_approval"
        decision = await self._decision(record)
        if decision.approved:
            record.approved_by = decision.by
            return
        who = "The user" if decision.by not in ("callback", "timeout") else "The approval policy"
        if decision.by == "timeout":
            who = "Nobody approved this call in time;"
        reason = f" ({decision.reason})" if decision.reason else ""
        raise CallError(
            "denied",
            f"{who} declined this call of {tool.name}{reason}. Do not call it again unless the "
            f"user asks; tell them what you wanted to do instead.",
            status="denied",
        )

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
            ``{"error": {"type", "message"}}`` for unknown tool, invalid JSON, invalid
            arguments, an exception, a timeout, a declined approval or an unserialisable result.
        """
        if not isinstance(arguments, str):
            arguments = json.dumps(arguments, default=repr)
        record = ToolCallRecord(call_id=call_id, name=name, arguments=arguments, started_at=_now())
        self.history.append(record)
        self._notify_record(record)
        started = time.monotonic()
        try:
            record.result, record.output = await self._run(record)
            record.status = "ok"
        except CallError as exc:
            record.error, record.output = exc.payload(), error_output(exc.type, exc.message)
            record.status = exc.status  # type: ignore[assignment]
        except asyncio.CancelledError:
            record.error = {"type": "cancelled", "message": "The call was cancelled."}
            record.output = error_output("cancelled", "The call was cancelled.")
            record.status = "cancelled"
            raise
        except Exception as exc:  # a bug of ours: still answer the model
            logger.exception("= internal error while invoking tool %s (call %s)", name, call_id)
            record.error = {"type": "internal_error", "message": repr(exc)}
            record.output = error_output("internal_error", f"The tool call failed: {exc!r}")
            record.status = "error"
        finally:
            record.duration = time.monotonic() - started
            record.finished_at = _now()
            self._notify_record(record)
        return record

    async def _run(self, record: ToolCallRecord) -> tuple[Any, str]:
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
            self._notify_record(record)
        record.status = "running"
        started = time.monotonic()
        try:
            result = await execute(
                tool,
                args,
                kwargs,
                call_id=record.call_id,
                main_executor=self.main_thread_executor,
            )
        except (Exception, SystemExit) as exc:
            if isinstance(exc, CallError):
                raise
            record.traceback = "".join(traceback.format_exception(exc))
            logger.error(
                "= tool %s (call %s) raised\n%s", tool.name, record.call_id, record.traceback
            )
            raise CallError(type(exc).__name__, str(exc) or repr(exc)) from exc
        finally:
            record.run_duration = time.monotonic() - started
        try:
            return result, serialize_result(result, self.limits)
        except Exception as exc:
            logger.exception("= result of tool %s could not be serialised", tool.name)
            raise CallError(
                "unserializable_result",
                f"Tool {tool.name} returned a {type(result).__name__} that could not be turned "
                f"into text ({exc!r}).",
            ) from exc
