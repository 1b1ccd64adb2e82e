"""The public names of DESIGN §2 are a contract."""

import realtime_widget

CONTRACT = {
    "RealtimeEventHandler",
    "RealtimeAPI",
    "RealtimeConversation",
    "RealtimeClient",
    "RealtimeWidget",
    "LocalRealtimeServer",
    "ToolRegistry",
    "tool",
    "function_schema",
}


def test_package_exports_contract_names():
    assert CONTRACT <= set(realtime_widget.__all__)


def test_every_contract_name_imports():
    for name in CONTRACT:
        assert getattr(realtime_widget, name) is not None, name


def test_session_kind_names_are_exported():
    for name in ("RealtimeTranscriber", "RealtimeTranslator", "Captions", "CaptionSegment"):
        assert name in realtime_widget.__all__
        assert getattr(realtime_widget, name) is not None
