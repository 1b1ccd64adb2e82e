"""Fixtures of the reducer's unit tests."""

from __future__ import annotations

import pytest

from realtime_widget.conversation import RealtimeConversation


@pytest.fixture(params=["ga", "beta"])
def dialect(request) -> str:
    """Each test runs with events in GA and in beta (through ``normalize_server_event``)."""
    return request.param


@pytest.fixture
def conversation() -> RealtimeConversation:
    return RealtimeConversation()
