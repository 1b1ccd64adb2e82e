"""The shared runtime thread (DESIGN §3)."""

import asyncio
import subprocess
import sys
import threading
import time

import pytest

from realtime_widget.runtime import DaemonThreadPool, Runtime, get_runtime
from tests.helpers import UNIT


@pytest.fixture
def runtime():
    rt = Runtime(name="test-runtime")
    yield rt
    rt.stop()


def test_runtime_runs_coroutines_on_its_own_thread(runtime):
    async def where():
        return threading.current_thread().name

    assert runtime.run(where(), timeout=5 * UNIT) == "test-runtime"


def test_runtime_refuses_blocking_call_from_its_own_thread(runtime):
    async def nested():
        async def inner():
            return 1

        with pytest.raises(RuntimeError, match="await the async variant"):
            runtime.run(inner())
        return "ok"

    assert runtime.run(nested(), timeout=5 * UNIT) == "ok"


def test_runtime_run_times_out_and_cancels(runtime):
    cancelled = threading.Event()

    async def forever():
        try:
            await asyncio.sleep(100)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with pytest.raises(TimeoutError):
        runtime.run(forever(), timeout=0.1 * UNIT)
    assert cancelled.wait(5 * UNIT)


def test_runtime_run_keeps_the_coroutines_own_timeout_error(runtime):
    # concurrent.futures.TimeoutError is TimeoutError since 3.11: the coroutine's own message
    # (e.g. ask()'s "still waiting for ...") was replaced by "timed out after None s".
    async def gives_up():
        raise TimeoutError("waited for the answer")

    with pytest.raises(TimeoutError, match="waited for the answer"):
        runtime.run(gives_up(), timeout=None)


async def test_runtime_run_async_is_awaitable_from_another_loop(runtime):
    async def value():
        return threading.current_thread().name

    assert await runtime.run_async(value()) == "test-runtime"


def test_runtime_call_soon_is_thread_safe(runtime):
    done = threading.Event()
    runtime.call_soon(done.set)
    assert done.wait(5 * UNIT)


def test_get_runtime_is_shared():
    assert get_runtime() is get_runtime()


# The resolver here answers at once (NXDOMAIN), so the script makes getaddrinfo hang for the one
# host, as a resolver that gets no reply does; the widget, client, runtime and interpreter exit are
# real. 10.255.255.1 is a private address nothing answers on: with no route the connect fails at
# once, with a route it hangs in the kernel's TCP connect (not in a thread) until open_timeout.
_HANG_RESOLVER = """
import socket, time
real = socket.getaddrinfo
def hanging(host, *args, **kwargs):
    if host == "unreachable.invalid":
        time.sleep(60)
    return real(host, *args, **kwargs)
socket.getaddrinfo = hanging
"""
_URLS = {
    "resolving": "wss://unreachable.invalid/v1/realtime",
    "blackhole": "ws://10.255.255.1:443/v1/realtime",
}
_MAKE = {
    # The widget connects in the background; the script ends while it tries.
    "widget": """
from realtime_widget import RealtimeWidget
w = RealtimeWidget(api_key="sk-test-exit", url=URL)
time.sleep(0.3)  # the connection is under way now
print(w.status, flush=True)
""",
    # A script's blocking connect() gives up after its timeout while the attempt still runs.
    "client": """
from realtime_widget import RealtimeClient
c = RealtimeClient(api_key="sk-test-exit", url=URL)
try:
    c.connect(timeout=0.3)
except Exception as exc:
    print(type(exc).__name__, flush=True)
else:
    print("connected", flush=True)
""",
}


@pytest.mark.parametrize("peer", ["resolving", "blackhole"])
@pytest.mark.parametrize("maker", ["widget", "client"])
def test_runtime_process_exits_promptly_while_a_session_tries_an_unreachable_host(
    tmp_path, maker, peer
):
    script = tmp_path / "exit_while_connecting.py"
    resolver = _HANG_RESOLVER if peer == "resolving" else ""
    script.write_text(f"import time\nURL = {_URLS[peer]!r}\n{resolver}{_MAKE[maker]}")
    process = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        line = process.stdout.readline().strip()
        ended = time.monotonic()  # the script's last line ran: from here on it is exiting
        process.wait(timeout=10 * UNIT)
        took = time.monotonic() - ended
    finally:
        process.kill()
        _, stderr = process.communicate()
    assert process.returncode == 0, stderr
    if peer == "resolving":  # still resolving when the script ended
        assert line == ("connecting" if maker == "widget" else "TimeoutError"), stderr
    assert took <= 2 * UNIT, f"exit took {took:.1f} s after {line!r}"


def test_daemon_thread_pool_runs_work_in_daemon_threads_and_reports_errors():
    pool = DaemonThreadPool(max_workers=2, thread_name_prefix="test-pool")
    try:
        where = pool.submit(
            lambda: (threading.current_thread().name, threading.current_thread().daemon)
        )
        assert where.result(5 * UNIT) == ("test-pool_0", True)
        failing = pool.submit(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failing.result(5 * UNIT)
        gate = threading.Event()
        blocked = [pool.submit(gate.wait, 5 * UNIT) for _ in range(3)]  # two run, one waits
        assert len(pool._workers) == 2
        gate.set()
        assert [f.result(5 * UNIT) for f in blocked] == [True, True, True]
    finally:
        pool.shutdown(wait=True)
    with pytest.raises(RuntimeError, match="after shutdown"):
        pool.submit(print)


def test_runtime_loop_default_executor_uses_daemon_threads(runtime):
    # asyncio's getaddrinfo runs here: a hanging name lookup must not hold up exit.
    async def where():
        loop = asyncio.get_running_loop()
        current = threading.current_thread
        return await loop.run_in_executor(None, lambda: (current().name, current().daemon))

    name, daemon = runtime.run(where(), timeout=5 * UNIT)
    assert name.startswith("test-runtime-worker") and daemon
