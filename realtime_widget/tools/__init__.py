"""Tools: plain notebook functions offered to the realtime model.

``@tool`` marks a function (bare or with options); a :class:`ToolRegistry` holds the tools of a
session, builds their definitions from signatures, type hints and docstrings (through pydantic),
and runs the model's calls safely: every call is answered exactly once, with the serialised result
or a structured error the model can act on. Every call is recorded in ``registry.history``.

Example:
    >>> registry = ToolRegistry()
    >>> @registry.tool(timeout=5)
    ... def get_weather(city: str) -> dict:
    ...     '''Current weather for a city.'''
    ...     return {"city": city, "temp_c": 21}

A sync tool that overruns its timeout cannot be stopped (Python threads cannot be killed): the model
is answered with a timeout error at once, the thread runs on, and its late result is discarded.
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
