"""The widget's UI contract (docs/widget-protocol.md) as a page object for the browser tests.

Everything here finds elements the way the contract names them (accessible names, roles, the
``rtw-root`` data attributes), so a test reads like what a user does: switch Hands-free on, type a
Message, press Send, wait for an assistant turn.
"""

from __future__ import annotations

import re
import time

from tests.helpers import UNIT

STATUSES = ("disconnected", "connecting", "connected", "reconnecting", "error")


def _ms(seconds: float) -> float:
    return seconds * 1000


class WidgetView:
    """One view of a ``RealtimeWidget`` in a page.

    Args:
        root: Playwright locator of the view's ``.rtw-root`` element.
    """

    def __init__(self, root) -> None:
        self.root = root

    # ------------------------------------------------------------------ controls
    def control(self, role: str, name: str):
        """The control with this role and exact accessible name."""
        return self.root.get_by_role(role, name=name, exact=True)

    @property
    def status(self):
        """The connection status element (role=status, "Connection status")."""
        return self.root.get_by_role("status", name="Connection status")

    @property
    def conversation(self):
        """The conversation log (role=log, "Conversation")."""
        return self.root.get_by_role("log", name="Conversation")

    @property
    def alerts(self):
        """Error messages shown in the view (role=alert)."""
        return self.root.get_by_role("alert")

    def wait_status(self, word: str, timeout: float = 30 * UNIT) -> None:
        """Wait until the status text has ``word`` as a whole word (not inside "disconnected")."""
        assert word in STATUSES, word
        pattern = re.compile(rf"(?<![a-z]){word}(?![a-z])", re.IGNORECASE)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.status.inner_text()
            if pattern.search(text):
                return
            time.sleep(0.1)
        raise AssertionError(f"connection status is {text!r} after {timeout}s, wanted {word!r}")

    def set_hands_free(self, on: bool) -> None:
        """Flip the Hands-free switch to ``on`` (clicking it only when it is the other way)."""
        switch = self.control("switch", "Hands-free")
        want = "true" if on else "false"
        if switch.get_attribute("aria-checked") != want:
            switch.click()
        self.root.page.wait_for_function(
            "([el, want]) => el.getAttribute('aria-checked') === want",
            arg=[switch.element_handle(), want],
            timeout=_ms(10 * UNIT),
        )

    def wait_pressed(self, pressed: bool, timeout: float = 10 * UNIT) -> None:
        """Wait until the Microphone button's ``aria-pressed`` (capture on/off) is ``pressed``."""
        mic = self.control("button", "Microphone")
        self.root.page.wait_for_function(
            "([el, want]) => el.getAttribute('aria-pressed') === want",
            arg=[mic.element_handle(), "true" if pressed else "false"],
            timeout=_ms(timeout),
        )

    def listen_hands_free(self) -> None:
        """Switch Hands-free on, then the microphone (in hands-free, Microphone toggles capture)."""
        self.set_hands_free(True)
        mic = self.control("button", "Microphone")
        if mic.get_attribute("aria-pressed") != "true":
            mic.click()
        self.wait_pressed(True)

    def open_settings(self) -> None:
        """Open the Settings panel from the keyboard (focus its summary, press Enter)."""
        summary = self.root.locator("summary", has_text="Settings")
        summary.focus()
        summary.press("Enter")

    def refuse_vad_threshold(self):
        """Type a VAD threshold the server refuses (5) and wait until the field is marked
        refused (its note, ``aria-invalid``) and back at the session's 0.5; the note."""
        threshold = self.control("spinbutton", "VAD threshold")
        threshold.fill("5")
        threshold.press("Tab")  # change fires on leaving the field
        refused = self.root.locator('[data-note="turn_detection"][data-kind="refused"]')
        refused.wait_for(timeout=_ms(15 * UNIT))
        assert "1.0" in refused.inner_text()
        assert threshold.get_attribute("aria-invalid") == "true"
        threshold.page.wait_for_function(
            "el => el.value === '0.5'", arg=threshold.element_handle(), timeout=_ms(10 * UNIT)
        )
        return refused

    def send_message(self, text: str) -> None:
        """Type ``text`` into Message and press Send."""
        self.control("textbox", "Message").fill(text)
        self.control("button", "Send").click()

    # ------------------------------------------------------------------ conversation
    def turns(self, role: str):
        """Locator of the conversation's turns with ``data-role=role``."""
        return self.conversation.locator(f'[data-role="{role}"]')

    def wait_turn(self, role: str, text: str | re.Pattern | None = None, timeout=30 * UNIT):
        """Wait for a ``role`` turn (containing ``text`` if given) and return its locator."""
        turns = self.turns(role)
        if text is not None:
            turns = turns.filter(has_text=text)
        turn = turns.last
        turn.wait_for(state="visible", timeout=_ms(timeout))
        return turn

    # ------------------------------------------------------------------ counters
    def data_int(self, attribute: str) -> int:
        """Integer value of ``data-<attribute>`` on the root (0 when absent)."""
        raw = self.root.get_attribute(f"data-{attribute}")
        return int(float(raw)) if raw not in (None, "") else 0

    def wait_data_at_least(self, attribute: str, minimum: int, timeout: float = 20 * UNIT) -> int:
        """Wait until ``data-<attribute>`` reaches ``minimum``; return the value seen."""
        deadline = time.monotonic() + timeout
        value = self.data_int(attribute)
        while value < minimum and time.monotonic() < deadline:
            time.sleep(0.1)
            value = self.data_int(attribute)
        assert value >= minimum, (
            f"data-{attribute} is {value} after {timeout}s, wanted >= {minimum}"
        )
        return value
