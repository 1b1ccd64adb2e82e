"""Brains for tests: the embedded server's scripted and echo brains, and a swappable one.

``ScriptedBrain``, ``EchoBrain``, ``CallableBrain``, ``Say`` and ``Call`` are the server's own
(:mod:`realtime_widget.server.brains`), re-exported here so a test imports everything it needs
from :mod:`realtime_widget.testing`. :class:`SwappableBrain` lets a fixture change who answers
after the server (and a client's session) has started.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from realtime_widget.server.brains import (
    Brain,
    BrainContext,
    Call,
    CallableBrain,
    EchoBrain,
    PlanItem,
    Say,
    ScriptedBrain,
    as_brain,
)

__all__ = [
    "Brain",
    "BrainContext",
    "Call",
    "CallableBrain",
    "EchoBrain",
    "Say",
    "ScriptedBrain",
    "SwappableBrain",
]


class SwappableBrain:
    """A brain that delegates to another one, which can be replaced at any time.

    The embedded server gives each session its brain when the session opens; handing it a
    ``SwappableBrain`` lets a test pick the answers later (e.g. the ``scripted_brain`` fixture
    after ``realtime_client`` has connected). The next response uses the new brain.

    Args:
        brain: the initial brain (default :class:`EchoBrain`); any ``callable(text) -> str`` too.
    """

    def __init__(self, brain: Brain | Callable[[str], str] | None = None) -> None:
        self.brain: Brain = as_brain(brain)

    def use(self, brain: Brain | Callable[[str], str] | None) -> Any:
        """Answer with ``brain`` from the next response on; returns it (as a ``Brain``)."""
        self.brain = as_brain(brain)
        return self.brain

    def respond(self, context: BrainContext) -> list[PlanItem]:
        """Plan with the current brain."""
        return self.brain.respond(context)
