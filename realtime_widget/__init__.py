"""realtime_widget: a realtime voice conversation with a speech model inside a Jupyter notebook.

The public names below are a contract (DESIGN §2). They are imported lazily so that
``import realtime_widget`` stays cheap and the pure layers (protocol, audio, conversation) can be
used without pulling in the widget machinery.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# name -> module that defines it
_EXPORTS: dict[str, str] = {
    "RealtimeEventHandler": "realtime_widget.events",
    "RealtimeAPI": "realtime_widget.api",
    "RealtimeConnectionError": "realtime_widget.api",
    "RealtimeConversation": "realtime_widget.conversation",
    "RealtimeClient": "realtime_widget.client",
    "RealtimeTranscriber": "realtime_widget.client",
    "RealtimeTranslator": "realtime_widget.client",
    "Captions": "realtime_widget.captions",
    "CaptionSegment": "realtime_widget.captions",
    "RealtimeWidget": "realtime_widget.widget",
    "LocalRealtimeServer": "realtime_widget.server",
    "ToolRegistry": "realtime_widget.tools",
    "CancelToken": "realtime_widget.tools",
    "tool": "realtime_widget.tools",
    "function_schema": "realtime_widget.tools",
    "ClientSecret": "realtime_widget.client_secrets",
    "ClientSecretError": "realtime_widget.client_secrets",
    "create_client_secret": "realtime_widget.client_secrets",
    "create_client_secret_async": "realtime_widget.client_secrets",
}

__all__ = [
    "CancelToken",
    "CaptionSegment",
    "Captions",
    "ClientSecret",
    "ClientSecretError",
    "LocalRealtimeServer",
    "RealtimeAPI",
    "RealtimeClient",
    "RealtimeConnectionError",
    "RealtimeConversation",
    "RealtimeEventHandler",
    "RealtimeTranscriber",
    "RealtimeTranslator",
    "RealtimeWidget",
    "ToolRegistry",
    "__version__",
    "create_client_secret",
    "create_client_secret_async",
    "function_schema",
    "tool",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from realtime_widget.api import RealtimeAPI, RealtimeConnectionError
    from realtime_widget.captions import Captions, CaptionSegment
    from realtime_widget.client import RealtimeClient, RealtimeTranscriber, RealtimeTranslator
    from realtime_widget.client_secrets import (
        ClientSecret,
        ClientSecretError,
        create_client_secret,
        create_client_secret_async,
    )
    from realtime_widget.conversation import RealtimeConversation
    from realtime_widget.events import RealtimeEventHandler
    from realtime_widget.server import LocalRealtimeServer
    from realtime_widget.tools import CancelToken, ToolRegistry, function_schema, tool
    from realtime_widget.widget import RealtimeWidget


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'realtime_widget' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
