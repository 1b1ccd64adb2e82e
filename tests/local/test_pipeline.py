"""The embedded server with the local pipeline: it hears, thinks and speaks (real models)."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest

from realtime_widget.server import LocalRealtimeServer
from realtime_widget.server.brains import BrainContext
from realtime_widget.server.llm import LlamaCppLLM, OpenAIChatLLM, StageError, chat_messages
from realtime_widget.server.local import find_pipeline
from tests.helpers import require
from tests.local import models
from tests.local.voice import VoiceSession

pytestmark = pytest.mark.local

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


async def test_local_server_hears_a_spoken_question_and_answers_it(pipeline):
    async with LocalRealtimeServer(brain=pipeline) as server:
        async with VoiceSession(server.url) as session:
            turn = await session.speak("What is the capital of France?")
    assert "capital" in _words(turn.heard), turn.heard
    assert turn.status == "completed"
    assert "paris" in _words(turn.answer), turn.answer
    assert turn.latency is not None and turn.latency < 5.0
    audio = [e for e in turn.events if e["type"] == "response.output_audio.delta"]
    assert len(audio) >= 5  # spoken, not only written


async def test_local_server_makes_a_real_tool_call_and_answers_with_its_result(pipeline):
    calls = []

    def get_weather(city: str) -> dict:
        calls.append(city)
        return {"city": city, "forecast": "snowing", "celsius": -3}

    async with LocalRealtimeServer(brain=pipeline) as server:
        async with VoiceSession(
            server.url, tools={"get_weather": get_weather}, schemas=[WEATHER]
        ) as session:
            turn = await session.speak("What is the weather in Paris?")
    assert [c["name"] for c in turn.calls] == ["get_weather"]
    assert calls and "paris" in calls[0].lower()
    assert _words(turn.answer) & {"snow", "snowing", "snowy", "cold", "degrees"}, turn.answer


async def test_local_server_cancel_stops_generation_at_once(pipeline):
    """response.cancel -> response.done at once, and the model's thread is idle right after."""
    async with LocalRealtimeServer(brain=pipeline) as server:
        async with VoiceSession(server.url) as session:
            await session.send(
                {
                    "type": "conversation.item.create",
                    "item": {
                        "type": "message",
                        "role": "user",
                        "content": [
                            {"type": "input_text", "text": "Tell me a long story about a dragon."}
                        ],
                    },
                }
            )
            await session.send({"type": "response.create"})
            while json.loads(await session.ws.recv())["type"] != "response.output_audio.delta":
                pass
            sent = time.perf_counter()
            await session.send({"type": "response.cancel"})
            while True:
                event = json.loads(await session.ws.recv())
                if event["type"] == "response.done":
                    break
            done_after = time.perf_counter() - sent
            assert event["response"]["status"] == "cancelled"
            lock = pipeline.llm._lock
            for _ in range(50):  # the generation thread releases the model within a token
                if lock.acquire(blocking=False):
                    lock.release()
                    break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the language model was still generating 0.5 s after the cancel")
    assert done_after < 0.5


async def test_local_server_missing_model_fails_the_response_and_says_what_to_do(pipeline):
    broken = find_pipeline(pipeline.stt, LlamaCppLLM("/nonexistent/model.gguf"), pipeline.tts)
    async with LocalRealtimeServer(brain=broken) as server:
        async with VoiceSession(server.url) as session:
            turn = await session.speak("Hello there, can you hear me?")
    assert turn.status == "failed"
    errors = [e for e in turn.events if e["type"] == "error"]
    assert errors and "does not exist" in errors[0]["error"]["message"]
    assert turn.heard  # what the user said is kept even though the model could not answer


def test_llama_refuses_a_file_whose_digest_does_not_match():
    require(models.ready(), "the test models: run `make test-local`")
    llm = LlamaCppLLM(models.paths()["llm"], sha256="0" * 64)
    with pytest.raises(StageError, match="sha256"):
        llm.load()


