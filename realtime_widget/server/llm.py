"""Language-model stages of the local pipeline: llama-cpp-python in process, or any endpoint.

A stage streams one answer: :meth:`stream` takes chat messages and tools (OpenAI chat shape)
and yields text deltas (``str``) and finished tool calls (:class:`ParsedCall`), stopping as soon
as ``stop`` is set (a cancel, a barge-in or a closed connection: no CPU left burning, DESIGN §10).

* :class:`LlamaCppLLM`: a GGUF file run by llama-cpp-python (``pip install
  realtime_widget[local]``). Loaded once per process and shared by every session.
* :class:`OpenAIChatLLM`: any OpenAI-compatible ``POST /v1/chat/completions`` with
  ``stream: true`` (llama.cpp's server, Ollama, vLLM, LM Studio): the classroom's shared engine.

:func:`chat_messages` turns what a brain sees (:class:`BrainContext`) into those messages.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

from realtime_widget.protocol.tool_outputs import spoken_output
from realtime_widget.server._clauses import ParsedCall
from realtime_widget.server._shared import (
    StageError,
    endpoint_client,
    file_sha256,
    is_shared,
    shared,
)
from realtime_widget.server.brains import BrainContext

__all__ = [
    "LanguageModel",
    "LlamaCppLLM",
    "OpenAIChatLLM",
    "StageError",
    "chat_messages",
]

log = logging.getLogger(__name__)

VOICE_STYLE = (
    "You are talking with a person by voice. Answer in one to three short spoken sentences, "
    "with no lists, markdown or code."
)
"""Added to the system prompt when the answer is spoken."""

TOOL_STYLE = (
    "Call a tool only when the user asks for exactly what that tool does; answer everything "
    "else yourself, without tools."
)
"""Added to the system prompt when tools are offered (small models call them for anything)."""

IMAGE_NOTE = (
    "The user has shared one or more images, but you cannot see images: if asked about one, "
    "say plainly that you cannot see it and ask the user to describe it. Never guess."
)
"""Added to the system prompt when the conversation holds an image (issue 12: never pretend)."""


class LanguageModel(Protocol):
    """Streams one chat answer."""

    name: str

    def stream(
        self,
        messages: list[dict],
        tools: list[dict],
        *,
        temperature: float | None,
        max_tokens: int | None,
        stop: threading.Event,
    ) -> Iterator[str | ParsedCall]:
        """Yield text deltas and tool calls until the answer ends or ``stop`` is set."""
        ...


def chat_messages(context: BrainContext) -> tuple[list[dict], list[dict]]:
    """The chat messages and chat tools for one response.

    The session's instructions become the system prompt (with :data:`VOICE_STYLE` when the
    answer is spoken); user audio is its transcript; function calls and outputs become the
    assistant's ``tool_calls`` and ``tool`` messages; images are described as unseen (the
    local models read no pictures, and say so rather than pretend).

    Returns:
        ``(messages, tools)`` in the OpenAI chat-completions shape.
    """
    system = (context.instructions or "").strip()
    if "audio" in context.output_modalities:
        system = f"{system}\n\n{VOICE_STYLE}".strip()
    if context.tools:
        system = f"{system}\n\n{TOOL_STYLE}".strip()
    if any(_has_image(item) for item in context.items):
        system = f"{system}\n\n{IMAGE_NOTE}".strip()
    messages: list[dict] = [{"role": "system", "content": system}] if system else []
    calls = [i for i in context.items if i.get("type") == "function_call"]
    names = {i.get("call_id"): i.get("name") for i in calls}
    for item in context.items:
        kind = item.get("type")
        if kind == "message":
            text = _content_text(item.get("content") or [])
            role = item.get("role") if item.get("role") in ("user", "assistant") else "system"
            if text:
                messages.append({"role": role, "content": text})
        elif kind == "function_call":
            call = {
                "id": str(item.get("call_id")),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments") or "{}"},
            }
            last = messages[-1] if messages else None
            if last and last["role"] == "assistant" and "tool_calls" in last:
                last["tool_calls"].append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            # A failed call's output is JSON; small models read it out verbatim, so they get
            # its one-sentence summary instead ("The tool X failed: ValueError: ...").
            output = str(item.get("output") or "")
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": str(item.get("call_id")),
                    "content": spoken_output(output, names.get(item.get("call_id"))) or output,
                }
            )
        elif kind in _MCP_CALLS:
            result = _MCP_CALLS[kind](item, context.items)
            if result is not None:  # an MCP call and its result, as a tool call and its output
                name, arguments, output = result
                call_id = str(item.get("id"))
                call = {
                    "id": call_id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments or "{}"},
                }
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
                messages.append({"role": "tool", "tool_call_id": call_id, "content": output})
    tools = [
        {
            "type": "function",
            "function": {
                "name": tool["name"],
                "description": tool.get("description") or "",
                "parameters": tool.get("parameters") or {"type": "object", "properties": {}},
            },
        }
        for tool in context.tools
        if isinstance(tool, dict) and tool.get("type") == "function" and tool.get("name")
    ]
    return messages, tools


def _mcp_call(item: dict, items: Sequence[dict]) -> tuple[str, str, str] | None:
    error = item.get("error") or {}
    if item.get("output") is None and not error:
        return None  # not answered (cancelled): nothing to tell the model
    output = item.get("output") if not error else f"Error: {error.get('message')}"
    return str(item.get("name")), str(item.get("arguments") or "{}"), str(output)


def _mcp_refusal(item: dict, items: Sequence[dict]) -> tuple[str, str, str] | None:
    # An approved request is followed by its mcp_call (which speaks for it); a refused one is
    # told to the model as the call's result, so it does not ask again or pretend it ran.
    if item.get("approve") is not False:
        return None
    wanted = item.get("approval_request_id")
    request = next((i for i in items if i.get("id") == wanted), None)
    if request is None:
        return None
    return (
        str(request.get("name")),
        str(request.get("arguments") or "{}"),
        "The user did not approve this call, so it was not made.",
    )


_MCP_CALLS = {"mcp_call": _mcp_call, "mcp_approval_response": _mcp_refusal}


def _has_image(item: dict) -> bool:
    return item.get("type") == "message" and any(
        isinstance(p, dict) and p.get("type") == "input_image" for p in item.get("content") or []
    )


def _content_text(parts: list) -> str:
    texts = []
    for part in parts:
        if not isinstance(part, dict):
            continue
        if part.get("type") == "input_image":
            texts.append("[an image, which this local model cannot see]")
            continue
        text = part.get("text") or part.get("transcript")
        if isinstance(text, str) and text.strip():
            texts.append(text.strip())
    return " ".join(texts)


# -- llama-cpp-python in process ----------------------------------------------------------------
class LlamaCppLLM:
    """A GGUF chat model run in process by llama-cpp-python.

    Args:
        model_path: the ``.gguf`` file.
        sha256: when given, the file must have this digest (checked once per process); a
            mismatch raises :class:`StageError` instead of loading an unknown model.
        n_ctx: context length in tokens.
        n_threads: CPU threads (default: all cores).
        name: shown in the widget's notice (default: the model's own name).
        temperature: sampling temperature when the session sets none (0 = deterministic).

    Raises:
        StageError: llama-cpp-python is not installed, or the file is missing or corrupt.
    """

    def __init__(
        self,
        model_path: str | os.PathLike,
        *,
        sha256: str | None = None,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        name: str | None = None,
        temperature: float = 0.6,
    ) -> None:
        self.path = Path(model_path).expanduser()
        self.temperature = temperature
        self.sha256 = sha256
        self.n_ctx, self.n_threads = n_ctx, n_threads
        self._name = name
        self._lock = shared(("llama-lock", str(self.path)), threading.Lock)

    @property
    def name(self) -> str:
        """A short name for notices (e.g. ``Qwen2.5 Coder 0.5B Instruct``)."""
        if self._name:
            return self._name
        try:  # the model's own name once it is loaded; naming it never loads it
            meta = getattr(self.model, "metadata", {}) if self.loaded else {}
        except StageError:
            meta = {}
        return str((meta or {}).get("general.name") or self.path.stem)

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory already."""
        return is_shared(("llama", str(self.path), self.n_ctx))

    @property
    def model(self) -> Any:
        """The loaded ``llama_cpp.Llama`` (loaded on first use, shared by the process)."""
        if self.sha256 is not None:  # checked per stage: another may have loaded the file
            self._check_digest()
        return shared(("llama", str(self.path), self.n_ctx), self._load)

    def _check_digest(self) -> None:
        if not self.path.is_file():
            raise StageError(f"the language model file {self.path} does not exist.")
        digest = _sha256(self.path)
        if digest != self.sha256:
            raise StageError(
                f"the language model file {self.path} has sha256 {digest}, not the expected "
                f"{self.sha256}: it is corrupt or another model; download it again."
            )

    def load(self) -> LlamaCppLLM:
        """Load now (instead of on the first answer); returns ``self``."""
        self.model  # noqa: B018 - loads and caches
        return self

    def _load(self) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise StageError(
                "llama-cpp-python is not installed: pip install 'realtime_widget[local]' "
                "(or point the language model at a server with --llm http://HOST:PORT/v1)."
            ) from exc
        if not self.path.is_file():
            raise StageError(f"the language model file {self.path} does not exist.")
        # verbose=False would make llama-cpp-python point the *process's* stdout and stderr
        # (file descriptors 1 and 2) at /dev/null while it loads: in a notebook, whatever another
        # cell or thread prints meanwhile is lost. Load verbosely instead, with only Python's
        # stderr caught for the load (llama.cpp's own log goes there through its callback),
        # then quiet it for generation.
        from llama_cpp import _logger

        caught = io.StringIO()
        with contextlib.redirect_stderr(caught):
            model = Llama(
                str(self.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads or os.cpu_count() or 2,
                verbose=True,
            )
        model.verbose = False
        _logger.set_verbose(False)
        log.debug("= llama.cpp loaded %s: %s", self.path.name, caught.getvalue()[-2000:])
        return model

    def stream(
        self,
        messages: list[dict],
        tools: list[dict],
        *,
        temperature: float | None,
        max_tokens: int | None,
        stop: threading.Event,
    ) -> Iterator[str | ParsedCall]:
        """Stream one answer (text deltas; tool calls are written as text by these models)."""
        model = self.model
        with self._lock:  # one llama context: sessions take turns, token by token
            chunks = model.create_chat_completion(
                _template_ready(messages),
                tools=tools or None,
                stream=True,
                temperature=self.temperature if temperature is None else temperature,
                max_tokens=max_tokens or 512,
            )
            try:
                for chunk in chunks:
                    if stop.is_set():
                        return
                    delta = chunk["choices"][0].get("delta") or {}
                    if delta.get("content"):
                        yield delta["content"]
            finally:
                chunks.close()  # ends generation in llama.cpp at once


def _template_ready(messages: list[dict]) -> list[dict]:
    """Tool-call arguments as objects: GGUF chat templates (Qwen, Hermes) print them with
    ``tojson``, so a JSON string would reach the model escaped, and it would imitate that."""
    out = []
    for message in messages:
        calls = message.get("tool_calls")
        if calls:
            message = {**message, "tool_calls": [_with_object_arguments(c) for c in calls]}
        out.append(message)
    return out


def _with_object_arguments(call: dict) -> dict:
    function = dict(call.get("function") or {})
    try:
        function["arguments"] = json.loads(function.get("arguments") or "{}")
    except ValueError:
        pass  # keep the text: the template prints it as it is
    return {**call, "function": function}


def _sha256(path: Path) -> str:
    return shared(("sha256", str(path), path.stat().st_mtime_ns), lambda: file_sha256(path))


# -- any OpenAI-compatible endpoint ------------------------------------------------------------
class OpenAIChatLLM:
    """Any OpenAI-compatible ``/v1/chat/completions`` endpoint, streamed.

    Args:
        base_url: e.g. ``http://127.0.0.1:8080/v1`` (llama.cpp server), ``http://HOST:11434/v1``
            (Ollama).
        model: the model name the endpoint expects (default: the first it lists).
        api_key: sent as a Bearer token (most local servers need none).
        timeout: seconds to wait for the endpoint before the response fails.

    Raises:
        StageError: the ``openai`` package is missing.
    """

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        *,
        api_key: str | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._client = endpoint_client(self.base_url, api_key, timeout)
        self._model = model

    @property
    def name(self) -> str:
        """The model name and where it runs."""
        return f"{self._model or 'model'} at {self.base_url}"

    def _model_name(self) -> str:
        if self._model is None:
            listed = self._client.models.list()
            first = next(iter(listed.data), None)
            if first is None:
                raise StageError(f"the endpoint {self.base_url} lists no models: pass --llm-model.")
            self._model = first.id
        return self._model

    def stream(
        self,
        messages: list[dict],
        tools: list[dict],
        *,
        temperature: float | None,
        max_tokens: int | None,
        stop: threading.Event,
    ) -> Iterator[str | ParsedCall]:
        """Stream one answer: content deltas, then the native tool calls it made."""
        import openai

        extra: dict = {}
        if tools:
            extra["tools"] = tools
        if temperature is not None:
            extra["temperature"] = temperature
        if max_tokens:
            extra["max_tokens"] = max_tokens
        try:
            stream = self._client.chat.completions.create(
                model=self._model_name(), messages=messages, stream=True, **extra
            )
        except openai.APIError as exc:
            raise StageError(f"the language model endpoint {self.base_url} failed: {exc}") from exc
        calls: dict[int, dict] = {}
        try:
            for chunk in stream:
                if stop.is_set():
                    return
                if not chunk.choices:
                    continue
                delta = chunk.choices[0].delta
                if delta.content:
                    yield delta.content
                for call in delta.tool_calls or []:
                    slot = calls.setdefault(call.index, {"name": "", "arguments": ""})
                    if call.function and call.function.name:
                        slot["name"] += call.function.name
                    if call.function and call.function.arguments:
                        slot["arguments"] += call.function.arguments
        except openai.APIError as exc:
            raise StageError(f"the language model endpoint {self.base_url} failed: {exc}") from exc
        finally:
            stream.close()  # closing the HTTP stream stops generation on the server
        for index in sorted(calls):
            yield _native_call(calls[index])


def _native_call(call: dict) -> ParsedCall:
    try:
        arguments = json.loads(call["arguments"] or "{}")
    except ValueError:
        return ParsedCall(
            call["name"], call["arguments"], "the model's tool arguments are not JSON"
        )
    return ParsedCall(call["name"], json.dumps(arguments))
