"""thread="main" tools inside a real IPython kernel run on the kernel's main thread."""

from __future__ import annotations

import importlib.util
import json

from tests.helpers import UNIT, require

CELLS = [
    # the widget's set-up: the registry runs thread="main" tools through the kernel loop
    """
import threading
from realtime_widget.runtime import get_runtime
from realtime_widget.tools import ToolRegistry, kernel_main_thread_executor
registry = ToolRegistry(main_thread_executor=kernel_main_thread_executor())

@registry.tool(thread="main")
def where_main() -> str:
    return threading.current_thread().name

@registry.tool
def where_worker() -> str:
    return threading.current_thread().name
""",
    # tools are invoked on the runtime thread, as the client does; this cell awaits
    """
main = await get_runtime().run_async(registry.invoke("c1", "where_main", "{}"))
worker = await get_runtime().run_async(registry.invoke("c2", "where_worker", "{}"))
import json
print(json.dumps([registry.main_thread_executor is not None, main.output, worker.output]))
""",
]


async def test_main_thread_tool_runs_on_the_kernel_main_thread():
    require(importlib.util.find_spec("ipykernel") is not None, "ipykernel is not installed")
    from jupyter_client.manager import start_new_async_kernel

    manager, client = await start_new_async_kernel(kernel_name="python3", startup_timeout=60 * UNIT)
    try:
        outputs: list[str] = []
        for cell in CELLS:
            reply = await client.execute_interactive(
                cell,
                timeout=30 * UNIT,
                output_hook=lambda msg: (
                    outputs.append(msg["content"].get("text", ""))
                    if msg["msg_type"] == "stream"
                    else outputs.append(json.dumps(msg["content"]))
                    if msg["msg_type"] == "error"
                    else None
                ),
            )
            assert reply["content"]["status"] == "ok", outputs
        has_executor, main_thread, worker_thread = json.loads(outputs[-1])
        assert has_executor is True
        assert main_thread == "MainThread"
        assert worker_thread.startswith("realtime-tool-")
    finally:
        client.stop_channels()
        await manager.shutdown_kernel(now=True)


def test_no_kernel_means_no_main_thread_executor():
    from realtime_widget.tools import kernel_main_thread_executor

    assert kernel_main_thread_executor() is None  # pytest is not an IPython kernel


def test_marimo_imported_outside_a_marimo_kernel_means_no_main_thread_executor():
    # Inside a marimo kernel the loop of the cell's thread is used (tests/ui/test_front_end_marimo
    # runs a thread="main" tool there); a script that merely imports marimo is not a kernel.
    require(importlib.util.find_spec("marimo") is not None, "marimo is not installed")
    import marimo  # noqa: F401

    from realtime_widget.tools import kernel_main_thread_executor

    assert kernel_main_thread_executor() is None
