"""Running one tool call safely: parse, validate, run (async task, worker or main thread), timeout.

Every failure becomes a :class:`CallError` with a type and a message the model can act on; the
registry turns it into the ``{"summary", "error": {"type", "message"}}`` output
(``protocol.tool_outputs``). Nothing here sends anything: it returns a value or raises
``CallError``.

Cancellation (issue 15): each call has a :class:`~realtime_widget.tools.cancel.CancelToken`.
Cancelling it ends the wait at once with a ``cancelled`` error: an async tool's task is cancelled
(``asyncio.CancelledError`` inside the tool), a sync tool learns it from the token if it took
one, and otherwise runs on like a timed-out one, its late result dropped.

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
from pathlib import Path
from typing import Any

import pydantic

from realtime_widget.protocol.tool_outputs import CANCELLED, CANCELLED_MESSAGE
from realtime_widget.protocol.tool_outputs import error_output as _error_output
from realtime_widget.tools.cancel import CancelToken, ToolCancelled
from realtime_widget.tools.decorator import ToolOptions
from realtime_widget.tools.history import ToolCallRecord
from realtime_widget.tools.schema import ToolSignature
from realtime_widget.tools.serialize import SerializeLimits, serialize_result

__all__ = [
    "MAX_TRACEBACK_CHARS",
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


MAX_TRACEBACK_CHARS = 16_000
"""Characters of a failing tool's traceback kept on its record (the innermost frames win)."""


def cancelled_error() -> CallError:
    """The error of a call the user cancelled."""
    return CallError(CANCELLED, CANCELLED_MESSAGE, status="cancelled")


def error_output(type_: str, message: str, tool: str | None = None) -> str:
    """The output string for a failed call: a sentence to say, then the structured error.

    ``{"summary": "The tool NAME failed: TYPE: MESSAGE.", "error": {"type", "message"}}``
    (see :mod:`realtime_widget.protocol.tool_outputs`).
    """
    return _error_output(type_, message, tool)


# realtime_widget/ itself (a tool defined inside the package would lose its frames: none is).
_PACKAGE_DIR = str(Path(__file__).resolve().parent.parent)


def tool_traceback(exc: BaseException) -> str:
    """The formatted traceback of a tool's exception, from the tool's own frames on.

    The frames of the machinery that ran the tool (``run_tool``, ``execute``, the worker
    thread) say nothing to the tool's author, so they are skipped when the tool's frames follow.
    """
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))


def bounded_traceback(text: str, limit: int = MAX_TRACEBACK_CHARS) -> str:
    """``text`` cut to about ``limit`` characters: its first line and its end are kept.

    A recursion error's traceback can be megabytes; the frames that matter are the last ones
    (where it raised) and the exception line, so the middle goes.
    """
    if len(text) <= limit:
        return text
    head, _, _ = text.partition("\n")
    tail = text[-(limit - len(head) - 80) :]
    tail = tail[tail.find("\n") + 1 :]  # start on a whole line
    return f"{head}\n  ... ({len(text) - len(head) - len(tail)} characters cut) ...\n{tail}"


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


