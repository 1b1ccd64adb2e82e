"""Who answers in the embedded server: the :class:`Brain` interface and two brains.

A brain sees the conversation (GA-shaped item dicts, with the server's own transcript of user
audio), the session's tools and instructions, and returns a plan: the output items of one
response, each a :class:`Say` (an assistant message, spoken or written per the session's output
modalities) or a :class:`Call` (a function call). The session state machine turns the plan into
the exact event sequence of DESIGN §6; brains never see the wire.

* :class:`EchoBrain` (default) is deterministic: it repeats the last user message, or, when tools
  are configured and the message asks for one, calls it with arguments valid for the tool's JSON
  schema and answers with the outputs once they arrive.
* :class:`ScriptedBrain` plays a script, one entry per response (tests).
* any ``callable(text) -> str`` is accepted (e.g. a local text model); see :func:`as_brain`.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, Union, runtime_checkable

from realtime_widget.images import ImageError, parse_data_url
from realtime_widget.protocol.tool_outputs import spoken_output

__all__ = [
    "Brain",
    "BrainContext",
    "Call",
    "CallableBrain",
    "EchoBrain",
    "PlanItem",
    "Say",
    "ScriptedBrain",
    "StreamingBrain",
    "as_brain",
    "is_streaming",
    "item_text",
]


@dataclass(frozen=True)
class Say:
    """An assistant message: ``text`` (spoken as audio + transcript when audio is on)."""

    text: str


@dataclass(frozen=True)
class Call:
    """A function call the model makes.

    A call to a tool of one of the session's MCP servers (a tool in ``BrainContext.tools`` with a
    ``server_label``) becomes an ``mcp_call``: the server calls the MCP server and asks the brain
    again with the result in the same response. Function tools win a name clash unless
    ``server_label`` says which MCP server is meant.

    Attributes:
        name: the tool's name.
        arguments: a JSON string, or a dict serialised with ``json.dumps``.
        call_id: fixed call id, or ``None`` to let the server generate one.
        server_label: the MCP server to call (``None``: function tool, else the MCP tool of
            that name).
    """

    name: str
    arguments: str | dict = "{}"
    call_id: str | None = None
    server_label: str | None = None

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text sent on the wire."""
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


PlanItem = Union[Say, Call]  # noqa: UP007 - a runtime alias, read by isinstance users too


@dataclass(frozen=True)
class BrainContext:
    """What a brain may look at for one response.

    Attributes:
        items: the conversation (or the response's ``input``), GA item dicts, oldest first; user
            audio items carry the server's transcript in ``content[i]["transcript"]``.
        tools: function tools in effect (``{"type": "function", "name", "parameters", ...}``),
            including the listed tools of the session's MCP servers (those carry
            ``server_label``; a :class:`Call` to one is made to its MCP server).
        instructions: the instructions in effect.
        output_modalities: ``["audio"]`` or ``["text"]``.
        tool_choice: ``"auto"``, ``"required"`` (a call is expected) or a named function (the
            only tool left in ``tools``); ``"none"`` arrives as no tools.
        metadata: the response's metadata.
        max_output_tokens: the response's token limit (``None`` or ``"inf"`` for none).
        temperature: sampling temperature when the session sets one, else ``None``.
    """

    items: Sequence[dict] = ()
    tools: Sequence[dict] = ()
    instructions: str = ""
    output_modalities: Sequence[str] = ("audio",)
    tool_choice: str | dict = "auto"
    metadata: dict = field(default_factory=dict)
    max_output_tokens: int | str | None = None
    temperature: float | None = None


@runtime_checkable
class Brain(Protocol):
    """Decides the output items of each response."""

    def respond(self, context: BrainContext) -> list[PlanItem]:
        """Return the response's output items, in order (several calls = parallel calls)."""
        ...


@runtime_checkable
class StreamingBrain(Protocol):
    """A brain that writes its answer as it thinks (a language model).

    The server calls :meth:`stream` in a worker thread and speaks each clause as soon as it is
    complete; it sets ``stop`` when the response is cancelled, interrupted or its connection
    closes, and the brain should return promptly then (no CPU left burning).
    """

    def stream(self, context: BrainContext, stop: threading.Event) -> Iterator[str | Call]:
        """Yield text deltas of the assistant's message and :class:`Call` items, in order."""
        ...


def is_streaming(brain: object) -> bool:
    """Whether ``brain`` streams (has a ``stream(context, stop)`` method)."""
    return callable(getattr(brain, "stream", None))


