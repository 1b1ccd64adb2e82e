"""One server subprocess for the real-browser tests: started, waited for, stopped, its log kept.

JupyterLab and Notebook 7 (``jupyter_lab.py``), marimo and Voilà (``front_end_servers.py``) are
each a web server this interpreter starts on a free loopback port; they differ in their command,
environment, how they say they are up and how they prefer to be stopped, not in the process
handling, which lives here once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from tests.helpers import UNIT

REPO = Path(__file__).resolve().parents[2]
"""The working tree: first on the servers' ``PYTHONPATH`` so kernels import this checkout."""


def server_environment(drop_prefixes: tuple[str, ...], values: dict[str, str]) -> dict[str, str]:
    """This process's environment for a test server: the variables starting with
    ``drop_prefixes`` left out (a developer's own Jupyter or marimo settings), no
    ``OPENAI_API_KEY`` (the widget must use the embedded server; no real key may reach a test
    notebook), unbuffered output, ``values`` added and the working tree first on ``PYTHONPATH``.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop_prefixes)}
    env.pop("OPENAI_API_KEY", None)
    env.update(PYTHONUNBUFFERED="1", **values)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH", "")) if p)
    return env


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A server subprocess whose combined stdout/stderr goes to ``log_path``.

    Args:
        name: a short name for messages.
        log_path: the log file (kernel tracebacks land there too).
    """

    def __init__(self, name: str, log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self._proc is not None and self._proc.poll() is None

    def start(
        self,
        command: list[str],
        env: dict[str, str],
        answers: Callable[[], bool],
        timeout: float = 60 * UNIT,
    ) -> None:
        """Start ``command`` and wait until ``answers()`` (a probe, polled) is true.

        Raises:
            RuntimeError: it exited or did not answer in time; the message quotes its log.
        """
        with self.log_path.open("wb") as log:
            self._proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited early:\n{self.log_tail()}")
            if answers():
                return
            time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer in {timeout}s:\n{self.log_tail()}")

    def stop(self, ask: Callable[[], object] | None = None) -> None:
        """Stop the process (its kernels go with it): ``ask()`` it to shut down first if given,
        else terminate it; kill it if it lingers."""
        proc = self._proc
        if proc is None or proc.poll() is not None:
            return
        if ask is not None:
            try:
                ask()
                proc.wait(timeout=10 * UNIT)
                return
            except Exception:  # refused or too slow: terminate it as below
                pass
        proc.terminate()
        try:
            proc.wait(timeout=10 * UNIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the log."""
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no log)"
