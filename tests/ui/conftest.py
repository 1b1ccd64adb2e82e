"""Fixtures of the real-browser tier: one JupyterLab, one Playwright, Chromiums with fake mics.

Everything expensive is per session (JupyterLab server, Playwright driver, one Chromium per fake
microphone file); every test gets a fresh notebook, a fresh browser context and its own kernel, and
leaves screenshots plus the page's console log under ``test-artifacts/ui/<test name>/``.

Missing Chromium, playwright, espeak-ng or sox skips these tests on a developer machine and fails
them under ``CI=true`` (``tests.helpers.require``): browser tests must run in CI.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers import require
from tests.ui.chromium import CHROMIUM_PATH, chromium_available, launch_chromium
from tests.ui.jupyter_lab import JupyterLabServer, write_notebook
from tests.ui.lab_page import LabNotebook
from tests.ui.speech_wav import make_silence_wav, make_speech_wav, speech_tools_missing

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "ui"
"""Screenshots and console logs of the browser tests (git-ignored)."""

# The fake microphone's recordings. Chromium loops each file, so the trailing silence decides when
# the "user" talks again: long enough to hear a reply out, or short to talk over it (barge-in).
# No punctuation: espeak-ng pauses at sentence ends for longer than server VAD's 200 ms default
# silence, which would split one utterance into two turns.
SPEECH = {
    "question": ("Hello there what is the weather like in Paris today", 9.0),
    "talkative": ("Hello there please tell me a long story about the sea and the ships", 1.2),
    # For the local pipeline (tests/ui/test_widget_local_voice.py): a real question, and a story
    # request that talks again 2.5 s after its end, while the local model's answer plays.
    "capital": ("What is the capital of France", 9.0),
    # The tool round trip takes the 0.5B model 10-20 s on a loaded 2-core machine; the question
    # looping back sooner barged in on every answer (seen once with 15 s under load).
    "population": ("What is the population of Paris", 45.0),
    "story": ("Please tell me a long story about a dragon and the sea", 2.5),
}


REPO = Path(__file__).resolve().parents[2]
BUNDLE = REPO / "realtime_widget" / "static" / "widget.js"


def _require_browser_parts() -> None:
    require(chromium_available(), f"Chromium ({CHROMIUM_PATH}) and the playwright package")
    missing = speech_tools_missing()
    require(not missing, f"speech fixtures need {', '.join(missing)} on PATH")
    _require_fresh_bundle()


def _require_fresh_bundle() -> None:
    """The browser runs the built bundle: testing a stale one would test yesterday's front end."""
    if not BUNDLE.exists():
        pytest.fail(f"{BUNDLE} is missing: run `npm run build` (or `make build`) first")
    sources = [
        p
        for p in (REPO / "js").rglob("*")
        if p.suffix in {".ts", ".css"} and ".test." not in p.name
    ]
    newer = [p for p in sources if p.stat().st_mtime > BUNDLE.stat().st_mtime]
    if newer:
        names = ", ".join(str(p.relative_to(REPO)) for p in newer[:3])
        pytest.fail(f"the bundle is older than {names}: run `npm run build` (or `make build`)")


@pytest.fixture(scope="session")
def speech_wavs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Name -> WAV the fake microphone can play: ``SPEECH`` entries and ``"silence"``."""
    _require_browser_parts()
    base = tmp_path_factory.mktemp("speech")
    wavs = {
        name: make_speech_wav(base / f"{name}.wav", text, trail_silence_s=silence)
        for name, (text, silence) in SPEECH.items()
    }
    wavs["silence"] = make_silence_wav(base / "silence.wav")
    return wavs


@pytest.fixture(scope="session")
def leak_key() -> str:
    """A recognisable fake API key, in the kernels' env as ``RTW_FAKE_API_KEY``, never in cells."""
    return "sk-test-LEAKCHECK-" + secrets.token_hex(12)


@pytest.fixture(scope="session")
def lab_server(
    tmp_path_factory: pytest.TempPathFactory, leak_key: str
) -> Iterator[JupyterLabServer]:
    """One JupyterLab for the whole session (no OPENAI_API_KEY in its or its kernels' env)."""
    _require_browser_parts()
    server = JupyterLabServer(tmp_path_factory.mktemp("lab"), env={"RTW_FAKE_API_KEY": leak_key})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def playwright_driver() -> Iterator[object]:
    """The Playwright driver process (sync API), shared by the session."""
    _require_browser_parts()
    from playwright.sync_api import sync_playwright

    driver = sync_playwright().start()
    yield driver
    driver.stop()


@pytest.fixture(scope="session")
def chromium_for(playwright_driver, speech_wavs) -> Iterator[Callable[..., object]]:
    """``chromium_for(wav_name, grant_microphone=True)`` -> a shared Chromium with that fake mic.

    A fake microphone file is a launch flag, so each (file, permission) pair is one browser.
    """
    browsers: dict[tuple[str | None, bool], object] = {}

    def get(wav: str | None = "question", *, grant_microphone: bool = True):
        key = (wav, grant_microphone)
        if key not in browsers:
            path = speech_wavs[wav] if wav else None
            browsers[key] = launch_chromium(
                playwright_driver, path, grant_microphone=grant_microphone
            )
        return browsers[key]

    yield get
    for browser in browsers.values():
        browser.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """This test's artifact directory, emptied first."""
    path = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


@pytest.fixture
def open_notebook(
    request: pytest.FixtureRequest, lab_server: JupyterLabServer, chromium_for, artifacts: Path
) -> Iterator[Callable[..., LabNotebook]]:
    """``open_notebook(cells, *, wav=, grant_microphone=, run=, init_scripts=)`` -> ``LabNotebook``.

    Writes a fresh notebook named after the test, opens it in a new browser context of the
    Chromium whose fake microphone plays ``wav`` (default "question"; ``init_scripts`` run before
    page scripts), waits for its kernel and runs all cells (unless ``run=False``). At teardown: a
    last screenshot, the console log, the context closed and the kernel shut down.
    """
    opened: list[tuple[LabNotebook, object]] = []

    def open_(
        cells: list[str],
        *,
        wav: str | None = "question",
        grant_microphone: bool = True,
        run: bool = True,
        init_scripts: tuple[str, ...] = (),
    ) -> LabNotebook:
        name = re.sub(r"[^\w]+", "_", request.node.name) + f"_{len(opened)}.ipynb"
        write_notebook(lab_server.root / name, cells)
        browser = chromium_for(wav, grant_microphone=grant_microphone)
        permissions = ["microphone"] if grant_microphone else []
        context = browser.new_context(
            permissions=permissions, viewport={"width": 1280, "height": 1000}
        )
        for script in init_scripts:
            context.add_init_script(script)
        nb = LabNotebook(context.new_page(), lab_server, name, artifacts)
        opened.append((nb, context))
        nb.open()
        if run:
            nb.run_all()
        return nb

    yield open_
    for nb, context in opened:
        try:
            nb.screenshot("teardown")
        except Exception:  # the page may already be gone; the log still matters
            pass
        nb.close()
        context.close()
    lab_server.shutdown_sessions()
