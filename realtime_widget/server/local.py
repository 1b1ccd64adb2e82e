"""The local pipeline: speech-to-text -> language model -> text-to-speech (DESIGN §10).

:func:`find_pipeline` picks the best stages it can have here, from explicit arguments, then
environment variables, then what is installed:

========== ============================ ===============================================
stage      argument / variable          accepted values
========== ============================ ===============================================
STT        ``stt`` / REALTIME_WIDGET_STT a faster-whisper model name or folder, or an
                                        ``http(s)://.../v1`` transcription endpoint
LLM        ``llm`` / REALTIME_WIDGET_LLM a ``.gguf`` file, or an ``http(s)://.../v1``
                                        chat-completions endpoint (llama.cpp, Ollama,
                                        vLLM, LM Studio)
TTS        ``tts`` / REALTIME_WIDGET_TTS a Piper ``.onnx`` voice, ``espeak``, or an
                                        ``http(s)://.../v1`` speech endpoint
========== ============================ ===============================================

``REALTIME_WIDGET_LLM_MODEL`` / ``_STT_MODEL`` / ``_TTS_MODEL`` name the endpoint's model,
``REALTIME_WIDGET_LLM_SHA256`` pins a ``.gguf`` file's digest and
``REALTIME_WIDGET_LLM_TEMPERATURE`` sets the in-process model's temperature (0.6).
With nothing configured, ``download=True`` lets the libraries fetch their usual defaults into
their own caches with a progress bar (Whisper base; Qwen2.5 0.5B Instruct, Apache-2.0);
``download=False`` (the widget's automatic choice) uses only what is configured or already
cached, so nothing is fetched behind the user's back.

:class:`LocalBrain` is the streaming brain around the language model; the server uses the
pipeline's ``stt`` as its transcriber and ``tts`` as its synthesizer.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realtime_widget.server._clauses import ParsedCall, ToolCallText
from realtime_widget.server.brains import BrainContext, Call, PlanItem, Say
from realtime_widget.server.llm import (
    LanguageModel,
    LlamaCppLLM,
    OpenAIChatLLM,
    StageError,
    chat_messages,
)
from realtime_widget.server.stt import FasterWhisperSTT, OpenAITranscriptionSTT
from realtime_widget.server.tts import EspeakTTS, OpenAISpeechTTS, PiperTTS

__all__ = ["LocalBrain", "Pipeline", "StageError", "find_pipeline"]

DEFAULT_LLM_REPO = ("Qwen/Qwen2.5-0.5B-Instruct-GGUF", "qwen2.5-0.5b-instruct-q4_k_m.gguf")
"""The language model fetched with ``download=True`` when none is configured (Apache-2.0)."""

INSTALL_HINT = "pip install 'realtime_widget[local]'"

CANNOT_SEE = "I can't see images: I'm a local text-only model."
"""Said first when the message answered carries an image (issue 12: never pretend to see it)."""


class LocalBrain:
    """A language model as a streaming brain (native tool calls, or calls written as text).

    Args:
        llm: the language-model stage.
    """

    def __init__(self, llm: LanguageModel) -> None:
        self.llm = llm

    def stream(self, context: BrainContext, stop: threading.Event) -> Iterator[str | Call]:
        """Yield the answer's text deltas, then its tool calls (checked against the tools).

        Raises:
            StageError: the model called an unknown tool or wrote arguments that are not JSON
                (the response fails with this message; the next turn works).
        """
        messages, tools = chat_messages(context)
        answering = bool(context.items) and _is_result(context.items[-1])
        image_words = _image_message_words(context.items[-1]) if context.items else None
        if image_words is not None:
            # Said by us, not left to a small model that may describe a picture it never saw;
            # the model still answers the words (its system prompt says it cannot see images).
            yield CANNOT_SEE + " "
            if not image_words:
                yield "Please tell me what the image shows."
                return
        if not answering:
            calls = yield from self._answer(messages, tools, context, stop)
            yield from _checked(calls, tools)
            return
        # The answer to a tool's result: small models call the same tool again and again when
        # they see their own call syntax here, so this turn only speaks and reads the results as
        # plain text; if the model still writes a call, it gets one plainer second try.
        for attempt in (_results_as_text(messages), _plain_question(messages)):
            calls = yield from self._answer(attempt, [], context, stop)
            if not calls or stop.is_set():
                return
        raise StageError(
            "the local model wrote a tool call instead of answering with the tool's result; "
            "a larger model (REALTIME_WIDGET_LLM) follows tool results better."
        )

    def _answer(
        self, messages: list[dict], tools: list[dict], context: BrainContext, stop: threading.Event
    ) -> Iterator[str]:
        """Stream one model answer's text; return the calls it wrote (a generator's value)."""
        limit = context.max_output_tokens
        text = ToolCallText()
        native: list[ParsedCall] = []
        for piece in self.llm.stream(
            messages,
            tools,
            temperature=context.temperature,
            max_tokens=limit if isinstance(limit, int) else None,
            stop=stop,
        ):
            if stop.is_set():
                return []
            if isinstance(piece, ParsedCall):
                native.append(piece)
                continue
            spoken = text.feed(piece)
            if spoken:
                yield spoken
        rest = text.finish()
        if rest.strip():
            yield rest
        return text.calls + native

    def respond(self, context: BrainContext) -> list[PlanItem]:
        """The whole answer at once (for callers that do not stream)."""
        text, plan = "", []
        for piece in self.stream(context, threading.Event()):
            if isinstance(piece, str):
                text += piece
            else:
                plan.append(piece)
        return ([Say(text.strip())] if text.strip() else []) + plan


def _is_result(item: dict) -> bool:
    """Whether an item is a tool's result the model should now answer with: a function output,
    an answered MCP call (the server asks again in the same response) or a refused approval."""
    kind = item.get("type")
    if kind == "mcp_call":
        return item.get("output") is not None or bool(item.get("error"))
    if kind == "mcp_approval_response":
        return item.get("approve") is False
    return kind == "function_call_output"


def _image_message_words(item: dict) -> str | None:
    """The words of a user message with an image (``""`` when it has none), else ``None``."""
    parts = [p for p in item.get("content") or [] if isinstance(p, dict)]
    if item.get("role") != "user" or not any(p.get("type") == "input_image" for p in parts):
        return None
    return " ".join(str(p.get("text") or p.get("transcript") or "") for p in parts).strip()


def _checked(calls: list[ParsedCall], tools: list[dict]) -> Iterator[Call]:
    """The calls as :class:`Call` items, or :class:`StageError` for a malformed or unknown one."""
    names = {tool["function"]["name"] for tool in tools}
    for call in calls:
        if call.error:
            raise StageError(call.error)
        if call.name not in names:
            known = ", ".join(sorted(names)) or "none"
            raise StageError(
                f"the local model called a tool that does not exist: {call.name!r} "
                f"(tools: {known})."
            )
        yield Call(call.name, call.arguments)


def _plain_question(messages: list[dict]) -> list[dict]:
    """The system prompt and one user message: the last question and the tools' results."""
    system = [m for m in messages[:1] if m["role"] == "system"]
    question, results, names = "", [], {}
    for message in messages:
        for call in message.get("tool_calls") or []:
            names[call["id"]] = call["function"]["name"]
        if message["role"] == "user":
            question, results = message["content"], []
        elif message["role"] == "tool":
            name = names.get(message.get("tool_call_id", ""), "a tool")
            results.append(f"{name} says: {message['content']}")
    facts = "\n".join(results)
    prompt = f"{question}\n\nFacts:\n{facts}\n\nAnswer in one short sentence, in words, not JSON."
    return [*system, {"role": "user", "content": prompt}]


