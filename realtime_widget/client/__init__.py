"""``RealtimeClient``: orchestration over one ``RealtimeAPI`` (issue 4, DESIGN §2-§4, §6).

Split by concern: ``_client`` (public methods, threading), ``_events`` (server events, custom
events, reconnect), ``_responses`` (one in-band ``response.create`` in flight), ``_handles`` (what
``create_response`` returns, filled from response events), ``_tool_calls`` (tool
glue), ``_playback`` (played samples for truncation), ``_reconnect`` (history replay),
``_config`` (session settings), ``_usage`` (token totals).
"""

from __future__ import annotations

from realtime_widget.client._ask import Reply
from realtime_widget.client._client import RealtimeClient
from realtime_widget.client._handles import ResponseError, ResponseHandle, ResponseResult

__all__ = ["RealtimeClient", "Reply", "ResponseError", "ResponseHandle", "ResponseResult"]