def item_text(item: dict) -> str:
    """The readable text of an item: message text/transcripts, or a call's name and output."""
    kind = item.get("type")
    if kind == "message":
        parts = []
        for part in item.get("content") or []:
            if isinstance(part, dict):
                text = part.get("text") or part.get("transcript")
                if isinstance(text, str) and text:
                    parts.append(text)
        return " ".join(parts)
    if kind == "function_call_output":
        return str(item.get("output") or "")
    if kind == "function_call":
        return f"{item.get('name')}({item.get('arguments')})"
    if kind == "mcp_call":
        error = item.get("error") or {}
        result = item.get("output") or error.get("message") or ""
        return f"{item.get('name')}({item.get('arguments')}) -> {result}"
    return ""


def _last_user_text(items: Sequence[dict]) -> str:
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            return item_text(item)
    return ""


def describe_images(item: dict) -> list[str]:
    """``"PNG 640x480"`` for each ``input_image`` part of a message (read from its header).

    An image the server no longer stores (over its image budget) or cannot read is described
    as such, never guessed.
    """
    out = []
    for part in item.get("content") or []:
        if isinstance(part, dict) and part.get("type") == "input_image":
            url = part.get("image_url")
            try:
                out.append(str(parse_data_url(url)[0]) if url else "no longer stored")
            except ImageError:
                out.append("unreadable")
    return out


def _last_user_images(items: Sequence[dict]) -> list[str]:
    for item in reversed(items):
        if item.get("type") == "message" and item.get("role") == "user":
            return describe_images(item)
    return []


def _pending_outputs(items: Sequence[dict]) -> list[str]:
    """Sentences about the tool results since the last user message, if nothing answered them.

    Function outputs and MCP call results read ``"NAME returned OUTPUT."``, a failed function
    call its summary (``"The tool NAME failed: TYPE: MESSAGE."``, never the JSON); a failed MCP call
    ``"NAME failed: MESSAGE"`` and a refused approval ``"NAME was not approved, so I did not
    call it."``.
    """
    names = {i.get("call_id"): i.get("name") for i in items if i.get("type") == "function_call"}
    requests = {i.get("id"): i for i in items if i.get("type") == "mcp_approval_request"}
    outputs: list[str] = []
    for item in reversed(items):
        kind, role = item.get("type"), item.get("role")
        if kind == "message" and role in ("user", "assistant"):
            break
        if kind == "function_call_output":
            name = names.get(item.get("call_id")) or "the tool"
            # A failed call's output is JSON meant for a model: say its sentence instead.
            spoken = spoken_output(item.get("output"), names.get(item.get("call_id")))
            outputs.append(spoken or f"{name} returned {item.get('output') or ''}.")
        elif kind == "mcp_call" and (item.get("output") is not None or item.get("error")):
            if item.get("error"):
                message = str((item.get("error") or {}).get("message") or "an error").rstrip(".")
                outputs.append(f"{item.get('name')} failed: {message}.")
            else:
                outputs.append(f"{item.get('name')} returned {item.get('output')}.")
        elif kind == "mcp_approval_response" and item.get("approve") is False:
            request = requests.get(item.get("approval_request_id")) or {}
            name = request.get("name") or "the tool"
            outputs.append(f"{name} was not approved, so I did not call it.")
    return list(reversed(outputs))