@pytest.fixture(scope="module")
def llama_server():
    """llama-cpp-python's own OpenAI-compatible server on loopback, serving the test GGUF."""
    import socket

    require(models.ready(), "the test models: run `make test-local`")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = tempfile.TemporaryFile()  # llama.cpp logs a lot: a pipe nobody reads would block it
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "llama_cpp.server", "--model", str(models.paths()["llm"])),
            *("--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    import urllib.request

    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            pytest.fail(f"llama_cpp.server exited: {log.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/models", timeout=1).read()
            break
        except OSError:
            time.sleep(0.5)
    else:
        process.kill()
        pytest.fail("llama_cpp.server did not start in 120 s")
    yield url
    process.terminate()
    process.wait(10)


def test_endpoint_llm_streams_an_answer_from_a_real_llama_cpp_server(llama_server):
    llm = OpenAIChatLLM(llama_server)
    context = BrainContext(
        items=[
            {
                "type": "message",
                "role": "user",
                "content": [
                    {
                        "type": "input_text",
                        "text": "In one sentence, what is the capital of France?",
                    }
                ],
            }
        ],
        output_modalities=["text"],
        temperature=0.0,
    )
    messages, tools = chat_messages(context)
    pieces = list(
        llm.stream(messages, tools, temperature=0.0, max_tokens=40, stop=threading.Event())
    )
    assert len(pieces) > 1  # streamed, not one block
    assert "paris" in "".join(p for p in pieces if isinstance(p, str)).lower()


async def test_local_server_answers_through_a_shared_llama_cpp_server(pipeline, llama_server):
    """The classroom path: the kernel's light server, the model on one shared engine."""
    shared = find_pipeline(pipeline.stt, llama_server, pipeline.tts)
    async with LocalRealtimeServer(brain=shared) as server:
        async with VoiceSession(server.url) as session:
            turn = await session.speak("What is the capital of France?")
    assert turn.status == "completed" and "paris" in _words(turn.answer), turn.answer


def test_widget_without_a_key_uses_the_local_pipeline_and_says_so(pipeline, monkeypatch):
    from realtime_widget import RealtimeWidget

    paths = models.paths()
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("REALTIME_WIDGET_STT", str(paths["stt"]))
    monkeypatch.setenv("REALTIME_WIDGET_LLM", str(paths["llm"]))
    monkeypatch.setenv("REALTIME_WIDGET_LLM_SHA256", models.LLM_SHA256)
    monkeypatch.setenv("REALTIME_WIDGET_TTS", str(paths["tts"]))
    widget = RealtimeWidget(autoconnect=False)
    try:
        assert widget.notice.startswith("Offline: whisper")
        assert "Piper en_US-joe-medium" in widget.notice and "echo" not in widget.notice
    finally:
        widget.close()


def test_widget_without_models_says_how_to_get_the_local_pipeline(monkeypatch):
    from realtime_widget import RealtimeWidget

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    # a Whisper folder that is not there: the widget never downloads, so no pipeline
    monkeypatch.setenv("REALTIME_WIDGET_STT", "/nonexistent/whisper-folder")
    widget = RealtimeWidget(autoconnect=False)
    try:
        assert "echo" in widget.notice and "realtime_widget[local]" in widget.notice
        assert not widget.notice.startswith("Offline:")
    finally:
        widget.close()


def test_widget_answers_with_the_result_of_its_tool(pipeline, monkeypatch):
    """The widget's own client (no browser): spoken question -> tool in the kernel -> answer."""
    from realtime_widget import RealtimeWidget
    from realtime_widget.server.speech import espeak_speech

    paths = models.paths()
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    for name, value in {
        "STT": str(paths["stt"]),
        "LLM": str(paths["llm"]),
        "LLM_SHA256": models.LLM_SHA256,
        "TTS": str(paths["tts"]),
        "LLM_TEMPERATURE": "0",
    }.items():
        monkeypatch.setenv(f"REALTIME_WIDGET_{name}", value)
    widget = RealtimeWidget(instructions="You are a helpful assistant.")
    calls = []

    @widget.tool
    def city_population(city: str) -> dict:
        """The population of a city."""
        calls.append(city)
        return {"city": city, "population": 2102650, "year": 2023}

    try:
        speech = np.asarray(espeak_speech("What is the population of Paris"))
        audio = np.concatenate([np.zeros(4800, np.int16), speech, np.zeros(48000, np.int16)])
        deadline = time.monotonic() + 20
        while widget.status != "connected" and time.monotonic() < deadline:
            time.sleep(0.1)
        for offset in range(0, len(audio), 960):
            widget.client.append_input_audio(audio[offset : offset + 960])
            time.sleep(0.04)
        deadline = time.monotonic() + 60
        answer = ""
        while time.monotonic() < deadline and "210265" not in answer:
            time.sleep(0.5)
            answers = [i["transcript"] for i in widget.items if i.get("role") == "assistant"]
            answer = "".join(c for c in "".join(answers) if c.isdigit())
        assert calls and "paris" in calls[0].lower()
        assert "210265" in answer, widget.items
    finally:
        widget.close()


def test_cli_brain_local_prints_each_stage_and_listens():
    paths = models.paths()
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "realtime_widget.server", "--port", "0", "--brain", "local"),
            *("--stt", str(paths["stt"]), "--llm", str(paths["llm"]), "--tts", str(paths["tts"])),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = [process.stdout.readline().strip() for _ in range(4)]
    finally:
        process.terminate()
        process.wait(10)
    assert lines[0] == "speech-to-text: whisper-base"
    assert lines[1].startswith("language model: qwen2.5")
    assert lines[2] == "text-to-speech: Piper en_US-joe-medium"
    assert lines[3].startswith("listening on ws://127.0.0.1:")


