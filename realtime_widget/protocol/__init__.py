"""The Realtime protocol as pure data: event catalogues, GA <-> beta conversion, sessions, ids.

No I/O here (no asyncio, sockets, threads): every function takes and returns plain dicts, so the
client, the embedded server and the tests share one implementation (DESIGN §2, §6).

- ``CLIENT_EVENTS`` / ``SERVER_EVENTS``: event types per dialect (``catalogue.py``).
- ``normalize_server_event`` / ``to_beta_server_event``: server events beta <-> GA.
- ``normalize_client_event`` / ``to_beta_client_event``: client events beta <-> GA.
- ``build_session``: users' flat or nested settings -> the ``session`` of ``session.update``.
- ``generate_id`` and the builders of client events and items (``builders.py``).
- ``DEFAULT_MODEL`` / ``DEFAULT_TRANSCRIPTION_MODEL`` and the announced shutdowns (``models.py``).
"""

from __future__ import annotations

from realtime_widget.protocol.aliases import (
    BETA_TO_GA_CONTENT_TYPES,
    BETA_TO_GA_SERVER_EVENTS,
    GA_TO_BETA_CONTENT_TYPES,
    GA_TO_BETA_SERVER_EVENTS,
)
from realtime_widget.protocol.builders import (
    assistant_text_item,
    conversation_item_create,
    conversation_item_delete,
    conversation_item_retrieve,
    conversation_item_truncate,
    function_call_item,
    function_call_output_item,
    input_audio_buffer_append,
    input_audio_buffer_clear,
    input_audio_buffer_commit,
    output_audio_buffer_clear,
    response_cancel,
    response_create,
    session_update,
    system_text_item,
    transcription_session_update,
    user_audio_item,
    user_text_item,
)
from realtime_widget.protocol.catalogue import (
    BETA_ONLY_SERVER_EVENTS,
    CLIENT_EVENTS,
    DIALECTS,
    GA_ONLY_SERVER_EVENTS,
    SERVER_EVENTS,
    Dialect,
    check_dialect,
)
from realtime_widget.protocol.client_events import normalize_client_event, to_beta_client_event
from realtime_widget.protocol.formats import to_beta_format, to_ga_format
from realtime_widget.protocol.ids import generate_id
from realtime_widget.protocol.items import item_to_beta, item_to_ga
from realtime_widget.protocol.mcp import (
    MCP_ITEM_TYPES,
    check_mcp_tool,
    mcp_approval_response_item,
)
from realtime_widget.protocol.models import (
    DEFAULT_MODEL,
    DEFAULT_TRANSCRIPTION_MODEL,
    DEPRECATED_MODELS,
    DeprecatedModelWarning,
    shutdown_date,
    warn_if_deprecated,
)
from realtime_widget.protocol.server_events import (
    NORMALIZED_SERVER_EVENTS,
    normalize_server_event,
    to_beta_server_event,
)
from realtime_widget.protocol.session import (
    VALID_KEYS,
    build_session,
    session_to_flat,
    session_to_ga,
)

__all__ = [
    "BETA_ONLY_SERVER_EVENTS",
    "BETA_TO_GA_CONTENT_TYPES",
    "BETA_TO_GA_SERVER_EVENTS",
    "CLIENT_EVENTS",
    "DEFAULT_MODEL",
    "DEFAULT_TRANSCRIPTION_MODEL",
    "DEPRECATED_MODELS",
    "DIALECTS",
    "GA_ONLY_SERVER_EVENTS",
    "GA_TO_BETA_CONTENT_TYPES",
    "GA_TO_BETA_SERVER_EVENTS",
    "MCP_ITEM_TYPES",
    "NORMALIZED_SERVER_EVENTS",
    "SERVER_EVENTS",
    "VALID_KEYS",
    "DeprecatedModelWarning",
    "Dialect",
    "assistant_text_item",
    "build_session",
    "check_dialect",
    "check_mcp_tool",
    "conversation_item_create",
    "conversation_item_delete",
    "conversation_item_retrieve",
    "conversation_item_truncate",
    "function_call_item",
    "function_call_output_item",
    "generate_id",
    "input_audio_buffer_append",
    "input_audio_buffer_clear",
    "input_audio_buffer_commit",
    "item_to_beta",
    "item_to_ga",
    "mcp_approval_response_item",
    "normalize_client_event",
    "normalize_server_event",
    "output_audio_buffer_clear",
    "response_cancel",
    "response_create",
    "session_to_flat",
    "session_to_ga",
    "session_update",
    "shutdown_date",
    "system_text_item",
    "to_beta_client_event",
    "to_beta_format",
    "to_beta_server_event",
    "to_ga_format",
    "transcription_session_update",
    "user_audio_item",
    "user_text_item",
    "warn_if_deprecated",
]