class EchoBrain:
    """Deterministic brain: echoes the user, calls tools on request, answers with tool outputs.

    Tool requests it understands in the last user message (tools must be in the session):

    * ``call NAME with {"json": "arguments"}``
    * ``NAME key=value key2="two words"`` (values parsed as JSON when possible)
    * the tool's name mentioned (``get_weather`` or ``get weather``): arguments inferred from the
      tool's JSON schema (``key=value`` in the text, a mentioned ``enum`` value, the first number
      for numeric fields, a quoted string or the word after "in"/"for"/"of", then ``default``,
      ``examples[0]``, ``enum[0]``, and a placeholder of the right type).

    A last user message with images is answered ``"I see an image (PNG 640x480). You said: ..."``
    (format and size read from each image's header).

    Several tools mentioned give parallel calls. After ``function_call_output`` items arrive, the
    next response answers ``"NAME returned OUTPUT."`` (for a failed call, the sentence of its
    error output: ``"The tool NAME failed: ValueError: city not found."``).

    Args:
        prefix: put before the echoed text.
    """

    def __init__(self, prefix: str = "You said: ") -> None:
        self.prefix = prefix

    def respond(self, context: BrainContext) -> list[PlanItem]:
        """Plan the reply to the last user message (see the class docstring)."""
        outputs = _pending_outputs(context.items)
        if outputs:
            return [Say(" ".join(outputs))]
        text = _last_user_text(context.items)
        tools = [t for t in context.tools if isinstance(t, dict) and t.get("type") == "function"]
        calls = _requested_calls(text, tools) if tools else []
        if not calls and tools and context.tool_choice != "auto":
            # "required" or a named function: the model must call something, so call the first.
            first = tools[0]
            calls = [
                Call(
                    str(first["name"]), json.dumps(_infer_arguments(text, first.get("parameters")))
                )
            ]
        if calls:
            return calls
        images = _last_user_images(context.items)
        if images:
            # Deterministic, so tests can check that the image reached the brain (issue 12).
            seen = "; ".join(images)
            noun = "an image" if len(images) == 1 else f"{len(images)} images"
            said = f" {self.prefix}{text}" if text else ""
            return [Say(f"I see {noun} ({seen}).{said}")]
        if not text:
            return [Say("Hello! I am the local test server. Say something and I will echo it.")]
        return [Say(f"{self.prefix}{text}")]


class ScriptedBrain:
    """Plays scripted responses in order, then falls back to another brain.

    Each script entry is one response: a ``str`` (a message), a :class:`Say`/:class:`Call`, a
    dict ``{"name", "arguments"}`` (a call) or ``{"text"}``, a list of those (several output
    items, e.g. parallel calls), or a ``callable(context) -> entry``.

    Args:
        script: the entries.
        fallback: brain used once the script is exhausted (default :class:`EchoBrain`).
    """

    def __init__(self, script: Iterable[Any], fallback: Brain | None = None) -> None:
        self.script = list(script)
        self.fallback = fallback or EchoBrain()
        self.contexts: list[BrainContext] = []
        """Every context this brain was asked about (for assertions in tests)."""

    def respond(self, context: BrainContext) -> list[PlanItem]:
        """Return the next scripted entry as a plan."""
        self.contexts.append(context)
        if not self.script:
            return self.fallback.respond(context)
        entry = self.script.pop(0)
        if callable(entry) and not isinstance(entry, (Say, Call)):
            entry = entry(context)
        return _as_plan(entry)


def _as_plan(entry: Any) -> list[PlanItem]:
    if isinstance(entry, (list, tuple)):
        return [p for e in entry for p in _as_plan(e)]
    if isinstance(entry, (Say, Call)):
        return [entry]
    if isinstance(entry, str):
        return [Say(entry)]
    if isinstance(entry, dict) and "name" in entry:
        return [
            Call(
                entry["name"],
                entry.get("arguments", "{}"),
                entry.get("call_id"),
                entry.get("server_label"),
            )
        ]
    if isinstance(entry, dict) and "text" in entry:
        return [Say(str(entry["text"]))]
    raise TypeError(f"cannot turn {entry!r} into a response plan: use a str, Say, Call or a list")


class CallableBrain:
    """Adapts ``fn(text) -> str`` (e.g. a local text model) into a :class:`Brain`.

    The function gets the last user message's text (or, after tool outputs, a line describing
    them) and its return value becomes the assistant's message.
    """

    def __init__(self, fn: Callable[[str], str]) -> None:
        self.fn = fn

    def respond(self, context: BrainContext) -> list[PlanItem]:
        """Ask the function for the reply text."""
        outputs = _pending_outputs(context.items)
        prompt = " ".join(outputs) if outputs else _last_user_text(context.items)
        return [Say(str(self.fn(prompt)))]


def as_brain(brain: Brain | Callable[[str], str] | None) -> Brain:
    """Return ``brain`` as a :class:`Brain`: ``None`` -> :class:`EchoBrain`, a callable wrapped.

    Raises:
        TypeError: for anything else.
    """
    if brain is None:
        return EchoBrain()
    if isinstance(brain, Brain) or is_streaming(brain):
        return brain  # type: ignore[return-value]
    if callable(brain):
        return CallableBrain(brain)
    raise TypeError(f"brain must have respond(context) or be callable text -> str, not {brain!r}")