def test_cli_brain_local_says_what_is_missing():
    stt = str(models.paths()["stt"])
    result = subprocess.run(
        [
            *(sys.executable, "-m", "realtime_widget.server", "--brain", "local", "--stt", stt),
            *("--llm", "/nonexistent/model.gguf", "--tts", "espeak"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "does not exist" in result.stderr


def test_whisper_uses_the_sessions_prompt_for_names_it_would_miss(pipeline):
    from realtime_widget.server.speech import espeak_speech

    audio = np.asarray(espeak_speech("Please ask Siobhan about the Kubernetes cluster"))
    assert "Kubernetes" not in pipeline.stt(audio, 24000)
    assert "Kubernetes" in pipeline.stt(audio, 24000, prompt="Siobhan, Kubernetes")


def test_loading_the_language_model_loses_no_output_of_other_threads(capfd):
    """In a notebook the model loads in the background while cells print: nothing is lost."""
    require(models.ready(), "the test models: run `make test-local`")
    llm = LlamaCppLLM(models.paths()["llm"], n_ctx=1536)  # its own load, not the shared one
    loader = threading.Thread(target=llm.load)
    loader.start()
    printed = 0
    while loader.is_alive() or printed < 20:
        print(f"line {printed}", flush=True)
        printed += 1
        time.sleep(0.005)
    loader.join()
    out = capfd.readouterr().out
    assert [f"line {n}" for n in range(printed)] == [
        x for x in out.splitlines() if x.startswith("line ")
    ]
    assert printed > 20  # the load really overlapped the printing


async def test_local_model_calls_an_mcp_tool_and_answers_with_its_result(pipeline):
    pytest.importorskip("mcp")
    from realtime_widget.testing.mcp_demo import DemoMCPServer
    from tests.server.checked import CheckedClient, checked

    with DemoMCPServer() as url:
        async with LocalRealtimeServer(brain=pipeline, speed=0) as server:
            client = await CheckedClient.connect(server.url)
            tool = {"type": "mcp", "server_label": "demo", "server_url": url,
                    "require_approval": "never", "allowed_tools": ["add"]}  # fmt: skip
            await client.send(
                {
                    "type": "session.update",
                    "session": {"type": "realtime", "output_modalities": ["text"],
                                "tools": [tool]},
                }
            )  # fmt: skip
            await client.until("mcp_list_tools.completed", 30)
            question = "Use the add tool to add 1234 and 4321. What is the sum?"
            await client.send(
                {
                    "type": "conversation.item.create",
                    "item": {"type": "message", "role": "user",
                             "content": [{"type": "input_text", "text": question}]},
                }
            )  # fmt: skip
            await client.send({"type": "response.create"})
            done = (await client.until("response.done", 120))[-1]["response"]
            checked(client.received)
    calls = [o for o in done["output"] if o["type"] == "mcp_call"]
    assert calls and calls[0]["name"] == "add", done["output"]
    assert calls[0]["output"] == "5555", calls[0]
    text = " ".join(
        part.get("text", "") for o in done["output"] if o["type"] == "message"
        for part in o["content"]
    )  # fmt: skip
    assert "5555" in text.replace(",", ""), text
