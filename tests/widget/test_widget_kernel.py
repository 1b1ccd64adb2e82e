"""RealtimeWidget inside a real ipykernel: what actually crosses the comm, both ways.

A test-side Jupyter client plays the browser: it reads the kernel's comm messages on IOPub (with
their binary buffers) and sends comm messages with binary buffers on the shell channel, exactly
the traffic JupyterLab relays. The widget talks to the embedded server through the real client.
"""

from __future__ import annotations

import ast
import itertools
import queue
import re
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from realtime_widget.server import synthesize
from tests.helpers import UNIT

jupyter_client = pytest.importorskip("jupyter_client")

ROOT = Path(__file__).resolve().parents[2]
RATE = 24000
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{200,}")
LONG_TEXT = " ".join(
    f"this is sentence number {i} of a long answer that keeps the model talking for a while."
    for i in range(30)
)


class Browser:
    """The test's stand-in for JupyterLab: a kernel client collecting comm traffic."""

    def __init__(self) -> None:
        from jupyter_client.manager import start_new_kernel

        self.km, self.kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
        self.comm: list[dict] = []
        self._results: dict[str, object] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read_iopub, daemon=True)
        self._thread.start()

    def _read_iopub(self) -> None:
        while not self._stop.is_set():
            try:
                msg = self.kc.get_iopub_msg(timeout=0.1)
            except queue.Empty:
                continue
            except Exception:
                return
            kind = msg["header"]["msg_type"]
            if kind in {"comm_msg", "comm_open"}:
                self.comm.append(msg)
            elif kind == "execute_result":
                self._results[msg["parent_header"]["msg_id"]] = msg["content"]["data"]["text/plain"]
            elif kind == "error":
                error = RuntimeError("\n".join(msg["content"]["traceback"]))
                self._results[msg["parent_header"]["msg_id"]] = error

    def run(self, code: str, timeout: float = 30 * UNIT) -> str:
        msg_id = self.kc.execute(code)
        reply = self.kc.get_shell_msg(timeout=timeout)
        if reply["content"]["status"] != "ok":
            raise AssertionError(f"{code!r} failed: {reply['content'].get('evalue')}")
        return msg_id

    def value(self, expression: str, timeout: float = 30 * UNIT):
        msg_id = self.run(expression, timeout)
        deadline = time.monotonic() + timeout
        while msg_id not in self._results and time.monotonic() < deadline:
            time.sleep(0.01)
        result = self._results.pop(msg_id)
        if isinstance(result, Exception):
            raise result
        return ast.literal_eval(result)

    def wait_for(self, expression: str, timeout: float = 30 * UNIT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.value(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"{expression} still false after {timeout} s")

    def send(self, comm_id: str, content: dict, buffers: list[bytes] = ()) -> None:
        """A custom message from the 'browser', as ipywidgets' front end sends it."""
        data = {"method": "custom", "content": content}
        self.kc.session.send(
            self.kc.shell_channel.socket,
            "comm_msg",
            {"comm_id": comm_id, "data": data},
            buffers=list(buffers),
        )

    def custom(self, comm_id: str) -> list[dict]:
        return [
            m
            for m in list(self.comm)
            if m["header"]["msg_type"] == "comm_msg"
            and m["content"]["comm_id"] == comm_id
            and m["content"]["data"].get("method") == "custom"
        ]

    def to_browser(self, comm_id: str) -> list[dict]:
        return [
            m
            for m in list(self.comm)
            if m["header"]["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id
        ]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def browser():
    b = Browser()
    b.run(
        "from realtime_widget import RealtimeWidget, LocalRealtimeServer\n"
        "server = LocalRealtimeServer(speed=0).start()\n"
    )
    yield b
    b.close()


def new_widget(browser: Browser, name: str, **options: str) -> str:
    args = ", ".join(["url=server.url", *(f"{k}={v}" for k, v in options.items())])
    browser.run(
        f"{name} = RealtimeWidget({args})\n"
        f"{name}.connect()\n"
        f"deltas_{name} = []\n"
        f"{name}.on('realtime.event', lambda e: e['event'].get('type', '').endswith('.delta')"
        f" and deltas_{name}.append(1))\n"
    )
    return browser.value(f"{name}.model_id")


def max_per_window(messages: list[dict], window: float = 1.0) -> int:
    times = sorted(m["header"]["date"].timestamp() for m in messages)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.parametrize(
    ("speed", "sentences"),
    [(0, 30), (16, 8)],
    ids=["instant-burst", "sustained-16x-real-time"],
)
def test_kernel_coalesces_a_burst_of_deltas_to_at_most_50_messages_per_second(
    browser, speed, sentences
):
    browser.run(f"fast = LocalRealtimeServer(speed={speed}).start()")
    name = f"wb{speed}"
    browser.run(f"{name} = RealtimeWidget(url=fast.url)\n{name}.connect()")
    comm_id = browser.value(f"{name}.model_id")
    browser.run(
        f"import time\ndeltas = []\n{name}.on('realtime.event', lambda e: e['event'].get('type',"
        " '').endswith('.delta') and deltas.append(time.monotonic()))"
    )
    text = " ".join(LONG_TEXT.split(".")[:sentences])
    browser.run(f"{name}.send_text({text!r})")
    browser.wait_for(
        f"[i for i in {name}.items if i['role'] == 'assistant' and i['status'] == 'completed']",
        timeout=30 * UNIT,
    )
    time.sleep(0.5 * UNIT)  # the last frame and trait update
    deltas = browser.value("len(deltas)")
    sent = browser.to_browser(comm_id)
    peak = max_per_window(sent)
    span = browser.value("round(max(deltas) - min(deltas), 2)")
    browser.run("fast.stop()")
    print(f"\n{deltas} deltas over {span} s -> {len(sent)} comm messages, peak {peak}/s")
    assert deltas > 400, "the burst should be far above the message budget"
    assert peak <= 50
    assert len(sent) < deltas / 4


def test_kernel_sends_assistant_audio_as_binary_buffers_never_base64(browser):
    comm_id = new_widget(browser, "wa")
    browser.run("wa.send_text('binary audio please')")
    reply = browser.wait_for(
        "[i for i in wa.items if i['role'] == 'assistant' and i['status'] == 'completed']"
    )[0]
    time.sleep(0.3 * UNIT)
    frames = [
        m for m in browser.custom(comm_id) if m["content"]["data"]["content"]["type"] == "frame"
    ]
    audio_bytes = 0
    offsets = []
    for m in frames:
        frame = m["content"]["data"]["content"]
        assert len(m["buffers"]) == len(frame["audio"])
        for entry in frame["audio"]:
            if entry["item_id"] == reply["id"]:
                size = len(m["buffers"][entry["buffer"]])
                assert size == 2 * entry["samples"]
                offsets.append((entry["offset"], entry["samples"]))
                audio_bytes += size
    assert audio_bytes == 2 * reply["audio_samples"] > 0
    # Offsets are contiguous: every sample arrived once, in order.
    assert all(a[0] + a[1] == b[0] for a, b in itertools.pairwise(offsets))
    assert any(
        d == {"item_id": reply["id"], "content_index": 0}
        for m in frames
        for d in m["content"]["data"]["content"]["audio_done"]
    )
    for m in browser.to_browser(comm_id):
        assert not BASE64_RUN.search(str(m["content"]["data"])), "base64 payload in a comm message"


def test_kernel_takes_browser_microphone_audio_as_binary_buffers(browser):
    comm_id = new_widget(browser, "wm", turn_detection="None")
    speech = synthesize("Is the microphone reaching the kernel?")
    browser.send(comm_id, {"type": "ptt_start", "played": []})
    for seq, start in enumerate(range(0, len(speech), 960)):
        browser.send(
            comm_id,
            {"type": "audio", "seq": seq},
            [speech[start : start + 960].astype("<i2").tobytes()],
        )
    browser.send(comm_id, {"type": "ptt_stop"})
    user = browser.wait_for("[i for i in wm.items if i['role'] == 'user']", timeout=20 * UNIT)
    assert user[0]["audio_samples"] == len(speech)
    browser.wait_for(
        "[i for i in wm.items if i['role'] == 'assistant' and i['status'] == 'completed']",
        timeout=20 * UNIT,
    )


def test_kernel_saved_widget_state_holds_no_audio_and_no_key(browser):
    browser.run("import os; os.environ['OPENAI_API_KEY'] = 'sk-never-in-state-123'")
    try:
        comm_id = new_widget(browser, "wk", api_key="'sk-never-in-state-123'")
        browser.run("wk.send_text('hello')")
        browser.wait_for(
            "[i for i in wk.items if i['role'] == 'assistant' and i['status'] == 'completed']"
        )
        browser.send(comm_id, {"type": "hello", "view": "test"})
        browser.wait_for("len(wk.items_snapshot) >= 2")
        state = browser.value("{k: v for k, v in wk.get_state().items() if k != '_esm'}")
    finally:
        browser.run("del os.environ['OPENAI_API_KEY']")
    text = repr(state) + "".join(str(m["content"]) for m in browser.comm)
    assert "sk-never-in-state-123" not in text
    assert not BASE64_RUN.search(repr(state))
    assert np.all([("audio" not in item) for item in state["items_snapshot"]])


def test_kernel_answers_a_replay_request_with_the_items_audio_as_one_buffer(browser):
    comm_id = new_widget(browser, "wr")
    browser.run("wr.send_text('replay me')")
    reply = browser.wait_for(
        "[i for i in wr.items if i['role'] == 'assistant' and i['status'] == 'completed']"
    )[0]
    browser.send(comm_id, {"type": "replay", "item_id": reply["id"], "request_id": "r1"})
    deadline = time.monotonic() + 10 * UNIT
    answers = []
    while not answers and time.monotonic() < deadline:
        answers = [
            m
            for m in browser.custom(comm_id)
            if m["content"]["data"]["content"]["type"] == "replay_audio"
        ]
        time.sleep(0.05)
    assert answers, "no replay_audio message"
    content = answers[0]["content"]["data"]["content"]
    assert content["item_id"] == reply["id"] and content["request_id"] == "r1"
    assert [len(b) for b in answers[0]["buffers"]] == [2 * reply["audio_samples"]]


def test_kernel_runs_thread_main_tools_of_the_widget_on_the_kernels_main_thread(browser):
    new_widget(browser, "wm")
    browser.run(
        "import threading\n"
        "@wm.tool(thread='main')\n"
        "def where() -> str:\n"
        "    '''Name the thread this tool runs on.'''\n"
        "    return threading.current_thread().name\n"
        "wm.send_text('call where with {}')\n"
    )
    # Short cells, one after another: the kernel's main loop is free between them.
    assert browser.value("wm.client.tools.main_thread_executor is not None")
    done = "[i['output'] for i in wm.items if i['type'] == 'function_call' and i['output']]"
    assert browser.wait_for(done) == ["MainThread"]