def _discard_late(name: str, call_id: str, why: str) -> Callable[[Any], None]:
    def callback(fut: Any) -> None:
        if fut.cancelled():
            return
        exc = fut.exception()
        if isinstance(exc, ToolCancelled | asyncio.CancelledError):
            return  # the tool saw its token and stopped: what cancelling asked for
        outcome = f"raised {type(exc).__name__}: {exc}" if exc else "returned"
        # A timeout is the developer's to fix (a warning); a cancel was the user's wish (info).
        level = logging.INFO if why == "cancelled" else logging.WARNING
        logger.log(
            level,
            "= tool %s (call %s) %s after it was %s; the late result was discarded "
            "(the model was already told)",
            name,
            call_id,
            outcome,
            why,
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


def _cancelled_future(
    token: CancelToken | None,
) -> tuple[asyncio.Future[None] | None, Callable[[], None]]:
    """A future of this loop that resolves when ``token`` is cancelled (from any thread)."""
    if token is None:
        return None, lambda: None
    loop = asyncio.get_running_loop()
    fired: asyncio.Future[None] = loop.create_future()

    def settle() -> None:
        if not fired.done():
            fired.set_result(None)

    def on_cancel() -> None:
        try:
            loop.call_soon_threadsafe(settle)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    return fired, token.add_callback(on_cancel)


async def _await_with_timeout(
    tool: RegisteredTool,
    future: asyncio.Future[Any],
    call_id: str,
    on_abandon: Callable[[], None],
    token: CancelToken | None = None,
) -> Any:
    fired, unsubscribe = _cancelled_future(token)
    waiters: set[asyncio.Future[Any]] = {future} if fired is None else {future, fired}
    try:
        done, _ = await asyncio.wait(
            waiters, timeout=tool.options.timeout, return_when=asyncio.FIRST_COMPLETED
        )
    except asyncio.CancelledError:
        on_abandon()
        raise
    finally:
        unsubscribe()
        if fired is not None:
            fired.cancel()
    if future in done:
        return future.result()
    cancelled = token is not None and token.cancelled
    future.add_done_callback(
        _discard_late(tool.name, call_id, "cancelled" if cancelled else "timed out")
    )
    on_abandon()
    raise cancelled_error() if cancelled else _timeout_error(tool)


async def execute(
    tool: RegisteredTool,
    args: list[Any],
    kwargs: dict[str, Any],
    *,
    call_id: str,
    main_executor: MainThreadExecutor | None,
    token: CancelToken | None = None,
) -> Any:
    """Run the tool and return its result, honouring its thread choice, timeout and token.

    Args:
        tool: The tool.
        args: Positional arguments.
        kwargs: Keyword arguments.
        call_id: For log messages.
        main_executor: Runs callables on the kernel's main thread (``thread="main"``).
        token: Cancels the call; passed to the tool when it declares a ``CancelToken``
            parameter.

    Returns:
        What the tool returned (awaited if it was awaitable).

    Raises:
        CallError: ``timeout``, or ``cancelled`` once ``token`` is cancelled.
        Exception: Whatever the tool raised.
    """
    loop = asyncio.get_running_loop()
    if token is not None and tool.signature is not None and tool.signature.token_param:
        kwargs = {**kwargs, tool.signature.token_param: token}
    if token is not None and token.cancelled:
        raise cancelled_error()  # cancelled while waiting for approval: do not start it

    def call() -> Any:
        return tool.handler(*args, **kwargs)

    if tool.options.thread == "main" and main_executor is not None:
        future = asyncio.wrap_future(main_executor(call), loop=loop)
        return await _await_with_timeout(tool, future, call_id, lambda: None, token)
    if tool.options.thread == "main" and not tool.is_async:
        logger.info(
            "= tool %s asked for thread='main' but no main-thread executor is set (the widget "
            "sets one when displayed); running it in a worker thread instead",
            tool.name,
        )

    if tool.is_async:
        task = asyncio.ensure_future(call())
        result = await _await_with_timeout(tool, task, call_id, task.cancel, token)
    else:
        # Nothing to stop on timeout or cancel: the thread runs on (told through the token if
        # it took one); its late result is logged and dropped.
        future = asyncio.wrap_future(_start_thread(call, tool.name), loop=loop)
        result = await _await_with_timeout(tool, future, call_id, lambda: None, token)
    if inspect.isawaitable(result):
        # A sync callable that returned a coroutine (e.g. a wrapper around an async function).
        inner = asyncio.ensure_future(result)
        result = await _await_with_timeout(tool, inner, call_id, inner.cancel, token)
    return result


async def run_tool(
    tool: RegisteredTool,
    args: list[Any],
    kwargs: dict[str, Any],
    record: ToolCallRecord,
    *,
    main_executor: MainThreadExecutor | None,
    limits: SerializeLimits,
    token: CancelToken | None = None,
) -> tuple[Any, str]:
    """Run a validated (and approved) call and serialise its result; fills ``record``.

    Returns:
        ``(result, output text)``.

    Raises:
        CallError: a timeout, a cancellation (``token``, or the tool raising
            :class:`ToolCancelled`), the tool's exception (type = its class name, message =
            its text; the traceback goes to the log and ``record.traceback``, at most
            :data:`MAX_TRACEBACK_CHARS`), or an unserialisable result.
    """
    record.status = "running"
    started = time.monotonic()
    try:
        result = await execute(
            tool, args, kwargs, call_id=record.call_id, main_executor=main_executor, token=token
        )
    except (Exception, SystemExit) as exc:  # SystemExit: sys.exit() in a tool ends only the call
        if isinstance(exc, CallError):
            raise
        if isinstance(exc, ToolCancelled):  # the tool saw its token and stopped: not a failure
            raise cancelled_error() from exc
        record.traceback = bounded_traceback(tool_traceback(exc))
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
