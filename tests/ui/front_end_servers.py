"""marimo and Voilà servers for the real-browser tests: the other front-ends anywidget serves.

Each is a subprocess of this interpreter on a free loopback port, with everything it writes
(config, caches, Jupyter runtime files) under one temporary directory, no ``OPENAI_API_KEY`` in its
environment (the widget must use the embedded server) and the working tree on ``PYTHONPATH`` (the
kernels import this checkout's ``realtime_widget``). ``JupyterLabServer`` and ``NotebookServer``
(``tests/ui/jupyter_lab.py``) are the Jupyter ones.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from pathlib import Path

from tests.helpers import UNIT
from tests.ui.server_process import REPO, ServerProcess, free_port, server_environment

__all__ = ["REPO", "AppServer", "MarimoEditServer", "MarimoServer", "VoilaServer"]


class AppServer:
    """A web app subprocess on ``127.0.0.1:port``, started and stopped by a test fixture.

    Args:
        base: an empty directory owned by this server.
        name: a short name for messages and the log file.

    Attributes:
        url: ``http://127.0.0.1:PORT``.
        log_path: the server's combined stdout/stderr, for failure reports.
    """

    def __init__(self, base: Path, name: str) -> None:
        self.base = base
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = base / f"{name}.log"
        self._process = ServerProcess(name, self.log_path)

    def command(self) -> list[str]:
        """The command line (subclasses)."""
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        """This server's environment: isolated dirs, no key, the working tree importable."""
        home = self.base / "home"
        return server_environment(
            ("JUPYTER", "MARIMO"),
            {
                "XDG_CONFIG_HOME": str(home / "config"),
                "XDG_CACHE_HOME": str(home / "cache"),
                "XDG_STATE_HOME": str(home / "state"),
                "XDG_DATA_HOME": str(home / "data"),
                "JUPYTER_CONFIG_DIR": str(self.base / "jupyter-config"),
                "JUPYTER_DATA_DIR": str(self.base / "jupyter-data"),
                "JUPYTER_RUNTIME_DIR": str(self.runtime_dir),
                "JUPYTER_PLATFORM_DIRS": "1",
                "IPYTHONDIR": str(self.base / "ipython"),
                # No network here: marimo's start-up PyPI version check would only wait and fail.
                "MARIMO_SKIP_UPDATE_CHECK": "1",
            },
        )

    @property
    def runtime_dir(self) -> Path:
        """Where Jupyter kernels started by this server write their connection files."""
        return self.base / "jupyter-runtime"

    ready_path = "/"
    """A path that answers once the server is up (any HTTP status counts)."""

    def start(self, timeout: float = 60 * UNIT) -> None:
        """Start the server and wait until it answers HTTP on ``ready_path``.

        Raises:
            RuntimeError: it exited or did not answer in time; the message quotes its log.
        """
        self.runtime_dir.mkdir(parents=True, exist_ok=True)
        self._process.start(self.command(), self.environment(), self._answers, timeout)

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + self.ready_path, timeout=5 * UNIT):
                return True
        except urllib.error.HTTPError:
            return True  # it answered
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def stop(self) -> None:
        """Terminate the server (its kernels go with it); kill it if it lingers."""
        self._process.stop()

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server's log (kernel tracebacks land here too)."""
        return self._process.log_tail(chars)


class MarimoServer(AppServer):
    """``marimo run APP`` (app mode: outputs only, code hidden) with no token, on loopback.

    Args:
        base: an empty directory owned by this server.
        app: the marimo notebook (``.py``) to serve.
    """

    subcommand = "run"
    """marimo's subcommand (``edit`` in `MarimoEditServer`)."""

    def __init__(self, base: Path, app: Path) -> None:
        super().__init__(base, f"marimo-{self.subcommand}")
        self.app = app

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "marimo",
            self.subcommand,
            str(self.app),
            "--headless",
            "--host=127.0.0.1",
            f"--port={self.port}",
            "--no-token",
            "--no-sandbox",
        ]


class MarimoEditServer(MarimoServer):
    """``marimo edit APP`` (the editor: code and outputs, each session's kernel its own
    process) with no token, on loopback; same arguments as `MarimoServer`."""

    subcommand = "edit"


class VoilaServer(AppServer):
    """``voila NOTEBOOK`` (outputs only, sources stripped) on loopback.

    Args:
        base: an empty directory owned by this server.
        notebook: the ``.ipynb`` to serve; each page load runs it in a new kernel.
    """

    def __init__(self, base: Path, notebook: Path) -> None:
        super().__init__(base, "voila")
        self.notebook = notebook

    # Not "/": every load of the page runs the notebook in a new kernel, and that one would
    # stay (a 404 says the server is up as well).
    ready_path = "/rtw-ready-probe"

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "voila",
            str(self.notebook),
            "--no-browser",
            f"--port={self.port}",
            "--Voila.ip=127.0.0.1",
            # Kernel connection files here, not in the system's temporary directory.
            f"--Voila.connection_dir_root={self.runtime_dir}",
            # A cell's error in the page, not only in the server log.
            "--show_tracebacks=True",
        ]

    def connection_files(self) -> list[Path]:
        """Connection files of the kernels Voilà runs (one per page load), oldest first."""
        return sorted(self.runtime_dir.rglob("kernel-*.json"), key=lambda p: p.stat().st_mtime)
