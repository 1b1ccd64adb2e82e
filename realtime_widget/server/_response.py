r"""One response as a lazy sequence of steps in the exact order of DESIGN §6 (pure).

A :class:`ResponseRun` turns a brain's plan into *steps*: a list of GA server events plus the
milliseconds of audio they carry. The I/O layer sends a step, then waits until the audio sent so
far is due (real-time pacing); between steps the client may cancel, which finishes the item in
flight as ``incomplete`` and ends the response ``cancelled``. Spoken items need audio first: the
run asks for it (:attr:`ResponseRun.audio_request`) so the I/O layer can synthesize off the loop.

A plan is either given whole (the deterministic brains) or *streamed*: the run is created open
(``plan=None``), the I/O layer feeds it (:meth:`~ResponseRun.feed`) :class:`Clause` pieces (a
clause of the assistant's message with its audio already synthesized) and calls as the language
model produces them, and :meth:`~ResponseRun.close_plan` ends it. Consecutive clauses grow one
message item, so the first clause is heard while the model still writes the rest (DESIGN §10).

A call to an MCP tool (``route`` says which server) becomes an ``mcp_call`` item whose result the
I/O layer fetches (:meth:`~ResponseRun.take_mcp_request`, :meth:`~ResponseRun.provide_mcp_result`);
the run waits for it, then, once the plan is spent, asks for the brain again
(:attr:`~ResponseRun.wants_brain`) so the answer uses the result in the same response, as OpenAI
does. A call that needs approval becomes an ``mcp_approval_request`` item instead.
"""

from __future__ import annotations

import copy
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from realtime_widget.audio import alaw_encode, encode_base64, resample, ulaw_encode
from realtime_widget.server._items import Conversation, Record
from realtime_widget.server._mcp import MAX_ROUNDS, ApprovedCall, McpRoute
from realtime_widget.server.brains import BrainContext, Call, PlanItem, Say

__all__ = ["Clause", "McpCallRequest", "ResponseRun", "Step"]

CHUNK_MS = 100  # audio per delta, like the real service's ~100 ms deltas


@dataclass
class Step:
    """Events to send together and the audio they carry (for pacing).

    Attributes:
        events: GA server events without ``event_id`` (the state machine stamps them).
        audio_ms: milliseconds of assistant audio in these events.
    """

    events: list[dict]
    audio_ms: float = 0.0
    item_id: str | None = None
    transcript_delta: str = ""
    closing: bool = False  # a placeholder for an item's closing events, built when reached


@dataclass(frozen=True)
class Clause:
    """A piece of a streamed assistant message: its text and, for audio output, its speech.

    Attributes:
        text: the clause as the model wrote it (concatenated clauses give the whole message).
        audio: int16 speech at 24 kHz for audio output, ``None`` for text output.
    """

    text: str
    audio: np.ndarray | None = None


@dataclass(frozen=True)
class McpCallRequest:
    """An MCP tool call for the I/O layer to make; answer it with ``provide_mcp_result``."""

    response_id: str
    item_id: str
    server_label: str
    name: str
    arguments: str


def _tokens(text: str) -> int:
    return math.ceil(len(text) / 4) if text else 0


def _encode(samples: np.ndarray, audio_format: dict) -> tuple[list[str], list[float]]:
    kind = audio_format.get("type", "audio/pcm")
    if kind == "audio/pcm":
        rate, data = 24000, samples
    else:
        rate = 8000
        low = np.asarray(resample(samples, 24000, 8000))
        data = (ulaw_encode if kind == "audio/pcmu" else alaw_encode)(low)
    step = rate * CHUNK_MS // 1000
    chunks, durations = [], []
    for start in range(0, len(data), step):
        piece = data[start : start + step]
        chunks.append(encode_base64(piece) if kind == "audio/pcm" else _b64(piece))
        durations.append(len(piece) * 1000.0 / rate)
    return chunks, durations


def _b64(codes) -> str:
    import base64

    return base64.b64encode(np.asarray(codes, dtype=np.uint8).tobytes()).decode("ascii")


