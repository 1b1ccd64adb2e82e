"""The embedded local Realtime server: protocol-faithful GA + beta, for offline use and tests.

``LocalRealtimeServer`` speaks OpenAI's Realtime websocket protocol on loopback; who answers is a
:class:`Brain` (default :class:`EchoBrain`; :class:`ScriptedBrain` for tests; any
``callable(text) -> str``). See issue 3 and DESIGN §6-7.
"""

from __future__ import annotations

from realtime_widget.server.app import LocalRealtimeServer
from realtime_widget.server.brains import (
    Brain,
    BrainContext,
    Call,
    CallableBrain,
    EchoBrain,
    Say,
    ScriptedBrain,
)
from realtime_widget.server.speech import describe_audio, speech_wav, synthesize
from realtime_widget.server.state import SessionState

__all__ = [
    "Brain",
    "BrainContext",
    "Call",
    "CallableBrain",
    "EchoBrain",
    "LocalRealtimeServer",
    "Say",
    "ScriptedBrain",
    "SessionState",
    "describe_audio",
    "speech_wav",
    "synthesize",
]
