"""The conversation layer (DESIGN §2): `RealtimeConversation`, the pure reducer from server
events to items.

- `_conversation`: the reducer and its dispatch table;
- `_input`: user input audio and its transcription events;
- `_deltas`: streamed text, transcript and audio deltas;
- `_audio`: `FormattedItem` and the bounded input-audio ring;
- `_mcp`: MCP items and events.
"""

from realtime_widget.conversation._conversation import (
    IGNORED_EVENTS,
    FormattedItem,
    InputAudioRing,
    RealtimeConversation,
)

__all__ = ["IGNORED_EVENTS", "FormattedItem", "InputAudioRing", "RealtimeConversation"]
