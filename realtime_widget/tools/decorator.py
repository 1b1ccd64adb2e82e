"""The ``@tool`` decorator: marks a function as a tool and records its options.

``@tool`` does not register anything (there is no global registry): it attaches a
:class:`ToolOptions` to the function and checks the signature at once, so a bad signature fails in
the cell that defines it. ``registry.tool``, ``client.tool`` and ``widget.tool`` mark *and*
register.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

from realtime_widget.tools.schema import build_signature

__all__ = ["DEFAULT_TIMEOUT", "ToolOptions", "tool"]

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_TIMEOUT: float = 30.0
"""Seconds a tool may run before the model gets a timeout error (None disables the limit)."""

ThreadChoice = Literal["worker", "main"]


@dataclass(frozen=True)
class ToolOptions:
    """How a tool is described and run.

    Attributes:
        name: Tool name (defaults to the function's ``__name__``).
        description: Description for the model (defaults to the docstring summary).
        timeout: Seconds before the call is answered with a timeout error; None waits forever.
            A sync tool that overruns keeps running in its thread (threads cannot be killed);
            its late result is discarded.
        requires_approval: Wait for ``approve(call_id)`` / ``deny(call_id)`` or the registry's
            ``approval_callback`` before running.
        thread: Where a sync tool runs: ``"worker"`` (a background thread, so audio never
            stalls) or ``"main"`` (the kernel's main thread, for code that touches notebook
            state such as a displayed plot; needs the widget, else falls back to a worker).
    """

    name: str | None = None
    description: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    requires_approval: bool = False
    thread: ThreadChoice = "worker"

    def __post_init__(self) -> None:
        if self.thread not in ("worker", "main"):
            raise ValueError(f"thread must be 'worker' or 'main', got {self.thread!r}")
        if self.timeout is not None and not self.timeout > 0:
            raise ValueError(
                f"timeout must be a positive number of seconds or None, got {self.timeout!r}"
            )

    def merged(self, **overrides: Any) -> ToolOptions:
        """A copy with the given (non-sentinel) overrides applied."""
        unknown = set(overrides) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise TypeError(
                f"unknown tool option(s) {sorted(unknown)}; valid options are name, "
                f"description, timeout, requires_approval, thread"
            )
        return dataclasses.replace(self, **overrides)


def options_of(fn: Callable[..., Any]) -> ToolOptions:
    """The options attached by :func:`tool`, or the defaults."""
    options = getattr(fn, "__realtime_tool__", None)
    return options if isinstance(options, ToolOptions) else ToolOptions()


def attach_options(fn: Callable[..., Any], **options: Any) -> ToolOptions:
    """Attach options to ``fn``, merged over any already attached; returns the merged options."""
    merged = options_of(fn).merged(**options)
    try:
        fn.__realtime_tool__ = merged  # type: ignore[attr-defined]
    except (AttributeError, TypeError):
        # Bound methods and some builtins refuse attributes; registries take options directly.
        pass
    return merged


def _defined_in_class_body(fn: Callable[..., Any]) -> bool:
    # ``@tool`` on a method sees the plain function, ``self`` included; only the bound method
    # (``registry.add(obj.method)``) has the real signature, so checking waits until then.
    qualname = getattr(fn, "__qualname__", "")
    owner = qualname.rpartition(".")[0]
    params = getattr(getattr(fn, "__code__", None), "co_varnames", ())[:1]
    return bool(owner) and not owner.endswith("<locals>") and params in (("self",), ("cls",))


def mark(fn: F, **options: Any) -> F:
    """Attach options to ``fn`` and check at once that its signature can be a tool."""
    merged = attach_options(fn, **options)
    if not _defined_in_class_body(fn):
        build_signature(fn, name=merged.name, description=merged.description)
    return fn


@overload
def tool(fn: F, /) -> F: ...


@overload
def tool(
    *,
    name: str | None = ...,
    description: str | None = ...,
    timeout: float | None = ...,
    requires_approval: bool = ...,
    thread: ThreadChoice = ...,
) -> Callable[[F], F]: ...


def tool(fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
    """Mark a function as a tool, bare (``@tool``) or with options (``@tool(timeout=5)``).

    The function is returned unchanged (still callable from the notebook). Register it with
    ``registry.add(fn)``, or use ``registry.tool`` / ``client.tool`` / ``widget.tool``, which
    mark and register in one step.

    Args:
        fn: The function when used bare.
        **options: Any :class:`ToolOptions` field: ``name``, ``description``, ``timeout``,
            ``requires_approval``, ``thread``.

    Returns:
        The function, or a decorator when called with options only.

    Raises:
        ToolDefinitionError: The signature cannot be a tool (the message says how to fix it).
        TypeError: An unknown option.
    """
    if fn is not None:
        return mark(fn, **options)

    def decorate(f: F) -> F:
        return mark(f, **options)

    return decorate
