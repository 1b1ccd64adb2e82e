"""Read the notebook kernel's Python state from a test, beside the browser.

The notebook page and this probe are two clients of the same kernel: code the probe executes runs
in the notebook's namespace (so ``w`` is the widget the page shows), and its outputs go only to the
probe. That reads kernel-side state (``w.items``, ``w.last_truncate``...) without typing cells into
the page, and without depending on how the page renders outputs.
"""

from __future__ import annotations

import json
import queue
import time
from pathlib import Path
from typing import Any

from jupyter_client.blocking import BlockingKernelClient

from tests.helpers import UNIT

_MARK = "__RTW_PROBE__"


class KernelProbeError(AssertionError):
    """Code run by the probe raised in the kernel; the message carries the kernel's traceback."""


class KernelProbe:
    """A second client attached to a running kernel through its connection file.

    Args:
        connection_file: ``kernel-<id>.json`` in the server's runtime dir.
    """

    def __init__(self, connection_file: Path) -> None:
        self._client = BlockingKernelClient(connection_file=str(connection_file))
        self._client.load_connection_file()
        self._client.start_channels()
        self._wait_ready(30 * UNIT)

    def _wait_ready(self, timeout: float) -> None:
        # Not BlockingKernelClient.wait_for_ready: it drains IOPub until 0.2 s of quiet, and a live
        # widget keeps IOPub busy (frames, comm status), so it can take tens of seconds. Ready here
        # means: the shell answers kernel_info, and IOPub delivers something (we are subscribed,
        # so our own execution's output cannot be lost to ZMQ's late-subscriber gap).
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._client.kernel_info()
            try:
                self._client.get_shell_msg(timeout=1)
                self._client.get_iopub_msg(timeout=1)
                return
            except queue.Empty:
                continue
        raise TimeoutError(f"kernel did not answer kernel_info within {timeout}s")

    def close(self) -> None:
        """Stop this client's channels (the kernel keeps running)."""
        self._client.stop_channels()

    def run(self, code: str, timeout: float = 20 * UNIT) -> str:
        """Execute ``code`` in the kernel and return what it printed.

        Raises:
            KernelProbeError: the code raised; the kernel's traceback is in the message.
        """
        chunks: list[str] = []
        errors: list[str] = []

        def on_output(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                chunks.append(content["text"])
            elif kind == "error":
                errors.append("\n".join(content.get("traceback", [])) or content.get("evalue", ""))

        reply = self._client.execute_interactive(
            code, store_history=False, timeout=timeout, output_hook=on_output, allow_stdin=False
        )
        if errors or reply["content"].get("status") != "ok":
            raise KernelProbeError(f"kernel raised running:\n{code}\n---\n{''.join(errors)}")
        return "".join(chunks)

    def value(self, expr: str, timeout: float = 20 * UNIT) -> Any:
        """Evaluate ``expr`` in the kernel and return it decoded from JSON.

        ``expr`` must evaluate to something ``json.dumps(..., default=str)`` accepts.
        """
        code = f"import json as _j\nprint({_MARK!r}, _j.dumps({expr}, default=str))"
        out = self.run(code, timeout=timeout)
        for line in out.splitlines():
            if line.startswith(_MARK):
                return json.loads(line[len(_MARK) + 1 :])
        raise KernelProbeError(f"no value printed for {expr!r}; output was {out!r}")

    def wait_for(self, expr: str, timeout: float = 20 * UNIT, interval: float = 0.25) -> Any:
        """Poll ``expr`` in the kernel until it is truthy; return that value.

        Raises:
            AssertionError: still falsy after ``timeout``; the message shows the last value.
        """
        deadline = time.monotonic() + timeout
        last: Any = None
        while time.monotonic() < deadline:
            last = self.value(expr)
            if last:
                return last
            time.sleep(interval)
        raise AssertionError(f"kernel expression {expr!r} still {last!r} after {timeout}s")
