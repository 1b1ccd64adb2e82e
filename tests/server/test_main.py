"""The server's command line: the key comes from the environment or a file, never the output."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from tests.helpers import UNIT
from tests.server.checked import checked

KEY = "sk-cli-secret-0123456789"


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "realtime_widget.server", "--port", "0", "--speed", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    proc.wait(10 * UNIT)
    # read(), not communicate(): communicate reads the pipe's descriptor and would miss what
    # readline() already buffered.
    return proc.stdout.read() + proc.stderr.read()


def _check_requires_key(proc: subprocess.Popen) -> str:
    """The server refuses a wrong key, serves the right one; returns everything it printed."""
    try:
        url = proc.stdout.readline().split()[-1]
        assert url.startswith("ws://127.0.0.1:"), url
        with pytest.raises(InvalidStatus) as info:
            connect(url, additional_headers={"Authorization": "Bearer sk-wrong"})
        assert info.value.response.status_code == 401
        with connect(url, additional_headers={"Authorization": f"Bearer {KEY}"}) as ws:
            assert checked([json.loads(ws.recv(timeout=10 * UNIT))])[0]["type"] == (
                "session.created"
            )
    finally:
        printed = _stop(proc)
    assert KEY not in printed
    return printed


def test_cli_reads_the_key_from_the_environment_and_never_prints_it():
    printed = _check_requires_key(_start([], {"REALTIME_WIDGET_SERVER_KEY": KEY}))
    assert "REALTIME_WIDGET_SERVER_KEY" in printed
    assert "warning" not in printed


def test_cli_reads_the_key_from_a_file(tmp_path):
    path = tmp_path / "key"
    path.write_text(KEY + "\n", encoding="utf-8")
    env = {"REALTIME_WIDGET_SERVER_KEY": ""}
    _check_requires_key(_start(["--api-key-file", str(path)], env))


def test_cli_api_key_option_still_works_but_warns_it_is_visible():
    printed = _check_requires_key(_start(["--api-key", KEY], {}))
    assert "process list" in printed


def test_cli_refuses_an_unreadable_key_file_without_starting(tmp_path):
    proc = _start(["--api-key-file", str(tmp_path / "missing")], {})
    out, err = proc.communicate(timeout=10 * UNIT)
    assert proc.returncode != 0
    assert "--api-key-file" in err and "listening" not in out
