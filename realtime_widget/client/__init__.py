"""``RealtimeClient``: orchestration over one ``RealtimeAPI`` (issue 4, DESIGN §2-§4, §6).

``_client`` holds the public methods, the threading rules and the wiring; each job is a
collaborator that owns its state and is handed what it uses (issue 16): ``_events``
(``ServerEvents``, the router: which collaborators react to each server event, in order; each
owns its handlers), ``_requests`` (``ResponseRequests``: ``create_response``'s glue; owns the
sequencer, the handles and the watchdog), ``_items`` (``ItemAnnouncements``: appended and
completed once per item), ``_errors`` (``ServerErrors``: what a server error refuses),
``_connection`` (``Connection``, around the ``_lifecycle`` state machine), ``_carryover`` (held
sends, unacknowledged messages, owed responses, the replay), ``_session``
(``SessionSettings``), ``_interruption``, ``_mcp_approvals``, ``_watchdog``, ``_waiting``; pure
bookkeeping: ``_responses`` (one in-band ``response.create`` in flight), ``_handles`` (what
``create_response`` returns), ``_tool_calls``, ``_outputs``, ``_playback``, ``_config``,
``_mcp``, ``_usage``, ``_reconnect`` (history items), ``_audio_cap``. The captions-only session
kinds (issue 14) are ``_caption_sessions`` (``RealtimeTranscriber``, ``RealtimeTranslator``), on
the same transport and ``Connection``.
"""

from __future__ import annotations

from realtime_widget.client._ask import Reply
from realtime_widget.client._caption_sessions import (
    CaptionSession,
    RealtimeTranscriber,
    RealtimeTranslator,
)
from realtime_widget.client._client import RealtimeClient
from realtime_widget.client._handles import ResponseError, ResponseHandle, ResponseResult

__all__ = [
    "CaptionSession",
    "RealtimeClient",
    "RealtimeTranscriber",
    "RealtimeTranslator",
    "Reply",
    "ResponseError",
    "ResponseHandle",
    "ResponseResult",
]
