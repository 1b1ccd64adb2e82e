"""The server package's public names and dispatch table."""

from __future__ import annotations

import realtime_widget
import realtime_widget.server as server
from realtime_widget.protocol import CLIENT_EVENTS
from realtime_widget.server.state import SessionState


def test_server_exports_contract_names():
    for name in ("LocalRealtimeServer", "Brain", "EchoBrain", "ScriptedBrain", "Say", "Call"):
        assert name in server.__all__ and hasattr(server, name)
    assert realtime_widget.LocalRealtimeServer is server.LocalRealtimeServer


def test_state_machine_has_a_handler_for_every_client_event_of_both_dialects():
    state = SessionState()
    handled = set(state._handlers)
    assert set(CLIENT_EVENTS["ga"]) <= handled
    from realtime_widget.protocol import normalize_client_event

    beta_as_ga = {normalize_client_event({"type": t})["type"] for t in CLIENT_EVENTS["beta"]}
    assert beta_as_ga <= handled
