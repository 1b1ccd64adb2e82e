"""Transcription sessions: live captions with no model answering (issue 14, point 3; pure).

A GA client turns its session into one with ``session.update`` and ``session.type:
"transcription"`` (what the openai SDK sends through ``client.realtime.connect``; the SDK's
``RealtimeTranscriptionSessionCreateRequest``), or connects with ``?intent=transcription``. Then:

- input audio is turned into user items as in a realtime session (server VAD:
  ``input_audio_buffer.speech_started`` / ``.speech_stopped`` / ``.committed``, or an explicit
  commit), and each item is transcribed: ``conversation.item.input_audio_transcription.delta``
  word by word (append-only fragments, spaces included), then ``.completed``;
- nothing answers: ``response.create`` is refused, and VAD turns never start a response;
- the session object has only what the SDK's model declares (``type``, ``audio.input``,
  ``include``) plus the ``id``/``object``/``expires_at`` every session reports;
- the type cannot go back to ``realtime`` (a new connection makes a conversation).

This module holds the session object's rules; ``state.py`` applies them to a connection.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from realtime_widget.protocol.models import DEFAULT_TRANSCRIPTION_MODEL
from realtime_widget.server._checks import ClientError, check_fields, typed
from realtime_widget.server._config import SESSION_SPEC, default_session, merge_session

__all__ = [
    "DEFAULT_MODEL",
    "TRANSCRIPTION_SESSION_SPEC",
    "from_realtime",
    "is_transcription",
    "merge_transcription_session",
    "new_transcription_session",
    "word_deltas",
]

DEFAULT_MODEL = DEFAULT_TRANSCRIPTION_MODEL
"""Transcription model of a transcription session that names none (the clients' default, with
no announced shutdown)."""

TRANSCRIPTION_SESSION_SPEC: dict[str, Any] = {
    "type": typed(str, enum=("transcription",)),
    "object": typed(str, enum=("realtime.transcription_session",)),
    "id": typed(str),
    "expires_at": typed(int),
    "audio": {"input": SESSION_SPEC["audio"]["input"]},
    "include": SESSION_SPEC["include"],
}
"""What ``session.update`` may carry in a transcription session (the SDK's request type)."""

_WORD = re.compile(r"\s*\S+")


def is_transcription(session: dict) -> bool:
    """Whether an effective session is a transcription one (captions only, no responses)."""
    return session.get("type") == "transcription"


def new_transcription_session(session_id: str, expires_at: int) -> dict:
    """The transcription session a connection with ``?intent=transcription`` starts with."""
    return from_realtime(default_session(session_id, DEFAULT_MODEL, expires_at))


def from_realtime(session: dict) -> dict:
    """A transcription session keeping a realtime session's id, expiry and audio input."""
    audio_in = copy.deepcopy(session["audio"]["input"])
    if not audio_in.get("transcription"):
        audio_in["transcription"] = {"model": DEFAULT_MODEL}
    return {
        "type": "transcription",
        "object": "realtime.transcription_session",
        "id": session["id"],
        "expires_at": session["expires_at"],
        "audio": {"input": audio_in},
        "include": session.get("include"),
    }


def merge_transcription_session(current: dict, update: Any) -> dict:
    """Check a transcription ``session.update`` and return the merged session.

    Args:
        current: the effective session: a transcription one, or the realtime one it replaces.
        update: the client's ``session`` object.

    Raises:
        ClientError: the first invalid field, with its dotted ``param`` (an unknown
            transcription model names the supported ones; a field of realtime sessions only,
            such as ``instructions``, is an unknown parameter here).
    """
    check_fields(update, TRANSCRIPTION_SESSION_SPEC, "session", ("type",))
    base = current if current["type"] == "transcription" else from_realtime(current)
    # The realtime merge knows the nested rules (whole formats, VAD defaults, noise strength):
    # run it on a realtime view of the audio input, then keep only what a transcription has.
    view = default_session(base["id"], DEFAULT_MODEL, base["expires_at"])
    view["audio"]["input"] = copy.deepcopy(base["audio"]["input"])
    view["include"] = base.get("include")
    realtime_update = {k: v for k, v in update.items() if k in ("audio", "include")}
    merged, _ = merge_session(view, {**realtime_update, "type": "realtime"}, require_type=True)
    out = copy.deepcopy(base)
    out["audio"]["input"] = merged["audio"]["input"]
    out["include"] = merged.get("include")
    if not out["audio"]["input"].get("transcription"):
        # Without a model there is nothing to do: the real service keeps a default one.
        out["audio"]["input"]["transcription"] = {"model": DEFAULT_MODEL}
    return out


def word_deltas(text: str) -> list[str]:
    """``text`` as append-only word fragments (leading spaces kept; ``"".join`` gives it back)."""
    words = _WORD.findall(text)
    tail = text[sum(map(len, words)) :]
    if tail and words:
        words[-1] += tail
    return words or [text]


def refuse_response() -> ClientError:
    """The error answering ``response.create`` in a transcription session."""
    return ClientError(
        "invalid_value",
        "This is a transcription session: it transcribes input audio and creates no responses. "
        "Open a realtime session (session.type 'realtime') on a new connection for answers.",
        "type",
    )


def refuse_type_change() -> ClientError:
    """The error answering a ``session.update`` back to ``realtime``."""
    return ClientError(
        "invalid_value",
        "This session is a transcription session and cannot become a realtime one: open a new "
        "connection for a conversation.",
        "session.type",
    )