class ResponseRun:
    """The events of one response, produced step by step.

    Args:
        response: the ``response`` object of ``response.created`` (GA, status ``in_progress``).
        plan: the brain's output items, or ``None`` for a streamed plan (see :meth:`feed`).
        conversation: where output items are added, or ``None`` for ``conversation: "none"``.
        new_id: id factory (``generate_id``).
        input_tokens: estimated tokens of the input (for ``usage``).
    """

    def __init__(
        self,
        response: dict,
        plan: list[PlanItem] | None,
        conversation: Conversation | None,
        new_id: Callable[[str], str],
        input_tokens: int = 0,
    ) -> None:
        self.response = response
        self.id: str = response["id"]
        self.cut_short = False
        limit = response.get("max_output_tokens")
        self._budget: int | None = (
            limit if isinstance(limit, int) and not isinstance(limit, bool) else None
        )
        self.plan_closed = plan is not None
        """Whether every output item is known (always, for a plan given whole)."""
        self._plan: deque = deque(self._within_limit(plan or []))
        self._streaming = False  # the open message item grows by clauses
        self._conversation = conversation
        self._new_id = new_id
        self._steps: deque[Step] = deque()
        self._audio: np.ndarray | None = None
        self._current: Record | None = None  # the item whose steps are being sent
        self._sent_transcript = ""
        self.input_tokens = input_tokens
        self._out_text = self._out_audio_ms = 0
        self.finished = False
        self.context: Callable[[], BrainContext] | None = None
        """For a streamed plan: builds what the brain sees (set by ``start_response``)."""
        self.single_call = False  # parallel_tool_calls off: keep only the first call
        self._calls = 0
        self.route: Callable[[Call], McpRoute | None] | None = None
        """Which calls go to an MCP server (set by ``start_response``)."""
        self.resume: Callable[[], BrainContext] | None = None
        """Builds the brain's view again, to continue after MCP results (``start_response``)."""
        self.deferred = False  # the brain runs in the I/O layer (streamed)
        self.wants_brain = False
        """The plan is spent after MCP results: the brain should be asked to go on."""
        self._mcp_wait: McpCallRequest | None = None  # the call whose result is awaited
        self._mcp_taken = False
        self._mcp_answered = 0  # MCP results since the brain was last asked
        self._rounds = 0

    @property
    def audio_request(self) -> str | None:
        """Text to synthesize before the next step, or ``None``."""
        if self._steps or not self._plan or self._audio is not None:
            return None
        head = self._plan[0]
        if isinstance(head, Say) and "audio" in self.response["output_modalities"]:
            return head.text
        return None

    def feed(self, piece: Clause | Call | Say) -> bool:
        """Add the next piece of a streamed plan.

        Returns:
            ``False`` when the run takes no more (finished, closed, or ``max_output_tokens``
            reached: the producer should stop generating).
        """
        if self.finished or self.plan_closed:
            return False
        if isinstance(piece, Call):
            self._calls += 1
            if self.single_call and self._calls > 1:
                return True  # parallel_tool_calls is off: later calls are not made
        kept = self._within_limit([piece])
        self._plan.extend(kept)
        if self.cut_short:
            self.plan_closed = True
            return False
        return True

    def close_plan(self) -> None:
        """No more pieces: the response ends once the fed ones are sent."""
        self.plan_closed = True

    @property
    def waiting(self) -> bool:
        """Whether the run waits for the producer or an MCP call (nothing to send meanwhile)."""
        if self.finished or self._steps:
            return False
        return self._mcp_wait is not None or (not self._plan and not self.plan_closed)

    def take_mcp_request(self) -> McpCallRequest | None:
        """The MCP call to make now (given once), or ``None``."""
        if self._mcp_wait is None or self._mcp_taken or self.finished:
            return None
        self._mcp_taken = True
        return self._mcp_wait

    def provide_mcp_result(self, item_id: str, output: str | None, error: dict | None) -> bool:
        """The result of the MCP call ``item_id``: its ``output`` or its wire ``error`` object.

        Returns:
            ``False`` when the call is no longer awaited (the response ended meanwhile).
        """
        wait = self._mcp_wait
        if wait is None or wait.item_id != item_id or self.finished or self._current is None:
            return False
        item = self._current.item
        index = self.response["output"].index(item)
        # completed/failed carry no response_id in the SDK's models
        if error is None:
            item["output"] = output if output is not None else ""
            events = [
                {"type": "response.mcp_call.completed", "output_index": index, "item_id": item_id}
            ]
        else:
            item["error"] = dict(error)
            events = [
                {"type": "response.mcp_call.failed", "output_index": index, "item_id": item_id}
            ]
        self._steps.append(Step([*events, *self._close_current()], item_id=item_id))
        self._mcp_wait, self._mcp_taken = None, False
        self._mcp_answered += 1
        return True

    def reopen(self, context: Callable[[], BrainContext] | None) -> None:
        """Let the brain add to the plan again (after MCP results): fed by the I/O layer when
        ``context`` is given (a streamed brain), else by :meth:`feed` then :meth:`close_plan`."""
        self.plan_closed = False
        self.context = context
        self._calls = 0

    def provide_audio(self, samples: np.ndarray) -> None:
        """Give the audio (int16, 24 kHz) asked for by :attr:`audio_request`."""
        self._audio = np.asarray(samples, dtype=np.int16)

    def next_step(self) -> Step | None:
        """The next step to send; ``None`` when waiting for audio or after ``response.done``."""
        if self.finished or (self.audio_request is not None and not self._steps):
            return None
        if not self._steps:
            if self._mcp_wait is not None:
                return None  # the call's result comes first
            if self._plan:
                head = self._plan[0]
                if self._streaming and not isinstance(head, Clause):
                    self._streaming = False
                    self._steps.append(Step([], closing=True))
                else:
                    self._expand(self._plan.popleft())
            elif not self.plan_closed:
                return None
            elif self._streaming:
                self._streaming = False
                self._steps.append(Step([], closing=True))
            elif self._mcp_answered and self._can_resume():
                self._mcp_answered = 0
                self._rounds += 1
                self.wants_brain = True
                return None
            else:
                self.finished = True
                if self.cut_short:
                    return Step(self._finish("incomplete", "max_output_tokens"))
                return Step(self._finish("completed", None))
        step = self._steps.popleft()
        if step.closing:
            return Step(self._close_current())
        if self._current is not None and step.item_id == self._current.item["id"]:
            self._current.audio_ms += step.audio_ms
            self._out_audio_ms += step.audio_ms
            self._sent_transcript += step.transcript_delta
        return step

    def _can_resume(self) -> bool:
        return self.resume is not None and not self.cut_short and self._rounds < MAX_ROUNDS

    def cancel(self, reason: str) -> list[dict]:
        """End the response now: finish the item in flight as incomplete, then ``response.done``.

        Args:
            reason: ``client_cancelled`` or ``turn_detected``.
        """
        events: list[dict] = []
        if self._current is not None:
            events = self._close_current(incomplete=True)
        self._steps.clear()
        self._plan.clear()
        self.finished = self.plan_closed = True
        self._streaming = False
        self._mcp_wait = None
        return events + self._finish("cancelled", reason)

    def _within_limit(self, plan: list) -> list:
        """Cut pieces at ``max_output_tokens`` (about 4 characters per token)."""
        if self._budget is None:
            return plan
        out: list = []
        for entry in plan:
            text = entry.arguments_json if isinstance(entry, Call) else entry.text
            if _tokens(text) <= self._budget:
                out.append(entry)
                self._budget -= _tokens(text)
                continue
            self.cut_short = True
            if not isinstance(entry, Call) and self._budget > 0:
                cut = text[: self._budget * 4]
                if isinstance(entry, Say):
                    out.append(Say(cut))
                else:  # the clause's audio no longer matches: keep the share of it
                    audio = entry.audio
                    if audio is not None and text:
                        audio = audio[: len(audio) * len(cut) // len(text)]
                    out.append(Clause(cut, audio))
            self._budget = 0
            break
        return out

    def fail(self, message: str | None = None, code: str | None = None) -> list[dict]:
        """End the response now as ``failed`` (an internal error, or a stage that failed).

        The item in flight is finished as ``incomplete`` first, so the client's view of it ends.
        """
        events = self._close_current(incomplete=True) if self._current is not None else []
        self._steps.clear()
        self._plan.clear()
        self.finished = self.plan_closed = True
        self._streaming = False
        self._mcp_wait = None
        events += self._finish("failed", None)
        if message:
            error = {"type": "server_error", "code": code, "message": message}
            self.response["status_details"]["error"] = error
            events[-1]["response"]["status_details"]["error"] = dict(error)
        return events

    # -- expansion ------------------------------------------------------------------------
    def _base(self, kind: str, output_index: int, **fields) -> dict:
        return {"type": kind, "response_id": self.id, "output_index": output_index, **fields}

    def _start_item(self, item: dict) -> tuple[list[dict], int]:
        index = len(self.response["output"])
        self.response["output"].append(item)
        record = Record(item)
        self._current = record
        events = [self._base("response.output_item.added", index, item=copy.deepcopy(item))]
        if self._conversation is not None:
            previous = self._conversation.add(record)
            events.append(
                {
                    "type": "conversation.item.added",
                    "previous_item_id": previous,
                    "item": copy.deepcopy(item),
                }
            )
        return events, index

    def _expand(self, plan_item: PlanItem | Clause) -> None:
        if isinstance(plan_item, Clause):
            self._expand_clause(plan_item)
        elif isinstance(plan_item, ApprovedCall):
            label = plan_item.server_label
            self._expand_mcp_call(
                label, plan_item.name, plan_item.arguments, plan_item.approval_request_id
            )
            known = self.route(Call(plan_item.name, server_label=label)) if self.route else None
            if known is None:  # approved, but the session has no such server (tool) any more
                error = {
                    "type": "tool_execution_error",
                    "message": f"The approved call to {plan_item.name!r} was not made: MCP server "
                    f"{label!r} has no such tool in this session's tools (add the mcp tool with "
                    "its server_url to the session first).",
                }
                self.provide_mcp_result(self._steps[-1].item_id or "", None, error)
        elif isinstance(plan_item, Call):
            route = self.route(plan_item) if self.route is not None else None
            if route is None:
                self._expand_call(plan_item)
            elif route.approval:
                self._expand_approval_request(route.server_label, plan_item)
            else:
                self._expand_mcp_call(route.server_label, plan_item.name, plan_item.arguments_json)
        elif "audio" in self.response["output_modalities"]:
            audio, self._audio = self._audio, None
            self._expand_audio(
                plan_item.text, audio if audio is not None else np.zeros(0, np.int16)
            )
        else:
            self._expand_text(plan_item.text)

    def _message(self) -> dict:
        return {
            "id": self._new_id("item_"),
            "object": "realtime.item",
            "type": "message",
            "status": "in_progress",
            "role": "assistant",
            "content": [],
        }

    def _expand_text(self, text: str) -> None:
        item = self._message()
        events, index = self._start_item(item)
        ids = {"item_id": item["id"], "content_index": 0}
        events.append(
            self._base(
                "response.content_part.added", index, **ids, part={"type": "text", "text": ""}
            )
        )
        self._steps.append(Step(events, item_id=item["id"]))
        for word in _pieces(text):
            self._steps.append(
                Step([self._base("response.output_text.delta", index, **ids, delta=word)])
            )
        self._out_text += _tokens(text)
        item["content"] = [{"type": "output_text", "text": text}]
        self._steps.append(Step([], closing=True))

    def _expand_audio(self, text: str, samples: np.ndarray) -> None:
        item = self._message()
        events, index = self._start_item(item)
        ids = {"item_id": item["id"], "content_index": 0}
        events.append(
            self._base(
                "response.content_part.added",
                index,
                **ids,
                part={"type": "audio", "transcript": ""},
            )
        )
        self._audio_steps(events, index, ids, text, samples)
        self._out_text += _tokens(text)
        item["content"] = [{"type": "output_audio", "transcript": ""}]
        self._steps.append(Step([], closing=True))

    def _expand_clause(self, clause: Clause) -> None:
        """Grow the streamed message by one clause (opening it on the first)."""
        audio_out = "audio" in self.response["output_modalities"]
        if self._streaming and self._current is not None:
            item = self._current.item
            index = self.response["output"].index(item)
            events: list[dict] = []
        else:
            item = self._message()
            events, index = self._start_item(item)
            part = (
                {"type": "audio", "transcript": ""} if audio_out else {"type": "text", "text": ""}
            )
            events.append(
                self._base(
                    "response.content_part.added",
                    index,
                    item_id=item["id"],
                    content_index=0,
                    part=part,
                )
            )
            item["content"] = [
                {"type": "output_audio", "transcript": ""}
                if audio_out
                else {"type": "output_text", "text": ""}
            ]
            self._streaming = True
        ids = {"item_id": item["id"], "content_index": 0}
        self._out_text += _tokens(clause.text)
        if not audio_out:
            item["content"][0]["text"] += clause.text
            if clause.text:
                events.append(
                    self._base("response.output_text.delta", index, **ids, delta=clause.text)
                )
            self._steps.append(Step(events, item_id=item["id"]))
            return
        samples = clause.audio if clause.audio is not None else np.zeros(0, np.int16)
        self._audio_steps(events, index, ids, clause.text, np.asarray(samples, np.int16))

    def _audio_steps(
        self, events: list[dict], index: int, ids: dict, text: str, samples: np.ndarray
    ) -> None:
        """Steps carrying ``samples`` as audio deltas, ``text`` spread over them as transcript."""
        fmt = self.response["audio"]["output"]["format"]
        chunks, durations = _encode(samples, fmt)
        words = _pieces(text)
        said = 0
        for n, (chunk, ms) in enumerate(zip(chunks, durations, strict=True), start=1):
            step_events = events if n == 1 else []
            step_events.append(self._base("response.output_audio.delta", index, **ids, delta=chunk))
            upto = round(len(words) * n / len(chunks))
            delta = "".join(words[said:upto])
            if delta:
                step_events.append(
                    self._base("response.output_audio_transcript.delta", index, **ids, delta=delta)
                )
            said = upto
            self._steps.append(Step(step_events, ms, ids["item_id"], delta))
        if not chunks:
            if text:
                events.append(
                    self._base("response.output_audio_transcript.delta", index, **ids, delta=text)
                )
            self._steps.append(Step(events, 0.0, ids["item_id"], text))

    def _expand_call(self, call: Call) -> None:
        arguments = call.arguments_json
        item = {
            "id": self._new_id("item_"),
            "object": "realtime.item",
            "type": "function_call",
            "status": "in_progress",
            "name": call.name,
            "call_id": call.call_id or self._new_id("call_"),
            "arguments": "",
        }
        events, index = self._start_item(item)
        ids = {"item_id": item["id"], "call_id": item["call_id"]}
        events.append(
            self._base("response.function_call_arguments.delta", index, **ids, delta=arguments)
        )
        events.append(
            self._base(
                "response.function_call_arguments.done",
                index,
                **ids,
                name=call.name,
                arguments=arguments,
            )
        )
        item["arguments"] = arguments
        self._out_text += _tokens(arguments)
        events += self._close_current()
        self._steps.append(Step(events, item_id=item["id"]))

    def _expand_mcp_call(
        self, server_label: str, name: str, arguments: str, approval_request_id: str | None = None
    ) -> None:
        """An ``mcp_call`` item up to ``response.mcp_call.in_progress``; then the call is made."""
        item = {
            "id": self._new_id("item_"),
            "type": "mcp_call",
            "server_label": server_label,
            "name": name,
            "arguments": "",
            "approval_request_id": approval_request_id,
            "error": None,
            "output": None,
        }
        events, index = self._start_item(item)
        ids = {"item_id": item["id"]}
        events += [
            self._base("response.mcp_call_arguments.delta", index, **ids, delta=arguments),
            self._base("response.mcp_call_arguments.done", index, **ids, arguments=arguments),
            # in_progress carries no response_id in the SDK's model
            {"type": "response.mcp_call.in_progress", "output_index": index, **ids},
        ]
        item["arguments"] = arguments
        self._out_text += _tokens(arguments)
        self._steps.append(Step(events, item_id=item["id"]))
        self._mcp_wait = McpCallRequest(self.id, item["id"], server_label, name, arguments)
        self._mcp_taken = False

    def _expand_approval_request(self, server_label: str, call: Call) -> None:
        """An ``mcp_approval_request`` item: the call waits for the user's answer."""
        item = {
            "id": self._new_id("mcpr_"),
            "type": "mcp_approval_request",
            "server_label": server_label,
            "name": call.name,
            "arguments": call.arguments_json,
        }
        events, _ = self._start_item(item)
        self._out_text += _tokens(item["arguments"])
        self._steps.append(Step([*events, *self._close_current()], item_id=item["id"]))

    # -- closing --------------------------------------------------------------------------
    def _close_current(self, *, incomplete: bool = False) -> list[dict]:
        record = self._current
        assert record is not None
        item = record.item
        index = self.response["output"].index(item)
        ids = {"item_id": item["id"], "content_index": 0}
        events: list[dict] = []
        content = item.get("content") or []
        if content and content[0]["type"] == "output_audio":
            transcript = self._sent_transcript
            content[0]["transcript"] = transcript
            events += [
                self._base("response.output_audio.done", index, **ids),
                self._base(
                    "response.output_audio_transcript.done", index, **ids, transcript=transcript
                ),
                self._base(
                    "response.content_part.done",
                    index,
                    **ids,
                    part={"type": "audio", "transcript": transcript},
                ),
            ]
        elif content and content[0]["type"] == "output_text":
            text = content[0]["text"]
            events += [
                self._base("response.output_text.done", index, **ids, text=text),
                self._base(
                    "response.content_part.done", index, **ids, part={"type": "text", "text": text}
                ),
            ]
        if item["type"].startswith("mcp_"):  # MCP items carry no status (the SDK's models)
            if incomplete and item["type"] == "mcp_call" and item.get("output") is None:
                item["error"] = item.get("error") or {
                    "type": "tool_execution_error",
                    "message": "The response ended before the MCP call finished; it was not "
                    "waited for.",
                }
        else:
            item["status"] = "incomplete" if incomplete else "completed"
        events.append(self._base("response.output_item.done", index, item=copy.deepcopy(item)))
        if self._conversation is not None and item["id"] in self._conversation:
            events.append({"type": "conversation.item.done", "item": copy.deepcopy(item)})
        self._current, self._sent_transcript = None, ""
        return events

    def _finish(self, status: str, reason: str | None) -> list[dict]:
        response = self.response
        response["status"] = status
        response["status_details"] = (
            {"type": status, "reason": reason} if reason else {"type": status}
        )
        audio_tokens = math.ceil(self._out_audio_ms / 50)
        output_tokens = self._out_text + audio_tokens
        response["usage"] = {
            "total_tokens": self.input_tokens + output_tokens,
            "input_tokens": self.input_tokens,
            "output_tokens": output_tokens,
            "input_token_details": {
                "cached_tokens": 0,
                "text_tokens": self.input_tokens,
                "audio_tokens": 0,
            },
            "output_token_details": {"text_tokens": self._out_text, "audio_tokens": audio_tokens},
        }
        return [{"type": "response.done", "response": copy.deepcopy(response)}]


def _pieces(text: str) -> list[str]:
    """Split text into word-sized deltas that concatenate back to it exactly."""
    out, start = [], 0
    for i in range(1, len(text)):
        if text[i] == " " and text[i - 1] != " ":
            out.append(text[start:i])
            start = i
    if text:
        out.append(text[start:])
    return out
