"""One connection's Realtime session as a pure state machine: client event in, server events out.

No I/O, clock or thread here (STYLE habits 1-2): the I/O layer (``app.py``) feeds each client
frame to :meth:`SessionState.receive` and sends what it returns, then pulls the active response
step by step with :meth:`SessionState.next_output`, pacing the audio. Ids come from ``new_id`` and
time from ``now``, so tests can drive it with plain data.

Rules (issue 3, DESIGN §6):

- The session is kept in GA shape; a beta connection is converted at the edge by
  ``realtime_widget.protocol`` (events without a beta twin are not sent).
- Every refused client event gives one ``error`` (``invalid_request_error``, ``code``, ``param``,
  the client's ``event_id``) and changes nothing; the session stays open.
- One in-band response at a time (it writes to the default conversation); server VAD commits
  turns and may start or interrupt it. Out-of-band responses (``conversation: "none"``) run
  alongside it, each its own :class:`ResponseRun` whose items stay out of the conversation, up
  to :data:`MAX_OUT_OF_BAND_RESPONSES` at once ("only one Response can write to the default
  Conversation at a time, but otherwise multiple Responses can be created in parallel", the
  SDK's ``response_create_event.py``). The I/O layer steps each response by its id.
"""

from __future__ import annotations

import copy
import json
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

from realtime_widget.audio import encode_base64
from realtime_widget.protocol import generate_id, normalize_client_event, to_beta_server_event
from realtime_widget.server import _config, _events, _transcription
from realtime_widget.server._checks import ClientError, check_fields, error_event
from realtime_widget.server._config import RESPONSE_SPEC, default_session, merge_session
from realtime_widget.server._input import (
    MAX_APPEND_BYTES,
    InputTurns,
    TranscriptionJob,
    Transcripts,
    TurnResponses,
)
from realtime_widget.server._items import Conversation, Record
from realtime_widget.server._limits import Limits, item_size
from realtime_widget.server._mcp import ListJob, McpTools
from realtime_widget.server._payload import LAZY_AUDIO_SECONDS, LazyAudio
from realtime_widget.server._response import Clause, McpCallRequest, ResponseRun, Step
from realtime_widget.server._start import continue_response, input_tokens, start_response
from realtime_widget.server.brains import (
    Brain,
    BrainContext,
    Call,
    Say,
    as_brain,
    is_streaming,
)
from realtime_widget.server.speech import Transcriber, describe_audio
from realtime_widget.server.vad import InputAudio

__all__ = [
    "MAX_APPEND_BYTES",
    "MAX_OUT_OF_BAND_RESPONSES",
    "Limits",
    "SessionState",
    "Step",
    "TranscriptionJob",
    "parse_frame",
    "split_append",
]

MAX_OUT_OF_BAND_RESPONSES = 4
"""Out-of-band responses one session runs at once; more are refused with an error."""


MAX_DEPTH = 32
"""Deepest JSON nesting accepted in one client event (real events nest a handful of levels)."""


