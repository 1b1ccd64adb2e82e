"""Shared test helpers.

Every timeout in the suite is a multiple of ``UNIT`` so that a slow machine can stretch them all
at once with ``RTW_TEST_TIME_SCALE`` (e.g. ``RTW_TEST_TIME_SCALE=3 make test``).
"""

from __future__ import annotations

import os

UNIT: float = float(os.environ.get("RTW_TEST_TIME_SCALE", "1")) * 1.0
"""One scaled second."""

IN_CI: bool = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
"""True under CI, where missing real parts (Chromium, espeak-ng, Node) fail instead of skip."""


def require(condition: bool, reason: str) -> None:
    """Skip the calling test when ``condition`` is false, or fail under CI.

    Use for real parts the project installs (Chromium, espeak-ng, sox, Node): a developer machine
    without them skips with ``reason``; CI must have them, so there the test fails.
    """
    import pytest

    if condition:
        return
    if IN_CI:
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)
