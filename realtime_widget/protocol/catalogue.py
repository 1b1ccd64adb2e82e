"""Event catalogues of the Realtime protocol, GA and beta, as literal tables.

These are the event types each side may send, written out so that a reader (and a test) can compare
them with OpenAI's schemas (``realtime_widget/testing/spec/*.json``). ``tests/protocol`` checks the
tables against each schema's ``type`` enums, so a new event in the spec fails a test here first.
"""

from __future__ import annotations

from typing import Literal

Dialect = Literal["ga", "beta"]
"""The protocol's two shapes: ``"ga"`` (current) and ``"beta"`` (``OpenAI-Beta: realtime=v1``)."""

DIALECTS: tuple[Dialect, ...] = ("ga", "beta")

# Client events are the same set in both dialects; only payload shapes differ (DESIGN §6).
_CLIENT_EVENTS = frozenset(
    {
        "session.update",
        "transcription_session.update",
        "input_audio_buffer.append",
        "input_audio_buffer.commit",
        "input_audio_buffer.clear",
        "output_audio_buffer.clear",
        "conversation.item.create",
        "conversation.item.retrieve",
        "conversation.item.truncate",
        "conversation.item.delete",
        "response.create",
        "response.cancel",
    }
)

# Server events both dialects share under the same name.
_COMMON_SERVER_EVENTS = frozenset(
    {
        "error",
        "session.created",
        "session.updated",
        "transcription_session.updated",
        "conversation.created",
        "conversation.item.created",
        "conversation.item.retrieved",
        "conversation.item.truncated",
        "conversation.item.deleted",
        "conversation.item.input_audio_transcription.delta",
        "conversation.item.input_audio_transcription.completed",
        "conversation.item.input_audio_transcription.failed",
        "input_audio_buffer.committed",
        "input_audio_buffer.cleared",
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "output_audio_buffer.started",
        "output_audio_buffer.stopped",
        "output_audio_buffer.cleared",
        "response.created",
        "response.done",
        "response.output_item.added",
        "response.output_item.done",
        "response.content_part.added",
        "response.content_part.done",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "rate_limits.updated",
    }
)

BETA_ONLY_SERVER_EVENTS: frozenset[str] = frozenset(
    {
        "response.text.delta",
        "response.text.done",
        "response.audio.delta",
        "response.audio.done",
        "response.audio_transcript.delta",
        "response.audio_transcript.done",
    }
)
"""Beta server events whose GA twins have other names (``aliases.BETA_TO_GA_SERVER_EVENTS``)."""

GA_ONLY_SERVER_EVENTS: frozenset[str] = frozenset(
    {
        # Renamed twins of the beta-only events above.
        "response.output_text.delta",
        "response.output_text.done",
        "response.output_audio.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.delta",
        "response.output_audio_transcript.done",
        # New in GA (DESIGN §6: accept and pass through, never crash).
        "conversation.item.added",
        "conversation.item.done",
        "conversation.item.input_audio_transcription.segment",
        "input_audio_buffer.timeout_triggered",
        "input_audio_buffer.dtmf_event_received",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "mcp_list_tools.failed",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.mcp_call.failed",
    }
)
"""GA server events a beta server never sends."""

TRANSCRIPTION_SESSION_EVENTS: frozenset[str] = frozenset(
    {"transcription_session.update", "transcription_session.updated"}
)
"""The beta-era transcription session events. OpenAI's OpenAPI document still lists them under GA;
the SDK's GA types (the GA schema's source) do not: a GA transcription session sends
``session.update`` with ``session.type: "transcription"`` (new session kinds: issue 14)."""

CLIENT_EVENTS: dict[Dialect, frozenset[str]] = {"ga": _CLIENT_EVENTS, "beta": _CLIENT_EVENTS}
"""Client event types per dialect."""

SERVER_EVENTS: dict[Dialect, frozenset[str]] = {
    "ga": _COMMON_SERVER_EVENTS | GA_ONLY_SERVER_EVENTS,
    "beta": _COMMON_SERVER_EVENTS | BETA_ONLY_SERVER_EVENTS,
}
"""Server event types per dialect."""


def check_dialect(dialect: object) -> Dialect:
    """Return ``dialect`` if it names a dialect.

    Args:
        dialect: the value to check.

    Returns:
        The dialect, ``"ga"`` or ``"beta"``.

    Raises:
        ValueError: for anything else, listing the two allowed values.
    """
    if dialect in DIALECTS:
        return dialect  # type: ignore[return-value]
    raise ValueError(f"unknown dialect {dialect!r}: use 'ga' (current API) or 'beta' (legacy)")
