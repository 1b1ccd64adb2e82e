"""The transport layer (DESIGN §2): `RealtimeAPI`, one websocket to a Realtime server.

- `_api`: the connection, its reader and writer, dispatch of every event;
- `_wire`: pure helpers (the URL, refusal hints, log lines).
"""

from realtime_widget.api._api import (
    DEFAULT_MODEL,
    DEFAULT_URL,
    RealtimeAPI,
    RealtimeConnectionError,
)

__all__ = ["DEFAULT_MODEL", "DEFAULT_URL", "RealtimeAPI", "RealtimeConnectionError"]
