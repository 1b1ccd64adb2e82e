"""Function signatures -> Realtime API tool definitions, and argument validation.

One pydantic model is built per tool from its signature. The same model gives the JSON schema sent
in ``session.tools`` and validates (and coerces) the arguments the model sends back, so what the
schema promises and what the function receives cannot drift apart.

Parameters become model fields under internal names with the parameter name as alias: that keeps
names such as ``model_config``, ``json`` or ``_private`` usable, which pydantic would otherwise
reserve.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic
from pydantic import BaseModel, ConfigDict, Field

from realtime_widget.tools._jsonschema import clean_schema, pydantic_compatible
from realtime_widget.tools.cancel import CancelToken
from realtime_widget.tools.docstrings import parse_docstring

__all__ = ["ToolDefinitionError", "ToolSignature", "build_signature", "function_schema"]

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
# Types a default value may stand in for when a parameter has no annotation.
_INFERABLE = (bool, int, float, str, list, dict, tuple)


class ToolDefinitionError(TypeError, ValueError):
    """A function cannot be a tool as written; the message names the problem and the fix.

    Both a ``TypeError`` (a function of the wrong shape) and a ``ValueError`` (a bad value,
    e.g. a tool name the Realtime API refuses), so either ``except`` catches it.
    """


@dataclass(frozen=True)
class _Param:
    field: str
    name: str
    positional_only: bool


@dataclass(frozen=True)
class ToolSignature:
    """A function's tool definition plus the validator for its arguments.

    Attributes:
        name: Tool name sent to the model.
        description: Tool description (the docstring's summary unless overridden).
        parameters: JSON schema of the arguments object.
        model: The pydantic model that validates arguments.
        params: How validated fields map back onto the function's parameters.
        token_param: The parameter annotated :class:`~realtime_widget.tools.CancelToken` (left
            out of the schema; each call gets a token there), or None.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    model: type[BaseModel]
    params: tuple[_Param, ...]
    token_param: str | None = None

    def definition(self) -> dict[str, Any]:
        """The ``session.tools`` entry: ``{"type", "name", "description", "parameters"}``."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }

    def bind(self, data: dict[str, Any]) -> tuple[list[Any], dict[str, Any], dict[str, Any]]:
        """Validate parsed arguments and map them onto the function's parameters.

        Args:
            data: The JSON object the model sent.

        Returns:
            ``(args, kwargs, parsed)``: positional-only values, keyword values, and all validated
            values keyed by parameter name.

        Raises:
            pydantic.ValidationError: The arguments do not match the schema.
        """
        instance = self.model.model_validate(data)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        parsed: dict[str, Any] = {}
        for p in self.params:
            value = getattr(instance, p.field)
            parsed[p.name] = value
            if p.positional_only:
                args.append(value)
            else:
                kwargs[p.name] = value
        return args, kwargs, parsed


def _target(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The object whose annotations and docstring describe ``fn``."""
    if isinstance(fn, functools.partial):
        return fn.func
    if not inspect.isroutine(fn) and not isinstance(fn, type) and callable(fn):
        return type(fn).__call__  # a callable instance
    return fn


def tool_name_of(fn: Callable[..., Any]) -> str:
    """The default tool name of ``fn`` (its ``__name__``)."""
    return getattr(_target(fn), "__name__", type(fn).__name__)


def _check_name(name: str) -> str:
    # fullmatch: "$" would also match before a trailing newline.
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        shown = repr(name) if len(repr(name)) <= 80 else f"{repr(name)[:60]}... ({len(name)} chars)"
        raise ToolDefinitionError(
            f"tool name {shown} is not allowed: the Realtime API needs 1-64 letters, digits, "
            f"'_' or '-'. Pass such a name, e.g. @tool(name='my_tool') or {{'name': 'my_tool'}}."
        )
    return name


def _hints(fn: Callable[..., Any], name: str) -> dict[str, Any]:
    target = _target(fn)
    try:
        return typing.get_type_hints(target, include_extras=True)
    except NameError as exc:
        raise ToolDefinitionError(
            f"tool {name!r}: a type hint refers to a name that is not defined ({exc}). Define "
            f"or import that type before registering the tool."
        ) from exc
    except TypeError:
        return dict(getattr(target, "__annotations__", {}) or {})


def _annotation(param: inspect.Parameter, hints: dict[str, Any], tool: str) -> Any:
    if param.name in hints:
        return pydantic_compatible(hints[param.name])
    default = param.default
    if default is not inspect.Parameter.empty and isinstance(default, _INFERABLE):
        return type(default)
    example = f"`{param.name}: str`"
    raise ToolDefinitionError(
        f"tool {tool!r}: parameter {param.name!r} has no type hint"
        + (
            " and its default does not say which type"
            if default is not inspect.Parameter.empty
            else ""
        )
        + f"; annotate it (e.g. {example}) so the model knows what to send."
    )


def _is_token(hint: Any) -> bool:
    """Whether a type hint asks for a :class:`CancelToken` (also ``CancelToken | None``)."""
    if hint is CancelToken:
        return True
    args = typing.get_args(hint)
    if typing.get_origin(hint) is typing.Annotated:
        return _is_token(args[0])
    return bool(args) and CancelToken in args and all(a in (CancelToken, type(None)) for a in args)


def _docstring_descriptions(fn: Callable[..., Any]) -> tuple[str, dict[str, str]]:
    parsed = parse_docstring(inspect.getdoc(_target(fn)))
    return parsed.description, parsed.params


def _field_info(param: inspect.Parameter) -> pydantic.fields.FieldInfo:
    if param.default is inspect.Parameter.empty:
        return Field(alias=param.name)
    return Field(default=param.default, alias=param.name)


def _diagnose(
    fields: dict[str, tuple[Any, Any]], params: list[_Param], tool: str, exc: Exception
) -> ToolDefinitionError:
    """Find which parameter's type pydantic cannot handle, for a useful message."""
    for p in params:
        annotation = fields[p.field][0]
        try:
            pydantic.TypeAdapter(annotation).json_schema()
        except Exception as inner:
            return ToolDefinitionError(
                f"tool {tool!r}: parameter {p.name!r} has type {annotation!r}, which cannot be "
                f"described as JSON ({type(inner).__name__}: {str(inner).splitlines()[0]}). Use "
                f"JSON-friendly types: str, int, float, bool, list, dict, Literal, Enum, "
                f"TypedDict, dataclasses or pydantic models."
            )
    return ToolDefinitionError(f"tool {tool!r}: cannot build a schema: {exc}")


def build_signature(
    fn: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> ToolSignature:
    """Build the definition and argument validator of a tool function.

    Args:
        fn: A function, coroutine function, bound method, ``functools.partial`` or callable
            object.
        name: Tool name (defaults to the function's ``__name__``).
        description: Tool description (defaults to the docstring's summary).

    Returns:
        The :class:`ToolSignature`.

    Raises:
        ToolDefinitionError: The signature cannot be expressed as a tool (``*args``,
            ``**kwargs``, untyped parameters, types with no JSON form, a bad name); the
            message names the parameter and the fix.
    """
    if not callable(fn):
        raise ToolDefinitionError(f"a tool must be a function, got {type(fn).__name__}")
    tool = _check_name(name or tool_name_of(fn))
    if inspect.isasyncgenfunction(_target(fn)) or inspect.isgeneratorfunction(_target(fn)):
        raise ToolDefinitionError(
            f"tool {tool!r} is a generator; tools return one value. Collect the items and "
            f"return a list instead of using `yield`."
        )
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as exc:
        raise ToolDefinitionError(f"tool {tool!r}: cannot read its signature ({exc})") from exc
    hints = _hints(fn, tool)
    summary, param_docs = _docstring_descriptions(fn)

    fields: dict[str, tuple[Any, Any]] = {}
    params: list[_Param] = []
    token_param: str | None = None
    for i, param in enumerate(signature.parameters.values()):
        if param.name in hints and _is_token(hints[param.name]):
            # The registry passes the call's cancel token here; the model never sees it.
            if token_param is not None or param.kind is inspect.Parameter.POSITIONAL_ONLY:
                raise ToolDefinitionError(
                    f"tool {tool!r}: parameter {param.name!r}: a tool takes at most one "
                    f"CancelToken, as a named (not positional-only) parameter, e.g. "
                    f"`cancel: CancelToken`."
                )
            token_param = param.name
            continue
        if param.kind is inspect.Parameter.VAR_POSITIONAL:
            raise ToolDefinitionError(
                f"tool {tool!r}: *{param.name} is not supported (the model sends named "
                f"arguments). Replace it with a named parameter, e.g. `{param.name}: list[str]`."
            )
        if param.kind is inspect.Parameter.VAR_KEYWORD:
            raise ToolDefinitionError(
                f"tool {tool!r}: **{param.name} is not supported (the model needs every "
                f"parameter in the schema). Declare each argument, or take one "
                f"`{param.name}: dict[str, str]` parameter."
            )
        annotation = _annotation(param, hints, tool)
        field = f"p{i}"
        fields[field] = (annotation, _field_info(param))
        params.append(_Param(field, param.name, param.kind is inspect.Parameter.POSITIONAL_ONLY))

    try:
        model = pydantic.create_model(  # type: ignore[call-overload]
            f"{tool}_arguments", __config__=ConfigDict(protected_namespaces=()), **fields
        )
        parameters = clean_schema(model.model_json_schema())
    except ToolDefinitionError:
        raise
    except Exception as exc:
        raise _diagnose(fields, params, tool, exc) from exc

    properties = parameters.setdefault("properties", {})
    for p in params:
        doc = param_docs.get(p.name)
        if doc and isinstance(properties.get(p.name), dict):
            properties[p.name].setdefault("description", doc)
    return ToolSignature(
        name=tool,
        description=summary if description is None else description,
        parameters=parameters,
        model=model,
        params=tuple(params),
        token_param=token_param,
    )


def function_schema(
    fn: Callable[..., Any], *, name: str | None = None, description: str | None = None
) -> dict[str, Any]:
    """The Realtime API tool definition of a Python function.

    Built from the signature, the type hints (through pydantic) and the docstring (Google,
    NumPy or reST parameter sections; the summary becomes the description). Options given with
    :func:`~realtime_widget.tools.tool` (name, description) are honoured.

    Args:
        fn: The tool function.
        name: Overrides the tool name.
        description: Overrides the description.

    Returns:
        ``{"type": "function", "name", "description", "parameters"}``.

    Raises:
        ToolDefinitionError: The signature cannot be a tool; the message says how to fix it.

    Example:
        >>> from typing import Literal
        >>> def get_weather(city: str, unit: Literal["C", "F"] = "C") -> dict:
        ...     '''Current weather for a city.'''
        >>> function_schema(get_weather)["parameters"]["required"]
        ['city']
    """
    options = getattr(fn, "__realtime_tool__", None)
    if options is not None:
        name = name if name is not None else options.name
        description = description if description is not None else options.description
    return build_signature(fn, name=name, description=description).definition()
