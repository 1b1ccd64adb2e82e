"""Test helpers for realtime_widget and for users' own tests.

``schema`` validates events against OpenAI's Realtime schemas (in ``spec/`` with their provenance;
``spec_from_sdk`` regenerates the GA one from the installed openai SDK); ``faults`` is a
fault-injecting proxy; ``fixtures`` is a pytest plugin (enable it with
``pytest_plugins = ["realtime_widget.testing.fixtures"]``) giving ``realtime_server``,
``realtime_client`` and ``scripted_brain``; ``brains`` holds the brains tests script answers with;
``helpers.converse`` sends a message and waits for the model's final answer; ``mcp_demo`` is a
real MCP server on loopback for MCP tools (needs the ``mcp`` extra).

The names below are imported lazily, so importing one submodule does not pull in pytest or the
client.
"""

from __future__ import annotations

import importlib
from typing import Any

# name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Brain": "realtime_widget.testing.brains",
    "BrainContext": "realtime_widget.testing.brains",
    "Call": "realtime_widget.testing.brains",
    "CallableBrain": "realtime_widget.testing.brains",
    "EchoBrain": "realtime_widget.testing.brains",
    "Say": "realtime_widget.testing.brains",
    "ScriptedBrain": "realtime_widget.testing.brains",
    "SwappableBrain": "realtime_widget.testing.brains",
    "LocalRealtimeServer": "realtime_widget.server",
    "converse": "realtime_widget.testing.helpers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'realtime_widget.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*__all__, "faults", "mcp_demo", "schema"])
