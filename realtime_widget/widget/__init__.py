"""The widget layer (DESIGN §2): `RealtimeWidget`, a realtime conversation inside a notebook.

One module per responsibility; the browser half is `js/`, bundled into `../static/`, and the
protocol between the two halves is docs/widget-protocol.md.

- `_widget`: the anywidget class, its traits and public methods;
- `_session`: opening the connection (a key, or the shared embedded server of `_server`);
- `_sync` (kernel -> browser, with `_events`, `_items`, `_outbox`) and `_inbound` (browser ->
  kernel, with `_audio`, `_clear`, `_download`);
- `_media`: play and save the conversation's audio, record and replay sessions.
"""

from realtime_widget.widget._widget import RealtimeWidget

__all__ = ["RealtimeWidget"]
