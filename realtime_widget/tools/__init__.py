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
* or ``{"error": {"type": ..., "message": ...}}`` for an unknown tool (``unknown_tool``),
  arguments that are not JSON (``invalid_json``) or do not match the schema
  (``invalid_arguments``, naming each field), an exception (its class name and message; the
  traceback goes to the ``realtime_widget.tools`` logger and ``record.traceback``), a timeout
  (``timeout``), a declined approval (``denied``) or a result that cannot be shown
  (``unserializable_result``). Every call is answered exactly once.

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
from realtime_widget.tools.decorator import DEFAULT_TIMEOUT, ToolOptions, tool
from realtime_widget.tools.history import ToolCallHistory, ToolCallRecord
from realtime_widget.tools.invoke import RegisteredTool, error_output, loop_executor
from realtime_widget.tools.registry import ToolRegistry
from realtime_widget.tools.schema import ToolDefinitionError, function_schema
from realtime_widget.tools.serialize import serialize_result, to_jsonable

__all__ = [
    "DEFAULT_TIMEOUT",
    "RegisteredTool",
    "ToolCallHistory",
    "ToolCallRecord",
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
