"""A throwaway JupyterLab (or Notebook 7) server for the real-browser tests, and its notebooks.

One server per test session (starting JupyterLab costs seconds on two cores). Everything it writes
lives under one temporary directory: config, data, runtime and the notebooks themselves, so a
developer's own Jupyter settings cannot change what the tests see. The kernel is this
interpreter (``sys.executable``) through a kernelspec installed into the temporary data dir, so the
kernel imports the working tree's ``realtime_widget``.
"""

from __future__ import annotations

import json
import secrets
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import nbformat

from tests.helpers import UNIT
from tests.ui.server_process import ServerProcess, free_port, server_environment

KERNEL_NAME = "rtw-test"
"""Name of the kernelspec the test notebooks ask for (this interpreter)."""

# Server settings that keep a fresh JupyterLab quiet and deterministic with no network: no news or
# update checks (they stall on refused connections), no language-server scan, no terminals.
_SERVER_CONFIG: dict[str, Any] = {
    "ServerApp": {
        "open_browser": False,
        "terminals_enabled": False,
        "jpserver_extensions": {"jupyter_lsp": False},
        # CI containers run as root; the server refuses root without this.
        "allow_root": True,
    },
    "LabApp": {
        "news_url": None,
        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
        # The "pypi" manager probes yarn and PyPI at start-up; the tests install nothing.
        "extension_manager": "readonly",
        # window.jupyterapp lets a test run commands (run all cells, save) without key chords.
        "expose_app_in_browser": True,
    },
}

# Lab settings a user would otherwise click away: the "receive news?" toast and autosave churn.
_USER_SETTINGS: dict[str, dict[str, Any]] = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    # Save widget state into the notebook, so the "no audio, no key in the saved file" test checks
    # the synced traits too, not only cell outputs.
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
}


__all__ = ["KERNEL_NAME", "JupyterLabServer", "NotebookServer", "free_port", "write_notebook"]


def write_notebook(path: Path, cells: list[str]) -> Path:
    """Write a notebook of code cells that asks for the test kernel.

    Args:
        path: where to write the ``.ipynb``.
        cells: source of each code cell, in order.

    Returns:
        ``path``.
    """
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": KERNEL_NAME,
        "display_name": "rtw test",
        "language": "python",
    }
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, str(path))
    return path