# -- tool requests in text ------------------------------------------------------------------
_CALL_WITH = re.compile(r"\bcall\s+([A-Za-z_][\w.-]*)\s+with\s+(\{.*\})", re.IGNORECASE | re.DOTALL)
_PAIR = re.compile(r"""([A-Za-z_]\w*)\s*=\s*("(?:[^"\\]|\\.)*"|'[^']*'|[^\s,]+)""")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_QUOTED = re.compile(r"""["“']([^"”']+)["”']""")
_AFTER = re.compile(r"\b(?:in|for|of|about|to|at)\s+([A-Z][\w-]*(?:\s+[A-Z][\w-]*)*|\w+)")


def _requested_calls(text: str, tools: list[dict]) -> list[PlanItem]:
    by_name = {str(t.get("name")): t for t in tools if t.get("name")}
    match = _CALL_WITH.search(text)
    if match and match.group(1) in by_name:
        try:
            json.loads(match.group(2))
            return [Call(match.group(1), match.group(2))]
        except ValueError:
            pass  # not JSON after all: fall through to the looser forms
    calls: list[PlanItem] = []
    lowered = text.lower()
    for name, tool in by_name.items():
        if _mentions(lowered, name):
            calls.append(Call(name, json.dumps(_infer_arguments(text, tool.get("parameters")))))
    return calls


_VERBS = frozenset({"get", "fetch", "find", "lookup", "look", "search", "check", "query", "read"})


def _mentions(lowered: str, name: str) -> bool:
    """Whether text names a tool: ``get_weather``, ``get weather`` or just ``weather``."""
    if re.search(rf"\b{re.escape(name.lower())}\b", lowered):
        return True
    words = [w for w in re.split(r"[_\W]+|(?<=[a-z])(?=[A-Z])", name) if w]
    words = [w.lower() for w in words]
    if len(words) > 1 and words[0] in _VERBS:
        words = words[1:]  # "what is the weather" asks for get_weather
    return bool(words) and re.search(rf"\b{re.escape(' '.join(words))}\b", lowered) is not None


def _parse_value(raw: str) -> Any:
    if raw[:1] in "'\"" and raw[-1:] == raw[:1] and len(raw) >= 2:
        return raw[1:-1]
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _infer_arguments(text: str, schema: Any) -> dict:
    """Arguments for a tool, taken from the text where possible, valid for a simple JSON schema."""
    if not isinstance(schema, dict):
        return {}
    props = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    required = set(schema.get("required") or [])
    pairs = {k: _parse_value(v) for k, v in _PAIR.findall(text)}
    # Numbers in the text go to numeric fields in order ("add 2 and 3" -> a=2, b=3).
    numbers = [m.group() for m in _NUMBER.finditer(_PAIR.sub("", text))]
    args: dict = {}
    for key, prop in props.items():
        prop = prop if isinstance(prop, dict) else {}
        if key in pairs:
            args[key] = _coerce(pairs[key], prop)
            continue
        found = _from_text(text, prop, numbers)
        if found is not None:
            args[key] = found
        elif "default" in prop:
            args[key] = prop["default"]
        elif key in required:
            args[key] = _placeholder(prop)
    return args


def _from_text(text: str, prop: dict, numbers: list[str]) -> Any:
    kind = prop.get("type")
    enum = prop.get("enum")
    if isinstance(enum, list):
        for value in enum:
            if isinstance(value, str) and re.search(rf"\b{re.escape(value)}\b", text, re.I):
                return value
        return None
    if kind in ("number", "integer"):
        if not numbers:
            return None
        value = float(numbers.pop(0))
        return int(value) if kind == "integer" or value.is_integer() else value
    if kind == "string":
        quoted = _QUOTED.search(text)
        if quoted:
            return quoted.group(1)
        after = _AFTER.findall(text)
        if after:
            return after[-1].strip(" .?!")
    return None


def _coerce(value: Any, prop: dict) -> Any:
    kind = prop.get("type")
    try:
        if kind == "string":
            return value if isinstance(value, str) else json.dumps(value)
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean" and isinstance(value, str):
            return value.lower() in ("true", "yes", "1")
    except (TypeError, ValueError):
        return _placeholder(prop)
    return value


def _placeholder(prop: dict) -> Any:
    examples = prop.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]
    if isinstance(prop.get("enum"), list) and prop["enum"]:
        return prop["enum"][0]
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind == "object":
        return _infer_arguments("", prop)
    return {"integer": 0, "number": 0, "boolean": False, "array": [], "null": None}.get(
        kind, "example"
    )