def _results_as_text(messages: list[dict]) -> list[dict]:
    """Tool calls and results rewritten as plain turns (see :meth:`LocalBrain.stream`)."""
    names: dict[str, str] = {}
    out: list[dict] = []
    for message in messages:
        if message.get("tool_calls"):
            for call in message["tool_calls"]:
                names[call["id"]] = call["function"]["name"]
            continue
        if message["role"] == "tool":
            name = names.get(message.get("tool_call_id", ""), "the tool")
            out.append(
                {
                    "role": "user",
                    "content": f"(The {name} tool returned: {message['content']}) "
                    "Answer my question with this result.",
                }
            )
            continue
        out.append(message)
    return out


@dataclass
class Pipeline:
    """The three stages the embedded server uses instead of the echo brain.

    Attributes:
        stt: transcriber, ``(int16, rate) -> text``.
        llm: the language model.
        tts: synthesizer, ``(text, voice) -> int16 at 24 kHz``.
    """

    stt: Any
    llm: LanguageModel
    tts: Any

    @property
    def brain(self) -> LocalBrain:
        """The streaming brain around :attr:`llm`."""
        return LocalBrain(self.llm)

    def describe(self) -> list[str]:
        """One line per stage, saying which it uses."""
        return [
            f"speech-to-text: {self.stt.name}",
            f"language model: {self.llm.name}",
            f"text-to-speech: {self.tts.name}",
        ]

    @property
    def summary(self) -> str:
        """``whisper base + Qwen2.5 0.5B Instruct + Piper en_US-joe-medium``."""
        return " + ".join(_short(s.name) for s in (self.stt, self.llm, self.tts))

    def load(self) -> Pipeline:
        """Load every in-process model now (they are shared by the process); returns ``self``."""
        for stage in (self.stt, self.llm, self.tts):
            load = getattr(stage, "load", None)
            if callable(load):
                load()
        return self


