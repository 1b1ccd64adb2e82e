"""Running one tool call safely: parse, validate, run (async task, worker or main thread), timeout.

Every failure becomes a :class:`CallError` with a type and a message the model can act on; the
registry turns it into the ``{"error": {"type", "message"}}`` output. Nothing here sends anything:
it returns a value or raises ``CallError``.

Threads: sync tools run on a fresh daemon thread per call rather than a pool. A tool that hangs
past its timeout cannot be killed (Python has no way to stop a thread); a daemon thread at least
neither exhausts a pool shared with other calls nor blocks the kernel from exiting. Its late
result is dropped (and logged), never sent: the call was already answered with a timeout error.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import inspect
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic

from realtime_widget.tools.decorator import ToolOptions
from realtime_widget.tools.history import ToolCallRecord
from realtime_widget.tools.schema import ToolSignature
from realtime_widget.tools.serialize import SerializeLimits, serialize_result

__all__ = [
    "CallError",
    "MainThreadExecutor",
    "RegisteredTool",
    "error_output",
    "execute",
    "loop_executor",
    "parse_arguments",
    "run_tool",
]

logger = logging.getLogger("realtime_widget.tools")

MainThreadExecutor = Callable[[Callable[[], Any]], "concurrent.futures.Future[Any]"]
"""Runs a zero-argument callable on the kernel's main thread and returns a future of its result.

