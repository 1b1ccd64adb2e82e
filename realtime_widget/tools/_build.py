"""Turning what ``ToolRegistry.add`` receives into a :class:`RegisteredTool`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime_widget.tools.decorator import ToolOptions, options_of
from realtime_widget.tools.invoke import RegisteredTool, is_async_callable
from realtime_widget.tools.schema import ToolDefinitionError, _check_name, build_signature

__all__ = ["tool_from_definition", "tool_from_function"]


def tool_from_function(fn: Callable[..., Any], options: dict[str, Any]) -> RegisteredTool:
    """A tool whose definition comes from ``fn``'s signature; ``options`` override ``@tool``'s."""
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


def tool_from_definition(
    definition: dict[str, Any], handler: Callable[..., Any] | None, options: dict[str, Any]
) -> RegisteredTool:
    """The seed client's form: a definition dict and a handler taking the arguments dict."""
    name = definition.get("name")
    if not isinstance(name, str) or not name:
        raise ToolDefinitionError(
            "a tool definition needs a 'name', e.g. {'name': 'get_weather', "
            "'description': ..., 'parameters': {...}}"
        )
    _check_name(name)
    if not callable(handler):
        raise ToolDefinitionError(
            f"tool {name!r}: add(definition, handler) needs a callable handler that takes "
            f"the arguments dict"
        )
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
        options=ToolOptions().merged(**options),
        signature=None,
        is_async=is_async_callable(handler),
    )
