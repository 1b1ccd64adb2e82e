"""Builders of client events and conversation items (pure; each event gets a fresh ``event_id``).

Every builder returns a plain dict ready for ``json.dumps``; ``tests/protocol`` validates each one
strictly against OpenAI's schema in both dialects. Builders that carry dialect-specific payloads
take ``dialect``; the others are the same in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from realtime_widget.protocol import _shape
from realtime_widget.protocol.catalogue import Dialect, check_dialect
from realtime_widget.protocol.ids import generate_id
from realtime_widget.protocol.items import item_to_beta, item_to_ga
from realtime_widget.protocol.session import build_session


def _event(event_type: str, **fields: Any) -> dict[str, Any]:
    return {"event_id": generate_id("evt_"), "type": event_type, **fields}


def session_update(config: Mapping[str, Any], dialect: Dialect = "ga") -> dict[str, Any]:
    """``session.update`` with ``build_session(config, dialect)`` as its session.

    Args:
        config: flat seed-style and/or GA nested settings (see ``build_session``).
        dialect: ``"ga"`` or ``"beta"``.

    Returns:
        The event.

    Raises:
        ValueError: as ``build_session`` (unknown key, bad format or value).
    """
    return _event("session.update", session=build_session(config, dialect))


def transcription_session_update(session: Mapping[str, Any]) -> dict[str, Any]:
    """``transcription_session.update`` carrying ``session`` as given (already in its dialect).

    Args:
        session: the transcription session settings.

    Returns:
        The event.
    """
    return _event("transcription_session.update", session=_shape.deep_copy(dict(session)))


def input_audio_buffer_append(audio: str) -> dict[str, Any]:
    """``input_audio_buffer.append`` of base64 audio in the session's input format.

    Args:
        audio: base64 text (``realtime_widget.audio.encode_base64``).

    Returns:
        The event.
    """
    return _event("input_audio_buffer.append", audio=audio)


def input_audio_buffer_commit() -> dict[str, Any]:
    """``input_audio_buffer.commit`` (needs >= 100 ms buffered, or the server answers an error)."""
    return _event("input_audio_buffer.commit")


def input_audio_buffer_clear() -> dict[str, Any]:
    """``input_audio_buffer.clear``."""
    return _event("input_audio_buffer.clear")


def output_audio_buffer_clear() -> dict[str, Any]:
    """``output_audio_buffer.clear`` (WebRTC/SIP sessions; harmless elsewhere)."""
    return _event("output_audio_buffer.clear")


def conversation_item_create(
    item: Mapping[str, Any], previous_item_id: str | None = None, dialect: Dialect = "ga"
) -> dict[str, Any]:
    """``conversation.item.create``; assistant content types follow ``dialect``.

    Args:
        item: the item (e.g. from ``user_text_item``), in either dialect's content types.
        previous_item_id: insert after this item (``None``: append; ``"root"``: at the start).
        dialect: ``"ga"`` or ``"beta"``.

    Returns:
        The event.
    """
    convert = item_to_ga if check_dialect(dialect) == "ga" else item_to_beta
    fields: dict[str, Any] = {"item": _shape.deep_copy(convert(dict(item)))}
    if previous_item_id is not None:
        fields["previous_item_id"] = previous_item_id
    return _event("conversation.item.create", **fields)


def conversation_item_retrieve(item_id: str) -> dict[str, Any]:
    """``conversation.item.retrieve`` (the server answers ``conversation.item.retrieved``)."""
    return _event("conversation.item.retrieve", item_id=item_id)


def conversation_item_truncate(
    item_id: str, content_index: int, audio_end_ms: int
) -> dict[str, Any]:
    """``conversation.item.truncate``: cut an assistant audio item at what the user heard.

    Args:
        item_id: the assistant item.
        content_index: its audio content part (usually 0).
        audio_end_ms: milliseconds played (never more than received; DESIGN §4).

    Returns:
        The event.
    """
    return _event(
        "conversation.item.truncate",
        item_id=item_id,
        content_index=content_index,
        audio_end_ms=audio_end_ms,
    )


def conversation_item_delete(item_id: str) -> dict[str, Any]:
    """``conversation.item.delete``."""
    return _event("conversation.item.delete", item_id=item_id)


def response_create(
    response: Mapping[str, Any] | None = None, dialect: Dialect = "ga"
) -> dict[str, Any]:
    """``response.create``, optionally with per-response settings reshaped for ``dialect``.

    Args:
        response: e.g. ``{"instructions": ..., "output_modalities": ["text"]}`` (flat beta keys
            such as ``modalities`` or ``voice`` are accepted too); ``None`` for the session's.
        dialect: ``"ga"`` or ``"beta"``.

    Returns:
        The event.
    """
    if response is None:
        return _event("response.create")
    to_ga = check_dialect(dialect) == "ga"
    params = dict(response)
    if _shape.needs_reshape(params, _shape.RESPONSE_PARAMS, to_ga):
        reshape = _shape.flat_to_nested if to_ga else _shape.nested_to_flat
        params = reshape(params, _shape.RESPONSE_PARAMS)
    if isinstance(params.get("input"), list):
        convert = item_to_ga if to_ga else item_to_beta
        params["input"] = [convert(i) for i in params["input"]]
    return _event("response.create", response=_shape.deep_copy(params))


def response_cancel(response_id: str | None = None) -> dict[str, Any]:
    """``response.cancel`` (of ``response_id``, or of the active response when ``None``)."""
    if response_id is None:
        return _event("response.cancel")
    return _event("response.cancel", response_id=response_id)


def _with_id(item: dict[str, Any], item_id: str | None) -> dict[str, Any]:
    return {"id": item_id, **item} if item_id is not None else item


def user_text_item(text: str, item_id: str | None = None) -> dict[str, Any]:
    """A user message with one ``input_text`` part (same in both dialects)."""
    item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    return _with_id(item, item_id)


def user_audio_item(
    audio: str, transcript: str | None = None, item_id: str | None = None
) -> dict[str, Any]:
    """A user message with one ``input_audio`` part of base64 audio (same in both dialects)."""
    part: dict[str, Any] = {"type": "input_audio", "audio": audio}
    if transcript is not None:
        part["transcript"] = transcript
    return _with_id({"type": "message", "role": "user", "content": [part]}, item_id)


def system_text_item(text: str, item_id: str | None = None) -> dict[str, Any]:
    """A system message with one ``input_text`` part."""
    item = {"type": "message", "role": "system", "content": [{"type": "input_text", "text": text}]}
    return _with_id(item, item_id)


def assistant_text_item(
    text: str, dialect: Dialect = "ga", item_id: str | None = None
) -> dict[str, Any]:
    """An assistant message with one text part: ``output_text`` in GA, ``text`` in beta.

    Used to replay history into a new session after a reconnect (DESIGN §6).
    """
    ptype = "output_text" if check_dialect(dialect) == "ga" else "text"
    item = {"type": "message", "role": "assistant", "content": [{"type": ptype, "text": text}]}
    return _with_id(item, item_id)


def function_call_item(
    call_id: str, name: str, arguments: str, item_id: str | None = None
) -> dict[str, Any]:
    """A ``function_call`` item (for history replay; ``arguments`` is JSON text)."""
    item = {"type": "function_call", "call_id": call_id, "name": name, "arguments": arguments}
    return _with_id(item, item_id)


def function_call_output_item(
    call_id: str, output: str, item_id: str | None = None
) -> dict[str, Any]:
    """A ``function_call_output`` item answering ``call_id`` with ``output`` text."""
    item = {"type": "function_call_output", "call_id": call_id, "output": output}
    return _with_id(item, item_id)