def _check_depth(obj: Any) -> None:
    """Raise ``ValueError`` for JSON nested deeper than :data:`MAX_DEPTH` (without recursion)."""
    stack = [(obj, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
        children = (
            node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        )
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def parse_frame(frame: str | bytes) -> Any:
    """The client event in one websocket frame, or the ``ClientError`` that refuses the frame.

    Pure (no session state), so the server may run it on a worker thread for a large frame.
    """
    if isinstance(frame, (bytes, bytearray, memoryview)):
        return ClientError(
            "invalid_json",
            "Binary frames are not supported: send each client event as a JSON text frame "
            "(audio goes base64-encoded in input_audio_buffer.append).",
        )
    try:
        event = json.loads(frame, parse_constant=_no_constant)
        _check_depth(event)
    except (ValueError, RecursionError) as exc:
        return ClientError(
            "invalid_json", f"We could not parse the JSON body of your event: {exc}."
        )
    return event


def split_append(event: Any, piece_chars: int) -> list[Any]:
    """An ``input_audio_buffer.append`` cut into appends of at most ``piece_chars`` base64.

    The server handles a long append a piece at a time, letting other sessions run in between
    (server VAD reads every sample). The pieces end on whole 3-byte groups of base64, so each
    decodes alone to whole PCM16 and G.711 samples. Anything else, and an append over the
    15 MiB limit (refused whole, without decoding), is returned as it is.
    """
    audio = event.get("audio") if isinstance(event, dict) else None
    if (
        not isinstance(audio, str)
        or event.get("type") != "input_audio_buffer.append"
        or len(audio) <= piece_chars
        or len(audio) * 3 // 4 > MAX_APPEND_BYTES
    ):
        return [event]
    step = piece_chars - piece_chars % 8
    return [dict(event, audio=audio[start : start + step]) for start in range(0, len(audio), step)]


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; echoing them back would break browsers' JSON.parse.
    raise ValueError(f"{name} is not valid JSON")


def _to_ga(event: Any) -> Any:
    try:
        return normalize_client_event(event)
    except Exception:  # the converter must never raise; if it does, check the event as sent
        return event


class SessionState:
    """The state of one Realtime session.

    Args:
        dialect: ``"ga"`` or ``"beta"`` (what the connection speaks on the wire).
        model: the model name the client asked for.
        brain: who answers (:class:`~realtime_widget.server.brains.Brain` or ``text -> str``).
        transcriber: ``(int16, rate) -> str`` for user audio (default: a description).
        now: the current Unix time (for ``expires_at``).
        new_id: id factory, ``generate_id`` by default.
        max_session_seconds: session length announced in ``expires_at``.
        defer_transcription: leave transcription to the I/O layer (:attr:`transcription_jobs`,
            :meth:`provide_transcript`) instead of calling ``transcriber`` here; responses then
            wait for their input's transcripts before the brain is asked (DESIGN §10).
        vad: the server-VAD detector, ``"auto"``, ``"silero"`` or ``"energy"`` (``None``: the
            ``REALTIME_WIDGET_VAD`` variable, else auto), see ``vad.choose_vad``.
        limits: caps on uncommitted audio, items and their size (``_limits.Limits``; its
            defaults when ``None``); past one a request gets a documented ``error``.
        lazy_audio: answer ``conversation.item.retrieve`` of long audio with a
            ``_payload.LazyAudio`` in place of its base64, for the I/O layer to serialize off
            the event loop (``_payload.dumps``).
        session: an effective session to start from instead of the default (a client secret's,
            checked when the secret was created); it gets this session's id and expiry.
    """

    def __init__(
        self,
        *,
        dialect: str = "ga",
        model: str = "gpt-realtime-2",
        brain: Brain | Callable[[str], str] | None = None,
        transcriber: Transcriber | None = None,
        now: float = 0.0,
        new_id: Callable[[str], str] = generate_id,
        max_session_seconds: float = 3600,
        defer_transcription: bool = False,
        vad: str | None = None,
        limits: Limits | None = None,
        lazy_audio: bool = False,
        session: dict | None = None,
    ) -> None:
        self.lazy_audio = lazy_audio
        self.dialect = dialect
        self.limits = limits or Limits()
        self.defer_transcription = defer_transcription
        self.brain = as_brain(brain)
        self.transcriber = transcriber or describe_audio
        self._new_id = new_id
        self.session = default_session(new_id("sess_"), model, int(now + max_session_seconds))
        if session is not None:
            ids = {k: self.session[k] for k in ("id", "expires_at")}
            self.session = {**copy.deepcopy(session), **ids}
        self.extras: dict = {}
        self.conversation = Conversation(new_id("conv_"))
        self.mcp = McpTools(new_id)
        """The session's MCP servers (``mcp`` tools): listed tools, approvals, listing jobs."""
        self._run: ResponseRun | None = None  # the in-band response (default conversation)
        self._oob: dict[str, ResponseRun] = {}  # out-of-band responses, oldest first
        self._tokens_used = 0

        # Collaborators (issue 16, point 3): each owns its state and is handed what it uses;
        # a callable for the session, because session.update replaces the session dict.
        def session_now() -> dict:
            return self.session

        self._transcripts = Transcripts(
            self.transcriber, defer_transcription, session_now, self.conversation
        )
        self._turns = InputTurns(
            session_now,
            vad,
            self.limits,
            self.conversation,
            self._transcripts,
            TurnResponses(
                active=lambda: self._run is not None,
                interrupt=self._interrupt,
                create=lambda: self._create_response({}),
                check_room=lambda: self._check_room(0, None),
            ),
            new_id,
        )
        self._handlers: dict[str, Callable[[dict], list[dict]]] = {
            "session.update": self._on_session_update,
            "input_audio_buffer.append": self._turns.on_input_audio_buffer_append,
            "input_audio_buffer.commit": self._turns.on_input_audio_buffer_commit,
            "input_audio_buffer.clear": self._turns.on_input_audio_buffer_clear,
            "conversation.item.create": self._on_conversation_item_create,
            "conversation.item.delete": self._on_conversation_item_delete,
            "conversation.item.retrieve": self._on_conversation_item_retrieve,
            "conversation.item.truncate": self._on_conversation_item_truncate,
            "response.create": self._on_response_create,
            "response.cancel": self._on_response_cancel,
            # WebRTC/SIP only in the real service; over a websocket there is no server-side
            # playback buffer to clear, so it is accepted and does nothing.
            "output_audio_buffer.clear": lambda event: [],
            "transcription_session.update": self._on_transcription_session_update,
        }

    # -- public surface -------------------------------------------------------------------
    @property
    def input(self) -> InputAudio:
        """The uncommitted input audio and its VAD (owned by the session's ``InputTurns``)."""
        return self._turns.audio

    @property
    def transcription_jobs(self) -> deque[TranscriptionJob]:
        """Deferred transcriptions for the I/O layer, oldest first (it pops them)."""
        return self._transcripts.jobs

    def start(self) -> list[dict]:
        """The greeting: ``session.created`` then ``conversation.created``."""
        return self._out(
            [
                {"type": "session.created", "session": copy.deepcopy(self.session)},
                {
                    "type": "conversation.created",
                    "conversation": {"id": self.conversation.id, "object": "realtime.conversation"},
                },
            ]
        )

    def receive(self, frame: str | bytes) -> list[dict]:
        """Handle one websocket frame (text or binary) and return the events to send."""
        return self.receive_parsed(parse_frame(frame))

    def receive_parsed(self, parsed: Any) -> list[dict]:
        """Handle what :func:`parse_frame` made of a frame (an event, or its ``ClientError``)."""
        if isinstance(parsed, ClientError):
            return self._error(parsed, None)
        return self.handle(parsed)

    def handle(self, event: Any) -> list[dict]:
        """Handle one decoded client event and return the server events to send now."""
        event_id = event.get("event_id") if isinstance(event, dict) else None
        event_id = event_id if isinstance(event_id, str) else None
        try:
            if self.dialect == "beta":
                event = _to_ga(event)
            kind = _events.check_event(event)
            return self._out(self._handlers[kind](event))
        except ClientError as exc:
            return self._error(exc, event_id)

    @property
    def response_active(self) -> bool:
        """Whether any response (in-band or out-of-band) is in progress."""
        return self._run is not None or bool(self._oob)

    @property
    def active_response_id(self) -> str | None:
        """Id of the in-band response in progress (the default conversation's), or ``None``."""
        return None if self._run is None else self._run.id

    @property
    def response_ids(self) -> list[str]:
        """Ids of every response in progress: the in-band one first, then out-of-band ones."""
        return [run.id for run in self._runs()]

    def has_response(self, response_id: str) -> bool:
        """Whether ``response_id`` is in progress."""
        return self._find(response_id) is not None

    @property
    def audio_request(self) -> tuple[str, str] | None:
        """``(text, voice)`` some response needs synthesized before it can go on, or ``None``."""
        for run in self._runs():
            if run.audio_request is not None:
                return self.audio_request_of(run.id)
        return None

    def audio_request_of(self, response_id: str) -> tuple[str, str] | None:
        """``(text, voice)`` to synthesize before ``response_id``'s next step, or ``None``."""
        run = self._find(response_id)
        if run is None or run.audio_request is None:
            return None
        return run.audio_request, run.response["audio"]["output"]["voice"]

    def provide_audio(self, samples: np.ndarray, response_id: str | None = None) -> None:
        """Give the synthesized audio (int16, 24 kHz) asked for by :attr:`audio_request`.

        Args:
            samples: the speech.
            response_id: the response that asked (default: the one :attr:`audio_request` names).
        """
        if response_id is None:
            run = next((r for r in self._runs() if r.audio_request is not None), None)
        else:
            run = self._find(response_id)
        if run is not None:
            run.provide_audio(samples)

    # -- deferred work: transcripts and streamed answers (done by the I/O layer) -----------
    def provide_transcript(
        self, item_id: str, transcript: str | None, error: str | None = None
    ) -> list[dict]:
        """Record a deferred transcription's result; return its transcription events.

        Args:
            item_id: the job's item.
            transcript: the text, or ``None`` when the transcriber failed.
            error: what went wrong (for ``...transcription.failed``).
        """
        return self._out(self._transcripts.provide(item_id, transcript, error))

    @property
    def brain_request(self) -> str | None:
        """Id of a response whose brain the I/O layer should start now, or ``None``.

        A deferred response is ready once every transcript it may read has arrived.
        """
        return next((run.id for run in self._runs() if self.brain_ready(run.id)), None)

    def brain_ready(self, response_id: str) -> bool:
        """Whether the brain of ``response_id`` should start now (see :attr:`brain_request`)."""
        run = self._find(response_id)
        return (
            run is not None
            and run.context is not None
            and not self._transcripts.awaiting
            and not self.mcp.listing  # a response sees the tools of every MCP server listed
        )

    def start_brain(self, response_id: str) -> BrainContext | None:
        """Take the brain's view of a response named by :attr:`brain_request` (once)."""
        run = self._find(response_id)
        if run is None or run.context is None:
            return None
        context, run.context = run.context(), None
        run.input_tokens = input_tokens(context.items)
        return context

    def feed(self, response_id: str, piece: Clause | Call | Say) -> bool:
        """Add a piece of a streamed answer; ``False`` when the response takes no more."""
        run = self._find(response_id)
        return run is not None and run.feed(piece)

    def close_plan(self, response_id: str) -> None:
        """The streamed answer of ``response_id`` is complete."""
        run = self._find(response_id)
        if run is not None:
            run.close_plan()

    # -- MCP tools: listings and calls (made by the I/O layer) -----------------------------------
    def take_mcp_list_job(self) -> ListJob | None:
        """The next MCP server whose tools the I/O layer should list, or ``None``."""
        return self.mcp.list_jobs.popleft() if self.mcp.list_jobs else None

    def provide_mcp_tools(
        self, item_id: str, tools: list[dict] | None, error: str | None = None
    ) -> list[dict]:
        """A listing's result (``tools``, or ``None`` and ``error``); return its events."""
        return self._out(self.mcp.listed(item_id, tools, error, self.conversation))

    def take_mcp_call(
        self, response_id: str | None = None
    ) -> tuple[McpCallRequest, dict | None] | None:
        """An MCP call a response waits for (given once) and its server's tool config
        (``None`` when the server is no longer configured), or ``None``.

        Args:
            response_id: the response; by default any response in progress.
        """
        runs = self._runs() if response_id is None else [self._find(response_id)]
        for run in runs:
            request = run.take_mcp_request() if run is not None else None
            if request is not None:
                return request, self.mcp.endpoint_tool(request.server_label)
        return None

    def provide_mcp_result(
        self, response_id: str, item_id: str, output: str | None, error: dict | None = None
    ) -> bool:
        """An MCP call's output (or wire ``error``); ``False`` when its response has ended."""
        run = self._find(response_id)
        return run is not None and run.provide_mcp_result(item_id, output, error)

    @property
    def active_voice(self) -> str | None:
        """The voice of the in-band response in progress (for its synthesizer), or ``None``."""
        return None if self._run is None else self.voice_of(self._run.id)

    def voice_of(self, response_id: str) -> str | None:
        """The voice of response ``response_id``, or ``None`` when it is not in progress."""
        run = self._find(response_id)
        return None if run is None else run.response["audio"]["output"]["voice"]

    @property
    def response_waiting(self) -> bool:
        """Whether the in-band response waits for its producer (brain or synthesis)."""
        return self._run is not None and self.waiting(self._run.id)

    def waiting(self, response_id: str) -> bool:
        """Whether response ``response_id`` waits for its producer (brain or synthesis)."""
        run = self._find(response_id)
        return run is not None and (run.context is not None or run.waiting)

    def next_output(self, response_id: str | None = None) -> Step | None:
        """The next step of a response (events ready to send), or ``None``.

        Args:
            response_id: the response to step; by default the first one in progress that has
                a step ready (the in-band one first), which is how a test drains them all.
        """
        runs = self._runs() if response_id is None else [self._find(response_id)]
        for run in runs:
            if run is None:
                continue
            step = run.next_step()
            if step is None and run.wants_brain:  # MCP results are in: the brain goes on
                failed = continue_response(run, self.brain)
                if failed:
                    return Step(self._out(failed + self._end_response(run)))
                step = run.next_step()
            if step is None:
                continue
            if run.finished:
                step.events += self._end_response(run)
            step.events = self._out(step.events)
            return step
        return None

    def fail_response(
        self, message: str | None = None, code: str | None = None, response_id: str | None = None
    ) -> list[dict]:
        """End a response as ``failed`` (the I/O layer or a stage hit an error).

        Args:
            message: what failed and what to do, put in ``status_details.error``.
            code: a short code for it (e.g. the exception's name).
            response_id: the response (default: the in-band one).
        """
        run = self._run if response_id is None else self._find(response_id)
        if run is None:
            return []
        events = run.fail(message, code) + self._end_response(run)
        return self._out(events)

    def expire(self, minutes: float) -> list[dict]:
        """The error sent before closing a session that reached its maximum duration."""
        text = f"{minutes:g}"
        return self._error(
            ClientError(
                "session_expired",
                f"Your session hit the maximum duration of {text} minutes.",
            ),
            None,
        )

    # -- plumbing -------------------------------------------------------------------------
    def _out(self, events: list[dict]) -> list[dict]:
        out = []
        for event in events:
            if self.dialect == "beta":
                event = to_beta_server_event(event)
                if event is None:
                    continue
            out.append({"event_id": self._new_id("event_"), **event})
        return out

    def _error(self, exc: ClientError, event_id: str | None) -> list[dict]:
        return self._out([error_event(exc, event_id)])

    def _runs(self) -> list[ResponseRun]:
        return ([] if self._run is None else [self._run]) + list(self._oob.values())

    def _find(self, response_id: str) -> ResponseRun | None:
        if self._run is not None and self._run.id == response_id:
            return self._run
        return self._oob.get(response_id)

    def _end_response(self, run: ResponseRun) -> list[dict]:
        if run is self._run:
            self._run = None
        else:
            self._oob.pop(run.id, None)
        for item in run.response["output"]:  # they grew while the response wrote them
            self.conversation.remeasure(item.get("id"))
        self._turns.mark_activity()
        usage = run.response.get("usage") or {}
        self._tokens_used += int(usage.get("total_tokens", 0))
        return [_events.rate_limits(self._tokens_used)]

    # -- session --------------------------------------------------------------------------
    @property
    def transcription_only(self) -> bool:
        """Whether this is a transcription session (captions only, no responses)."""
        return _transcription.is_transcription(self.session)

    def _on_session_update(self, event: dict) -> list[dict]:
        update = event["session"]
        if self.dialect == "ga" and (
            self.transcription_only
            or (isinstance(update, dict) and update.get("type") == "transcription")
        ):
            return self._update_transcription_session(update)
        if self.dialect == "beta" and isinstance(update, dict):
            update = {**update, "type": "realtime"}  # beta sessions carry no type
        session, extras = merge_session(self.session, update, require_type=self.dialect == "ga")
        old_in = self.session["audio"]["input"]
        self.session, self.extras = session, {**self.extras, **extras}
        new_in = session["audio"]["input"]
        if (old_in["format"], old_in["turn_detection"]) != (
            new_in["format"],
            new_in["turn_detection"],
        ):
            self._turns.configure(new_in["format"], new_in["turn_detection"])
        updated = [{"type": "session.updated", "session": copy.deepcopy(session)}]
        if self.dialect == "beta":
            # The beta interface has no MCP items or events: say so rather than emit them.
            if any(t.get("type") == "mcp" for t in session["tools"] if isinstance(t, dict)):
                updated.append(_events.beta_mcp_error())
            return updated
        return updated + self.mcp.configure(session["tools"], self.conversation)

    def _update_transcription_session(self, update: Any) -> list[dict]:
        # A realtime session becomes a transcription one (issue 14; _transcription.py).
        if isinstance(update, dict) and update.get("type") == "realtime":
            raise _transcription.refuse_type_change()
        if self.response_active:
            raise ClientError(
                "conversation_already_has_active_response",
                "A response is in progress: cancel it (response.cancel) or wait for "
                "response.done before making this a transcription session.",
                "session.type",
            )
        session = _transcription.merge_transcription_session(self.session, update)
        old_in, new_in = self.session["audio"]["input"], session["audio"]["input"]
        self.session = session
        if (old_in["format"], old_in["turn_detection"]) != (
            new_in["format"],
            new_in["turn_detection"],
        ):
            self._turns.configure(new_in["format"], new_in["turn_detection"])
        return [{"type": "session.updated", "session": copy.deepcopy(session)}]

    def _on_transcription_session_update(self, event: dict) -> list[dict]:
        raise ClientError(
            "invalid_value",
            "transcription_session.update is the retired beta event: send session.update with "
            "session.type 'transcription' to make this a transcription session.",
            "type",
        )

    # -- conversation ---------------------------------------------------------------------
    def _on_conversation_item_create(self, event: dict) -> list[dict]:
        item, audio = _events.check_new_item(event["item"], self.conversation, self._new_id)
        size = item_size(item)
        self.limits.check_item(size)
        self._check_room(size, "item")
        record = Record(item)
        if audio is not None:
            record.audio, record.rate = audio, self._turns.rate
            record.transcript = item["content"][0].get("transcript")
            if not record.transcript:
                self._transcripts.transcribe(record)
        previous = self.conversation.add(record, event.get("previous_item_id"))
        out = _events.item_added(item, previous)
        return out + (self._transcripts.events(record) if audio is not None else [])

    def _on_conversation_item_delete(self, event: dict) -> list[dict]:
        self.conversation.delete(event["item_id"])
        return [{"type": "conversation.item.deleted", "item_id": event["item_id"]}]

    def _on_conversation_item_retrieve(self, event: dict) -> list[dict]:
        record = self.conversation.get(event["item_id"])
        item = copy.deepcopy(record.item)
        if record.audio is not None and record.rate == 24000:
            long = len(record.audio) >= LAZY_AUDIO_SECONDS * record.rate
            audio = record.audio
            item["content"][0]["audio"] = (
                LazyAudio(audio) if self.lazy_audio and long else encode_base64(audio)
            )
        return [{"type": "conversation.item.retrieved", "item": item}]

    def _on_conversation_item_truncate(self, event: dict) -> list[dict]:
        record = self.conversation.get(event["item_id"])
        record.truncate(event["content_index"], event["audio_end_ms"])
        return [
            {
                "type": "conversation.item.truncated",
                "item_id": record.item["id"],
                "content_index": event["content_index"],
                "audio_end_ms": event["audio_end_ms"],
            }
        ]

    # -- responses ------------------------------------------------------------------------
    def _on_response_create(self, event: dict) -> list[dict]:
        if self.transcription_only:
            raise _transcription.refuse_response()
        params = event.get("response") or {}
        check_fields(params, RESPONSE_SPEC, "response")
        if params.get("conversation") == "none":
            return self._create_out_of_band(params)
        if self._run is not None:
            raise ClientError(
                "conversation_already_has_active_response",
                f"Conversation already has an active response in progress: {self._run.id}. Wait "
                "until the response is finished before creating a new one.",
            )
        self._check_room(0, None)  # its output goes into the conversation
        return self._create_response(params)

    def _check_room(self, size: int, param: str | None) -> None:
        conversation = self.conversation
        self.limits.check_room(len(conversation), conversation.total_bytes, size, param)

    def _on_response_cancel(self, event: dict) -> list[dict]:
        # Without an id, the default conversation's response is the one cancelled (SDK:
        # response_cancel_event.py); an out-of-band one is cancelled by its id.
        wanted = event.get("response_id")
        run = self._find(wanted) if wanted else self._run
        if run is None:
            raise ClientError(
                "response_cancel_not_active",
                "Cancellation failed: no active response found"
                + (f" with id {wanted}." if wanted else "."),
                "response_id" if wanted else None,
            )
        return run.cancel("client_cancelled") + self._end_response(run)

    def _interrupt(self) -> list[dict]:
        # server VAD heard a new turn while the in-band response ran (interrupt_response)
        assert self._run is not None
        run = self._run
        return run.cancel("turn_detected") + self._end_response(run)

    def _create_out_of_band(self, params: dict) -> list[dict]:
        if len(self._oob) >= MAX_OUT_OF_BAND_RESPONSES:
            raise ClientError(
                "too_many_active_responses",
                f"This session already has {len(self._oob)} out-of-band responses in progress "
                f"(the local server runs at most {MAX_OUT_OF_BAND_RESPONSES} at once): wait for "
                "one's response.done, or cancel one with response.cancel and its response_id.",
                "response.conversation",
            )
        events, run = self._start(params)
        if run is not None:
            self._oob[run.id] = run
        return events

    def _create_response(self, params: dict) -> list[dict]:
        events, self._run = self._start(params)
        return events

    def _start(self, params: dict) -> tuple[list[dict], ResponseRun | None]:
        parallel = bool(self.extras.get("parallel_tool_calls", True))
        # While an MCP server's tools are being listed, the brain waits for them (in the I/O
        # layer, as a deferred response), so a turn right after session.update can use them.
        defer = is_streaming(self.brain) or self.defer_transcription or self.mcp.listing
        session, params = _config.named_voice(self.session), _config.named_voice(params)
        # Approved MCP calls are made by the next response of the default conversation.
        in_band = params.get("conversation") != "none"
        return start_response(
            session,
            params,
            self.conversation,
            self.brain,
            self._new_id,
            parallel,
            defer,
            mcp=self.mcp,
            approved=self.mcp.take_approvals(self.conversation) if in_band else None,
        )