If the callable returns an awaitable, the executor awaits it on the main loop and resolves the
future with the final value. :func:`loop_executor` builds one for an asyncio loop.
"""


class CallError(Exception):
    """A tool call that ends with an error output instead of a result."""

    def __init__(self, type_: str, message: str, *, status: str = "error") -> None:
        super().__init__(message)
        self.type = type_
        self.message = message
        self.status = status

    def payload(self) -> dict[str, str]:
        """The ``{"type", "message"}`` dict kept on the record."""
        return {"type": self.type, "message": self.message}


def error_output(type_: str, message: str) -> str:
    """The output string for a failed call: ``{"error": {"type": ..., "message": ...}}``."""
    return json.dumps({"error": {"type": type_, "message": message}}, ensure_ascii=False)


@dataclass(frozen=True)
class RegisteredTool:
    """A tool as the registry holds it.

    Attributes:
        name: Tool name.
        definition: The ``session.tools`` entry.
        handler: The function to call.
        options: How to run it.
        signature: The argument validator, or None for the seed form ``add(definition,
            handler)`` where the handler receives the arguments dict as is.
        is_async: True when calling the handler returns a coroutine to await.
    """

    name: str
    definition: dict[str, Any]
    handler: Callable[..., Any]
    options: ToolOptions
    signature: ToolSignature | None
    is_async: bool


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """True for coroutine functions, partials of them and objects with ``async __call__``."""
    if inspect.iscoroutinefunction(fn):
        return True
    if inspect.isroutine(fn) or isinstance(fn, type):
        return False
    return inspect.iscoroutinefunction(type(fn).__call__)  # an object with `async def __call__`


def parse_arguments(arguments: str) -> dict[str, Any]:
    """Parse the model's arguments string into a JSON object.

    Args:
        arguments: The ``arguments`` of the ``function_call`` item; empty means no arguments.

    Returns:
        The parsed object.

    Raises:
        CallError: ``invalid_json`` or ``invalid_arguments`` (not an object).
    """
    if arguments is None or not str(arguments).strip():
        return {}
    try:
        data = json.loads(arguments)
    except (TypeError, ValueError) as exc:
        raise CallError(
            "invalid_json",
            f"The arguments are not valid JSON ({exc}). Send one JSON object matching the "
            f"tool's parameters schema.",
        ) from exc
    if not isinstance(data, dict):
        raise CallError(
            "invalid_arguments",
            f"The arguments must be a JSON object of named parameters, got "
            f'{type(data).__name__}. Send e.g. {{"name": value}}.',
        )
    return data


def _validation_message(tool: str, exc: pydantic.ValidationError) -> str:
    problems = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err.get("loc", ())) or "(arguments)"
        given = err.get("input")
        shown = (
            "" if err.get("type") == "missing" else f" (got {json.dumps(given, default=repr)[:80]})"
        )
        problems.append(f"{where}: {err.get('msg')}{shown}")
    return (
        f"Invalid arguments for {tool}: "
        + "; ".join(problems)
        + ". Call the tool again with arguments that match its parameters schema."
    )


def bind_arguments(
    tool: RegisteredTool, data: dict[str, Any]
) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
    """Validate ``data`` for ``tool``: ``(args, kwargs, parsed)`` or ``CallError``."""
    if tool.signature is None:
        return [data], {}, dict(data)
    try:
        return tool.signature.bind(data)
    except pydantic.ValidationError as exc:
        raise CallError("invalid_arguments", _validation_message(tool.name, exc)) from exc


def _start_thread(fn: Callable[[], Any], name: str) -> concurrent.futures.Future[Any]:
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()
    context = contextvars.copy_context()

    def main() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            result = context.run(fn)
        except BaseException as exc:
            future.set_exception(exc)
        else:
            future.set_result(result)

    threading.Thread(target=main, name=f"realtime-tool-{name}", daemon=True).start()
    return future


def loop_executor(loop: asyncio.AbstractEventLoop) -> MainThreadExecutor:
    """A :data:`MainThreadExecutor` that runs callables on ``loop`` (e.g. the kernel's loop).

    Args:
        loop: The loop of the thread the tools must run on.

    Returns:
        ``submit(fn) -> concurrent.futures.Future``; awaitable results are awaited on ``loop``.
    """

    def submit(fn: Callable[[], Any]) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()

        def settle(task: asyncio.Future[Any]) -> None:
            if task.cancelled():
                future.cancel()
            elif task.exception() is not None:
                future.set_exception(task.exception())  # type: ignore[arg-type]
            else:
                future.set_result(task.result())

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn()
            except BaseException as exc:
                future.set_exception(exc)
                return
            if inspect.isawaitable(result):
                asyncio.ensure_future(result).add_done_callback(settle)
            else:
                future.set_result(result)

        loop.call_soon_threadsafe(run)
        return future

    return submit


def _discard_late(name: str, call_id: str) -> Callable[[Any], None]:
    def callback(fut: Any) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        outcome = f"raised {type(exc).__name__}: {exc}" if exc else "returned"
        logger.warning(
            "= tool %s (call %s) %s after its timeout; the late result was discarded "
            "(the model already got a timeout error)",
            name,
            call_id,
            outcome,
        )

    return callback


def _timeout_error(tool: RegisteredTool) -> CallError:
    return CallError(
        "timeout",
        f"Tool {tool.name} did not finish within {tool.options.timeout:g} s and was abandoned. "
        f"Tell the user it timed out; the developer can raise the limit with "
        f"@tool(timeout=...) (timeout=None waits forever).",
        status="timeout",
    )


async def _await_with_timeout(
    tool: RegisteredTool, future: asyncio.Future[Any], call_id: str, on_timeout: Callable[[], None]
) -> Any:
    try:
        done, _ = await asyncio.wait({future}, timeout=tool.options.timeout)
    except asyncio.CancelledError:
        on_timeout()
        raise
    if not done:
        future.add_done_callback(_discard_late(tool.name, call_id))
        on_timeout()
        raise _timeout_error(tool)
    return future.result()


async def execute(
    tool: RegisteredTool,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    call_id: str,
    main_executor: MainThreadExecutor | None,
) -> Any:
    """Run the tool and return its result, honouring its thread choice and timeout.

    Args:
        tool: The tool.
        args: Positional arguments.
        kwargs: Keyword arguments.
        call_id: For log messages.
        main_executor: Runs callables on the kernel's main thread (``thread="main"``).

    Returns:
        What the tool returned (awaited if it was awaitable).

    Raises:
        CallError: ``timeout``.
        Exception: Whatever the tool raised.
    """
    loop = asyncio.get_running_loop()

    def call() -> Any:
        return tool.handler(*args, **kwargs)

    if tool.options.thread == "main" and main_executor is not None:
        future = asyncio.wrap_future(main_executor(call), loop=loop)
        return await _await_with_timeout(tool, future, call_id, lambda: None)
    if tool.options.thread == "main" and not tool.is_async:
        logger.info(
            "= tool %s asked for thread='main' but no main-thread executor is set (the widget "
            "sets one when displayed); running it in a worker thread instead",
            tool.name,
        )

    if tool.is_async:
        task = asyncio.ensure_future(call())
        result = await _await_with_timeout(tool, task, call_id, task.cancel)
    else:
        # Nothing to cancel on timeout: the thread runs on; its late result is logged, dropped.
        future = asyncio.wrap_future(_start_thread(call, tool.name), loop=loop)
        result = await _await_with_timeout(tool, future, call_id, lambda: None)
    if inspect.isawaitable(result):
        # A sync callable that returned a coroutine (e.g. a wrapper around an async function).
        inner = asyncio.ensure_future(result)
        result = await _await_with_timeout(tool, inner, call_id, inner.cancel)
    return result


async def run_tool(
    tool: RegisteredTool,
    args: list[Any],
    kwargs: dict[str, Any],
    record: ToolCallRecord,
    *,
    main_executor: MainThreadExecutor | None,
    limits: SerializeLimits,
) -> tuple[Any, str]:
    """Run a validated (and approved) call and serialise its result; fills ``record``.

    Returns:
        ``(result, output text)``.

    Raises:
        CallError: a timeout, the tool's exception (type = its class name, message = its text;
            the traceback goes to the log and ``record.traceback``), or an unserialisable
            result.
    """
    record.status = "running"
    started = time.monotonic()
    try:
        result = await execute(
            tool, args, kwargs, call_id=record.call_id, main_executor=main_executor
        )
    except (Exception, SystemExit) as exc:  # SystemExit: sys.exit() in a tool ends only the call
        if isinstance(exc, CallError):
            raise
        record.traceback = "".join(traceback.format_exception(exc))
        logger.error("= tool %s (call %s) raised\n%s", tool.name, record.call_id, record.traceback)
        raise CallError(type(exc).__name__, str(exc) or repr(exc)) from exc
    finally:
        record.run_duration = time.monotonic() - started
    try:
        return result, serialize_result(result, limits)
    except Exception as exc:
        logger.exception("= result of tool %s could not be serialised", tool.name)
        raise CallError(
            "unserializable_result",
            f"Tool {tool.name} returned a {type(result).__name__} that could not be turned into "
            f"text ({exc!r}).",
        ) from exc