def _short(name: str) -> str:
    return name.split(" at ", 1)[0]


def _is_url(spec: str) -> bool:
    return spec.startswith(("http://", "https://"))


def find_pipeline(
    stt: Any = None,
    llm: Any = None,
    tts: Any = None,
    *,
    download: bool = True,
    env: Mapping[str, str] | None = None,
) -> Pipeline:
    """Choose the stages (see the module docstring for the order of preference).

    Args:
        stt: a stage object, a model name/folder, or an endpoint URL.
        llm: a stage object, a ``.gguf`` path, or an endpoint URL.
        tts: a stage object, a Piper ``.onnx`` path, ``"espeak"``, or an endpoint URL.
        download: whether unconfigured stages may fetch the libraries' default models.
        env: where to read ``REALTIME_WIDGET_*`` settings (default ``os.environ``).

    Raises:
        StageError: a stage cannot be had; the message says what to install or configure.
    """
    env = os.environ if env is None else env
    return Pipeline(
        _stt(stt or env.get("REALTIME_WIDGET_STT"), env, download),
        _llm(llm or env.get("REALTIME_WIDGET_LLM"), env, download),
        _tts(tts or env.get("REALTIME_WIDGET_TTS"), env, download),
    )


def _stt(spec: Any, env: Mapping[str, str], download: bool) -> Any:
    if spec is not None and not isinstance(spec, (str, os.PathLike)):
        return spec
    if spec and _is_url(str(spec)):
        return OpenAITranscriptionSTT(str(spec), env.get("REALTIME_WIDGET_STT_MODEL", "whisper-1"))
    if not _importable("faster_whisper"):
        raise StageError(
            f"no speech-to-text: {INSTALL_HINT}, or set REALTIME_WIDGET_STT to a transcription "
            "endpoint (http://HOST:PORT/v1)."
        )
    name = str(spec or "base")
    if not download and not Path(name).is_dir() and not _whisper_cached(name):
        raise StageError(
            f"the Whisper model {name!r} is not downloaded yet: use brain='local' once (it "
            "downloads with a progress bar) or set REALTIME_WIDGET_STT to a model folder."
        )
    return FasterWhisperSTT(name)


def _llm(spec: Any, env: Mapping[str, str], download: bool) -> Any:
    if spec is not None and not isinstance(spec, (str, os.PathLike)):
        return spec
    if spec and _is_url(str(spec)):
        return OpenAIChatLLM(str(spec), env.get("REALTIME_WIDGET_LLM_MODEL"))
    temperature = float(env.get("REALTIME_WIDGET_LLM_TEMPERATURE", "0.6"))
    if spec:
        return LlamaCppLLM(
            spec, sha256=env.get("REALTIME_WIDGET_LLM_SHA256"), temperature=temperature
        )
    if not _importable("llama_cpp"):
        raise StageError(
            f"no language model: {INSTALL_HINT}, or set REALTIME_WIDGET_LLM to a .gguf file or "
            "to a chat-completions endpoint (http://HOST:PORT/v1: llama.cpp server, Ollama)."
        )
    path = _hub_file(*DEFAULT_LLM_REPO, download=download)
    if path is None:
        raise StageError(
            "no language model configured: set REALTIME_WIDGET_LLM to a .gguf file or an "
            "endpoint, or use brain='local' once to download "
            f"{DEFAULT_LLM_REPO[1]} (about 400 MB)."
        )
    return LlamaCppLLM(path, name="Qwen2.5 0.5B Instruct", temperature=temperature)


def _tts(spec: Any, env: Mapping[str, str], download: bool) -> Any:
    if spec is not None and not isinstance(spec, (str, os.PathLike)):
        return spec
    if spec and _is_url(str(spec)):
        return OpenAISpeechTTS(str(spec), env.get("REALTIME_WIDGET_TTS_MODEL", "gpt-4o-mini-tts"))
    if spec and str(spec) != "espeak":
        return PiperTTS(spec)
    return EspeakTTS()


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _whisper_cached(name: str) -> bool:
    try:
        from faster_whisper.utils import download_model

        download_model(name, local_files_only=True)
        return True
    except Exception:
        return False


def _hub_file(repo: str, filename: str, *, download: bool) -> str | None:
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        return None
    try:  # the library shows its own progress bar while downloading
        return hf_hub_download(repo, filename, local_files_only=not download)
    except Exception:
        return None
