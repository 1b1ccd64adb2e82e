"""What the front-end tests share: a page of an app server in Chromium, and one spoken turn.

marimo (run and edit) and Voilà serve a page that is not JupyterLab's, so ``LabNotebook`` does not
drive them: `app_page` opens one in a new browser context with the microphone granted, keeps its
console and numbered screenshots in the test's artifacts and closes the context afterwards;
`spoken_turn` is the conversation every front-end test checks (the fake microphone's question
captured, a user turn, an echo answer, its audio played in the page).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers import UNIT
from tests.ui.widget_view import WidgetView

RATE = 24000


@dataclass
class AppPage:
    """An open app page: the Playwright ``page``, the first widget's `WidgetView` and ``shot``
    (a full-page screenshot named ``NN-label.png`` in the test's artifacts)."""

    page: Any
    view: WidgetView
    shot: Callable[[str], None]


@contextlib.contextmanager
def app_page(
    browser: Any, artifacts: Path, url: str, *, height: int = 1000, wait_widget: bool = True
) -> Iterator[AppPage]:
    """Open ``url`` in a new context of ``browser`` (microphone granted) and wait for the widget.

    Args:
        browser: a Chromium from the ``chromium_for`` fixture (its fake microphone's file).
        artifacts: the test's artifact directory (screenshots, ``console.log``).
        url: the app's page.
        height: the viewport's height (width 1280).
        wait_widget: wait until the first widget view is visible before yielding.
    """
    context = browser.new_context(
        permissions=["microphone"], viewport={"width": 1280, "height": height}
    )
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.type}: {msg.text}"))
    page.on("pageerror", lambda err: console.append(f"pageerror: {err}"))
    shots = iter(range(1, 100))

    def shot(label: str) -> None:
        page.screenshot(path=str(artifacts / f"{next(shots):02d}-{label}.png"), full_page=True)

    try:
        page.goto(url, timeout=60_000 * UNIT)
        view = WidgetView(page.locator(".rtw-root").first)
        if wait_widget:
            view.root.wait_for(state="visible", timeout=60_000 * UNIT)
        yield AppPage(page, view, shot)
    finally:
        try:
            shot("teardown")
        finally:
            (artifacts / "console.log").write_text("\n".join(console))
            context.close()


def spoken_turn(view: WidgetView) -> tuple[str, str]:
    """Talk hands-free with the fake microphone until the echo answer plays in the page.

    Returns:
        The user's and the answer's item ids, as the page shows them.
    """
    view.listen_hands_free()
    view.wait_data_at_least("captured-samples", RATE // 2)
    user = view.wait_turn("user", timeout=30 * UNIT)
    reply = view.wait_turn("assistant", text="You said", timeout=30 * UNIT)
    view.wait_data_at_least("played-samples", RATE // 10)
    return str(user.get_attribute("data-item-id")), str(reply.get_attribute("data-item-id"))
