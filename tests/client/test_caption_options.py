"""The two caption session kinds share their keywords through ``CaptionOptions`` (issue 16,
point 3): one place for the defaults, handed to ``CaptionSession``, never kept (the key stays in
the ``RealtimeAPI``)."""

from __future__ import annotations

import inspect

from realtime_widget.client._caption_sessions import (
    CaptionOptions,
    RealtimeTranscriber,
    RealtimeTranslator,
)

_URL = "ws://127.0.0.1:9/v1/realtime"  # never connected: the wiring is all these tests read


def test_caption_sessions_share_their_keywords_and_defaults():
    transcriber = inspect.signature(RealtimeTranscriber).parameters
    translator = inspect.signature(RealtimeTranslator).parameters
    defaults = CaptionOptions()
    for name in (
        "api_key",
        "auto_reconnect",
        "max_reconnect_attempts",
        "reconnect_delay",
        "healthy_after",
        "max_segments",
        "hold_seconds",
        "runtime",
    ):
        assert transcriber[name].default == translator[name].default == getattr(defaults, name)
        assert transcriber[name].kind == translator[name].kind == inspect.Parameter.KEYWORD_ONLY
    assert "secret" not in repr(CaptionOptions(api_key="secret", api_params={"headers": "secret"}))


def test_caption_sessions_take_their_options_to_the_session_and_connection():
    transcriber = RealtimeTranscriber(
        url=_URL,
        api_key="sk-test",
        auto_reconnect=False,
        max_reconnect_attempts=2,
        reconnect_delay=0.25,
        healthy_after=None,
        hold_seconds=1.5,
    )
    assert not transcriber.auto_reconnect
    assert transcriber._connection.lifecycle.max_attempts == 2
    assert (transcriber.reconnect_delay, transcriber.healthy_after) == (0.25, None)
    assert transcriber._hold_samples == 36000
    translator = RealtimeTranslator("fr", url=_URL, api_key="sk-test", model="gpt-x")
    assert translator.realtime.model == "gpt-x" and "/translations" in translator.realtime.url
