"""Launching Debian's Chromium through Playwright with a fake microphone.

Playwright cannot download its own browsers here, so it drives ``/usr/bin/chromium``
(DESIGN §7). Flags: ``--no-sandbox`` (root in containers), fake media devices fed from a WAV,
no background network (there is none; without these Chromium stalls on refused connections), and
autoplay without a gesture so the player's AudioContext starts when the widget renders.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_PATH = os.environ.get("RTW_CHROMIUM", "/usr/bin/chromium")
"""Chromium binary the tests drive (override with ``RTW_CHROMIUM``)."""


def chromium_available() -> bool:
    """Whether the Chromium binary and the playwright package are both present."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return os.access(CHROMIUM_PATH, os.X_OK) or shutil.which(CHROMIUM_PATH) is not None


def chromium_args(
    wav: Path | None, *, grant_microphone: bool = True, fake_devices: bool = True
) -> list[str]:
    """Command-line flags for a headless test Chromium.

    Args:
        wav: file the fake microphone plays in a loop (None: Chromium's synthetic beep).
        grant_microphone: answer the permission prompt with "allow". False leaves the prompt to
            the browser context's permissions, which headless Chromium then denies.
        fake_devices: use Chromium's fake capture device. False records the system's real
            default source (the echo tier's PulseAudio room, ``tests/ui/pulse_room.py``).
    """
    args = [
        "--no-sandbox",
        "--disable-gpu",
        *(["--use-fake-device-for-media-stream"] if fake_devices else []),
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--autoplay-policy=no-user-gesture-required",
    ]
    if grant_microphone:
        args.append("--use-fake-ui-for-media-stream")
    if wav is not None and fake_devices:
        args.append(f"--use-file-for-fake-audio-capture={wav}")
    return args


def launch_chromium(playwright, wav: Path | None, *, grant_microphone: bool = True):
    """Launch headless Chromium with a fake microphone playing ``wav``.

    Args:
        playwright: the object ``sync_playwright().start()`` returned.
        wav: the fake microphone's file (looped), or None.
        grant_microphone: see ``chromium_args``.

    Returns:
        A Playwright ``Browser``.
    """
    return playwright.chromium.launch(
        executable_path=CHROMIUM_PATH,
        headless=True,
        args=chromium_args(wav, grant_microphone=grant_microphone),
        # Playwright mutes by default; the fake output device still "plays", and unmuted is closer
        # to a user's browser (echo cancellation and autoplay paths stay on).
        ignore_default_args=["--mute-audio"],
    )


def launch_chromium_in_room(playwright, room):
    """Launch headless Chromium whose real audio input and output are a PulseAudio room.

    No fake device: getUserMedia records the room's ``mic`` and Web Audio plays into its
    ``speaker``, so the page hears its own playback through Chromium's real capture path, echo
    canceller included (DESIGN §4). The microphone prompt is answered "allow".

    Args:
        playwright: the object ``sync_playwright().start()`` returned.
        room: a started ``tests.ui.pulse_room.PulseRoom``.

    Returns:
        A Playwright ``Browser``.
    """
    return playwright.chromium.launch(
        executable_path=CHROMIUM_PATH,
        headless=True,
        args=chromium_args(None, fake_devices=False),
        env=room.env,
        ignore_default_args=["--mute-audio"],
    )
