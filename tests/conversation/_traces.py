"""Seeded random GA event traces for the reducer's differential test (not a test module).

A trace is a list of ops, the same vocabulary the Node driver (``js/seed_conversation.mjs``)
reads: ``{"op": "event", "event": {...}}`` (a GA server event), ``{"op": "append", "audio": b64}``
(input audio the client sent, which session time counts) and ``{"op": "queue", "audio": b64}``
(audio of a manual push-to-talk commit). The shapes follow the GA schema and the response order
of DESIGN §6; the beta form of a trace is ``protocol.to_beta_server_event`` of each event.

Covered: text turns, VAD audio turns with input transcription (deltas, completed, failed, a
transcript that arrives before its item, a transcription finishing during the next response),
manual audio turns, audio / text / function-call outputs, two outputs with interleaved deltas,
cancelled responses, function call outputs, truncation, deletion, several responses, unknown ids,
a delta before its item, GA-only and unknown event types.

Left out on purpose (the seed is wrong by design there; ``test_conversation_vs_seed`` asserts our
behaviour separately): client-created assistant/system items that are already ``completed``, and
a second announcement of the same item id.
"""

from __future__ import annotations

import base64
import random
from typing import Any

import numpy as np

SAMPLES_PER_MS = 24  # 24 kHz
WORDS = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex".split()


