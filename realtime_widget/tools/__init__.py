"""Tools: plain notebook functions offered to the realtime model.

``@tool`` marks a function (bare or with options); a :class:`ToolRegistry` holds the tools of a
session, builds their definitions from signatures, type hints and docstrings (through pydantic),
and runs the model's calls safely. ``client.tool`` and ``widget.tool`` register into the
client's registry; re-running a cell replaces the tool and updates a live session.

Example:
    >>> from typing import Literal
    >>> registry = ToolRegistry()
    >>> @registry.tool(timeout=5)
    ... def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict:
    ...     '''Current weather for a city.
    ...
    ...     Args:
    ...         city: The city name.
    ...     '''
    ...     return {"city": city, "temp": 21, "unit": unit}

What the model gets back (``record.output``, sent as the ``function_call_output``):

* the result: a ``str`` as is; anything else as compact JSON (dataclasses, pydantic models,
  numpy scalars and small arrays, dates...). Big arrays, DataFrames, Series and bytes are
  summarised (shape, dtype/columns, first rows); any output is cut at ``max_output_chars``.
* or, when the call fails, ``{"summary": "The tool NAME failed: TYPE: MESSAGE.", "error":
  {"type": ..., "message": ...}}`` (a sentence to say first, then the fields) for an unknown
  tool (``unknown_tool``), arguments that are not JSON (``invalid_json``) or do not match the schema
  (``invalid_arguments``, naming each field), an exception (its class name and message; the
  traceback goes to the ``realtime_widget.tools`` logger and ``record.traceback``), a timeout
  (``timeout``), a declined approval (``denied``), a cancellation (``cancelled``: "The tool
  NAME was cancelled by the user.") or a result that cannot be shown
  (``unserializable_result``). Every call is answered exactly once.

Cancelling: ``registry.cancel(call_id)`` / ``registry.cancel_all()`` (the client's
``cancel_tools()``, the widget's Stop button and ``w.cancel()``) end a running call at once with
the cancellation output. An async tool gets ``asyncio.CancelledError``; a sync tool cannot be
stopped from outside, so it may declare a parameter annotated :class:`CancelToken` (left out of
the schema) and check ``token.cancelled`` / ``token.raise_if_cancelled()`` or sleep with
``token.wait(seconds)``. A sync tool without a token runs to completion in its thread and its
late result is dropped.

Arguments are validated and coerced by the same pydantic model that produced the schema (``"3"``
becomes ``3``, a dict becomes your dataclass); arguments the schema does not list are ignored.

Where tools run: async tools as tasks on the loop that invokes them (the client's runtime loop);
sync tools in a fresh daemon thread per call, so audio never stalls; ``thread="main"`` tools on
the kernel's main thread through ``registry.main_thread_executor`` (see
:func:`kernel_main_thread_executor`). A sync tool that overruns its timeout cannot be stopped
(Python threads cannot be killed): the model gets a timeout error at once, the thread runs on,
and its late result is logged and discarded, never sent.

``requires_approval=True`` makes a call wait for ``registry.approve(call_id)`` /
``registry.deny(call_id, reason)`` (any thread; the widget shows buttons) or the registry's
``approval_callback``. Every call is kept in ``registry.history`` (``.to_dataframe()``).
"""

from realtime_widget.tools._kernel import kernel_main_thread_executor
from realtime_widget.tools.cancel import CancelToken, ToolCancelled
from realtime_widget.tools.decorator import DEFAULT_TIMEOUT, ToolOptions, tool
from realtime_widget.tools.history import ToolCallHistory, ToolCallRecord
from realtime_widget.tools.invoke import RegisteredTool, error_output, loop_executor
from realtime_widget.tools.registry import ToolRegistry
from realtime_widget.tools.schema import ToolDefinitionError, function_schema
from realtime_widget.tools.serialize import serialize_result, to_jsonable

__all__ = [
    "DEFAULT_TIMEOUT",
    "CancelToken",
    "RegisteredTool",
    "ToolCallHistory",
    "ToolCallRecord",
    "ToolCancelled",
    "ToolDefinitionError",
    "ToolOptions",
    "ToolRegistry",
    "error_output",
    "function_schema",
    "kernel_main_thread_executor",
    "loop_executor",
    "serialize_result",
    "to_jsonable",
    "tool",
]