class JupyterLabServer:
    """A ``jupyter lab`` subprocess on a free loopback port with a random token.

    ``NotebookServer`` below is the same server running Notebook 7's front end.

    Args:
        base: an empty directory owned by this server (config, data, runtime, notebooks).
        env: extra environment for the server and therefore for its kernels.

    Attributes:
        root: the server's ``root_dir``; notebooks are written here.
        url: ``http://127.0.0.1:PORT``.
        token: the auth token (pass as ``?token=`` or an ``Authorization`` header).
        runtime_dir: where kernel connection files appear.
        log_path: the server's combined stdout/stderr, for failure reports.
    """

    app = "lab"
    """The ``jupyter`` subcommand (``lab``; ``notebook`` for Notebook 7)."""
    app_class = "LabApp"
    """Its configurable application class (for the settings and workspace directories)."""

    def __init__(self, base: Path, env: dict[str, str] | None = None) -> None:
        self.base = base
        self.root = base / "notebooks"
        self.config_dir = base / "config"
        self.data_dir = base / "data"
        self.runtime_dir = base / "runtime"
        self.settings_dir = base / "user-settings"
        for d in (self.root, self.config_dir, self.data_dir, self.runtime_dir, self.settings_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(16)
        self.log_path = base / "jupyter-lab.log"
        self._extra_env = dict(env or {})
        self._process = ServerProcess(f"jupyter {self.app}", self.log_path)

    # ------------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 60 * UNIT) -> None:
        """Write config and kernelspec, start the server and wait until ``/api/status`` answers.

        Raises:
            RuntimeError: the server exited or did not answer in time; the message quotes its log.
        """
        self._write_config()
        self._install_kernelspec()
        cmd = [
            sys.executable,
            "-m",
            "jupyter",
            self.app,
            "--no-browser",
            f"--port={self.port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            f"--{self.app_class}.user_settings_dir={self.settings_dir}",
            f"--{self.app_class}.workspaces_dir={self.base / 'workspaces'}",
        ]
        self._process.start(cmd, self._environment(), self._answers, timeout)

    def _answers(self) -> bool:
        try:
            self.api("GET", "/api/status")
            return True
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def stop(self) -> None:
        """Shut the server (and its kernels) down; kill it if it lingers."""
        self._process.stop(ask=lambda: self.api("POST", "/api/shutdown"))

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the server log (kernel tracebacks land here too)."""
        return self._process.log_tail(chars)

    # ------------------------------------------------------------------ REST
    def api(self, method: str, path: str, body: Any = None, timeout: float = 10 * UNIT) -> Any:
        """Call the server's REST API and return the decoded JSON (or None for empty bodies)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Authorization", f"token {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def lab_url(self, notebook: str) -> str:
        """URL that opens ``notebook`` (relative to ``root``) in JupyterLab."""
        return f"{self.url}/lab/tree/{notebook}?token={self.token}&reset"

    def page_url(self, notebook: str) -> str:
        """URL of the page that opens ``notebook`` in this server's front end."""
        return self.lab_url(notebook)

    def kernel_id_for(self, notebook: str) -> str | None:
        """Id of the kernel of the session whose path is ``notebook``, if one is running."""
        for session in self.api("GET", "/api/sessions"):
            if session.get("path") == notebook and session.get("kernel"):
                return session["kernel"]["id"]
        return None

    def shutdown_sessions(self) -> None:
        """Stop every kernel session, so the next test starts from a quiet server."""
        for session in self.api("GET", "/api/sessions"):
            try:
                self.api("DELETE", f"/api/sessions/{session['id']}")
            except urllib.error.HTTPError:
                pass

    # ------------------------------------------------------------------ set-up
    def _environment(self) -> dict[str, str]:
        env = server_environment(
            ("JUPYTER",),
            {
                "JUPYTER_CONFIG_DIR": str(self.config_dir),
                "JUPYTER_DATA_DIR": str(self.data_dir),
                "JUPYTER_RUNTIME_DIR": str(self.runtime_dir),
                "JUPYTER_PLATFORM_DIRS": "1",
                "JUPYTERLAB_SETTINGS_DIR": str(self.settings_dir),
                "JUPYTERLAB_WORKSPACES_DIR": str(self.base / "workspaces"),
                "IPYTHONDIR": str(self.base / "ipython"),
            },
        )
        env.update(self._extra_env)
        return env

    def _write_config(self) -> None:
        (self.config_dir / "jupyter_server_config.json").write_text(json.dumps(self._config()))
        for rel, values in _USER_SETTINGS.items():
            path = self.settings_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))

    def _install_kernelspec(self) -> None:
        spec_dir = self.data_dir / "kernels" / KERNEL_NAME
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "rtw test",
            "language": "python",
        }
        (spec_dir / "kernel.json").write_text(json.dumps(spec))

    def _config(self) -> dict[str, Any]:
        return _SERVER_CONFIG


class NotebookServer(JupyterLabServer):
    """Notebook 7 (``jupyter notebook``): JupyterLab's components in the one-document shell.

    Same server, REST API, kernels and user settings as ``JupyterLabServer``; its page is
    ``/notebooks/<path>`` and it exposes ``window.jupyterapp`` as JupyterLab does, so
    ``LabNotebook`` drives it unchanged.
    """

    app = "notebook"
    app_class = "JupyterNotebookApp"

    def page_url(self, notebook: str) -> str:
        """URL that opens ``notebook`` in Notebook 7."""
        return f"{self.url}/notebooks/{notebook}?token={self.token}"

    def _config(self) -> dict[str, Any]:
        # Notebook 7 has no news/update/extension-manager settings of its own; the server's stay.
        return {
            "ServerApp": _SERVER_CONFIG["ServerApp"],
            self.app_class: {"expose_app_in_browser": True},
        }