class TraceBuilder:
    """Builds one trace from a seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.np_rng = np.random.default_rng(seed)
        self.ops: list[dict[str, Any]] = []
        self.counter = 0
        self.input_ms = 0  # input audio written so far (session time)
        self.items: list[str] = []  # announced item ids still alive
        self.audio_items: dict[str, int] = {}  # assistant audio item id -> samples sent
        self.deferred: list[dict[str, Any]] = []  # events to slip into the next response

    # -- primitives --------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:05d}"

    def event(self, etype: str, **fields: Any) -> None:
        self.ops.append(
            {"op": "event", "event": {"type": etype, "event_id": self.new_id("evt_"), **fields}}
        )

    def pcm(self, samples: int) -> str:
        data = self.np_rng.integers(-32768, 32767, samples, dtype=np.int16, endpoint=True)
        return base64.b64encode(data.astype("<i2").tobytes()).decode()

    def append_input(self, ms: int) -> None:
        left = ms
        while left > 0:
            step = min(left, self.rng.choice((20, 40, 60, 100)))
            self.ops.append({"op": "append", "audio": self.pcm(step * SAMPLES_PER_MS)})
            left -= step
        self.input_ms += ms

    def words(self, n: int) -> list[str]:
        return [self.rng.choice(WORDS) + " " for _ in range(n)]

    def announce(self, item: dict[str, Any], previous: str | None = None) -> None:
        # GA servers announce with `.added`, but `.created` may still appear (DESIGN §6).
        etype = (
            "conversation.item.created" if self.rng.random() < 0.2 else "conversation.item.added"
        )
        self.event(etype, previous_item_id=previous, item=item)
        self.items.append(item["id"])

    def flush_deferred(self) -> None:
        while self.deferred:
            self.ops.append(self.deferred.pop(0))

    # -- user turns --------------------------------------------------------------------------

    def text_turn(self) -> None:
        item_id = self.new_id("item_")
        text = "".join(self.words(self.rng.randint(1, 6))).strip()
        item = {
            "id": item_id,
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_text", "text": text}],
        }
        self.announce(item)
        self.event("conversation.item.done", previous_item_id=None, item=item)

    def vad_turn(self) -> None:
        item_id = self.new_id("item_")
        self.append_input(self.rng.randint(1, 15) * 20)
        started = self.rng.random() > 0.05  # rarely, speech_stopped comes without speech_started
        if started:
            start = max(0, self.input_ms - 300)
            self.event("input_audio_buffer.speech_started", audio_start_ms=start, item_id=item_id)
        self.append_input(self.rng.randint(10, 60) * 20)
        if self.rng.random() < 0.2:
            self.event("rate_limits.updated", rate_limits=[])
        self.append_input(200)
        self.event(
            "input_audio_buffer.speech_stopped", audio_end_ms=self.input_ms - 150, item_id=item_id
        )
        self.event("input_audio_buffer.committed", previous_item_id=None, item_id=item_id)
        transcript = "".join(self.words(self.rng.randint(0, 5)))
        early = self.rng.random() < 0.15
        if early:  # the transcript beats its item (the seed queues it)
            self.transcription(item_id, transcript, deltas=False)
        item = {
            "id": item_id,
            "type": "message",
            "role": "user",
            "status": "completed",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        self.announce(item)
        self.event("conversation.item.done", previous_item_id=None, item=item)
        if not early:
            mark = len(self.ops)
            self.transcription(item_id, transcript, deltas=True)
            if self.rng.random() < 0.4:  # finishes while the next response streams
                self.deferred.extend(self.ops[mark:])
                del self.ops[mark:]

    def transcription(self, item_id: str, transcript: str, *, deltas: bool) -> None:
        if deltas:
            for word in transcript.split(" ")[: self.rng.randint(0, 3)]:
                self.event(
                    "conversation.item.input_audio_transcription.delta",
                    item_id=item_id,
                    content_index=0,
                    delta=word,
                )
        if self.rng.random() < 0.1:
            self.event(
                "conversation.item.input_audio_transcription.failed",
                item_id=item_id,
                content_index=0,
                error={"type": "transcription_error", "message": "no speech"},
            )
            return
        self.event(
            "conversation.item.input_audio_transcription.completed",
            item_id=item_id,
            content_index=0,
            transcript=transcript,
        )

    def manual_turn(self) -> None:
        item_id = self.new_id("item_")
        self.ops.append({"op": "queue", "audio": self.pcm(self.rng.randint(50, 2000))})
        self.event("input_audio_buffer.committed", previous_item_id=None, item_id=item_id)
        self.announce(
            {
                "id": item_id,
                "type": "message",
                "role": "user",
                "status": "completed",
                "content": [{"type": "input_audio", "transcript": None}],
            }
        )

    # -- responses ---------------------------------------------------------------------------

    def response(self) -> list[dict[str, Any]]:
        """One response; returns its function-call items (to be answered)."""
        rid = self.new_id("resp_")
        self.event(
            "response.created",
            response={
                "id": rid,
                "object": "realtime.response",
                "status": "in_progress",
                "output": [],
            },
        )
        cancelled = self.rng.random() < 0.1
        kinds = [
            self.rng.choice(("audio", "audio", "text", "function_call"))
            for _ in range(self.rng.choice((1, 1, 2)))
        ]
        streams = [self.open_output(rid, index, kind) for index, kind in enumerate(kinds)]
        interleave = len(streams) > 1 and self.rng.random() < 0.5
        self.flush_deferred()
        pending = [list(s["deltas"]) for s in streams]
        if cancelled:
            pending = [p[: self.rng.randint(0, len(p))] for p in pending]
        if interleave:
            while any(pending):
                lane = self.rng.choice([p for p in pending if p])
                self.ops.append(lane.pop(0))
        else:
            for p in pending:
                self.ops.extend(p)
        outputs = [self.close_output(rid, s, cancelled) for s in streams]
        usage = {"total_tokens": 10, "input_tokens": 4, "output_tokens": 6}
        status = "cancelled" if cancelled else "completed"
        self.event(
            "response.done",
            response={
                "id": rid,
                "object": "realtime.response",
                "status": status,
                "output": outputs,
                "usage": usage,
            },
        )
        return [o for o in outputs if o["type"] == "function_call" and not cancelled]

    def open_output(self, rid: str, index: int, kind: str) -> dict[str, Any]:
        item_id = self.new_id("item_")
        stream: dict[str, Any] = {
            "id": item_id,
            "kind": kind,
            "index": index,
            "deltas": [],
            "sent": [],
        }
        if kind == "function_call":
            item = {
                "id": item_id,
                "type": "function_call",
                "status": "in_progress",
                "name": "get_weather",
                "call_id": self.new_id("call_"),
                "arguments": "",
            }
            stream["item"] = item
        else:
            item = {
                "id": item_id,
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
            }
            stream["item"] = item
        self.event("response.output_item.added", response_id=rid, output_index=index, item=item)
        early = kind == "audio" and self.rng.random() < 0.1
        if early:  # a delta before its item: dropped by both reducers
            self.event(
                "response.output_audio.delta",
                response_id=rid,
                item_id=item_id,
                output_index=index,
                content_index=0,
                delta=self.pcm(120),
            )
        self.announce(dict(item))
        if kind == "audio":
            self.event(
                "response.content_part.added",
                response_id=rid,
                item_id=item_id,
                output_index=index,
                content_index=0,
                part={"type": "output_audio", "transcript": ""},
            )
        elif kind == "text":
            self.event(
                "response.content_part.added",
                response_id=rid,
                item_id=item_id,
                output_index=index,
                content_index=0,
                part={"type": "output_text", "text": ""},
            )
        common = {"response_id": rid, "item_id": item_id, "output_index": index}
        deltas = stream["deltas"]
        for _ in range(self.rng.randint(1, 8)):
            if kind == "audio":
                n = self.rng.randint(1, 40) * 24
                deltas.append(
                    self.op(
                        "response.output_audio.delta",
                        **common,
                        content_index=0,
                        delta=self.pcm(n),
                        _n=n,
                    )
                )
                if self.rng.random() < 0.8:
                    word = self.words(1)[0]
                    deltas.append(
                        self.op(
                            "response.output_audio_transcript.delta",
                            **common,
                            content_index=0,
                            delta=word,
                        )
                    )
            elif kind == "text":
                deltas.append(
                    self.op(
                        "response.output_text.delta",
                        **common,
                        content_index=0,
                        delta=self.words(1)[0],
                    )
                )
            else:
                deltas.append(
                    self.op(
                        "response.function_call_arguments.delta",
                        **common,
                        call_id=item["call_id"],
                        delta=self.rng.choice(('{"city":', ' "Paris"', ', "days": 3', "}")),
                    )
                )
        return stream

    def op(self, etype: str, _n: int = 0, **fields: Any) -> dict[str, Any]:
        return {
            "op": "event",
            "event": {"type": etype, "event_id": self.new_id("evt_"), **fields},
            "_n": _n,
        }

    def close_output(self, rid: str, stream: dict[str, Any], cancelled: bool) -> dict[str, Any]:
        item_id, index, kind = stream["id"], stream["index"], stream["kind"]
        sent = [
            op
            for op in self.ops
            if op.get("op") == "event" and op["event"].get("item_id") == item_id
        ]
        text = "".join(
            op["event"]["delta"]
            for op in sent
            if op["event"]["type"] == "response.output_text.delta"
        )
        transcript = "".join(
            op["event"]["delta"]
            for op in sent
            if op["event"]["type"] == "response.output_audio_transcript.delta"
        )
        args = "".join(
            op["event"]["delta"]
            for op in sent
            if op["event"]["type"] == "response.function_call_arguments.delta"
        )
        common = {"response_id": rid, "item_id": item_id, "output_index": index}
        status = "incomplete" if cancelled else "completed"
        item = dict(stream["item"], status=status)
        if kind == "audio":
            self.audio_items[item_id] = sum(op.get("_n", 0) for op in sent)
            self.event("response.output_audio.done", **common, content_index=0)
            self.event(
                "response.output_audio_transcript.done",
                **common,
                content_index=0,
                transcript=transcript,
            )
            part = {"type": "output_audio", "transcript": transcript}
            self.event("response.content_part.done", **common, content_index=0, part=part)
            item["content"] = [part]
        elif kind == "text":
            self.event("response.output_text.done", **common, content_index=0, text=text)
            part = {"type": "output_text", "text": text}
            self.event("response.content_part.done", **common, content_index=0, part=part)
            item["content"] = [part]
        else:
            item["arguments"] = args
            self.event(
                "response.function_call_arguments.done",
                **common,
                call_id=item["call_id"],
                name=item["name"],
                arguments=args,
            )
        self.event("response.output_item.done", response_id=rid, output_index=index, item=item)
        self.event("conversation.item.done", previous_item_id=None, item=item)
        return item

    # -- extras ------------------------------------------------------------------------------

    def extra(self) -> None:
        choice = self.rng.random()
        if choice < 0.3 and self.audio_items:
            item_id = self.rng.choice(sorted(self.audio_items))
            end_ms = self.rng.randint(0, self.audio_items[item_id] // SAMPLES_PER_MS + 50)
            self.event(
                "conversation.item.truncated", item_id=item_id, content_index=0, audio_end_ms=end_ms
            )
        elif choice < 0.45 and self.items:
            item_id = self.items.pop(self.rng.randrange(len(self.items)))
            self.audio_items.pop(item_id, None)
            self.event("conversation.item.deleted", item_id=item_id)
        elif choice < 0.65:
            ghost = self.new_id("item_ghost_")
            etype = self.rng.choice(
                (
                    "response.output_audio.delta",
                    "response.output_audio_transcript.delta",
                    "response.output_text.delta",
                    "response.function_call_arguments.delta",
                    "conversation.item.truncated",
                    "conversation.item.deleted",
                    "response.content_part.added",
                )
            )
            fields: dict[str, Any] = {
                "item_id": ghost,
                "content_index": 0,
                "response_id": "resp_ghost",
                "output_index": 0,
            }
            fields["delta"] = self.pcm(48) if etype.endswith("audio.delta") else "x"
            fields["audio_end_ms"] = 10
            fields["part"] = {"type": "output_text", "text": ""}
            self.event(etype, **fields)
        elif choice < 0.8:
            self.event("output_audio_buffer.started", response_id="resp_x")
            self.event(
                "input_audio_buffer.timeout_triggered",
                audio_start_ms=0,
                audio_end_ms=0,
                item_id="item_idle",
            )
        else:
            self.event("response.future_event_nobody_knows", payload={"n": 1})


def generate_trace(seed: int, turns: int = 12) -> list[dict[str, Any]]:
    """A GA trace of ``turns`` user turns, each followed by its response(s), from ``seed``."""
    b = TraceBuilder(seed)
    for _ in range(turns):
        kind = b.rng.choice(("text", "vad", "vad", "manual"))
        {"text": b.text_turn, "vad": b.vad_turn, "manual": b.manual_turn}[kind]()
        calls = b.response()
        for call in calls:
            output_id = b.new_id("item_")
            b.announce(
                {
                    "id": output_id,
                    "type": "function_call_output",
                    "call_id": call["call_id"],
                    "output": '{"temp": 21}',
                }
            )
        if calls:
            b.response()
        b.flush_deferred()
        while b.rng.random() < 0.5:
            b.extra()
    for op in b.ops:
        op.pop("_n", None)
    return b.ops
