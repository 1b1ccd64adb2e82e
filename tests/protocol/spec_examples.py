"""OpenAI's own example events, read from the ``x-oaiMeta.example`` of each schema component.

They are real-world-shaped data written by someone else, which makes them good inputs for the
conversions. A few examples are not strict JSON (trailing commas, ``//`` comments); those are
repaired, and the few whose ``type`` does not match their component are left out.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from realtime_widget.testing.schema import event_schema_names, load_spec


def _loads(text: str) -> Any:
    text = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    return json.loads(re.sub(r",(\s*[}\]])", r"\1", text))


@functools.cache
def _examples(dialect: str) -> dict[str, str]:
    schemas = load_spec(dialect)["components"]["schemas"]
    out = {}
    for etype, name in event_schema_names(dialect).items():
        text = schemas[name].get("x-oaiMeta", {}).get("example")
        try:
            event = _loads(text)
        except (TypeError, ValueError):
            continue
        if isinstance(event, dict) and event.get("type") == etype:
            out[etype] = json.dumps(event)
    return out


def examples(dialect: str) -> dict[str, dict[str, Any]]:
    """Return a fresh copy of ``{event type: example event}`` for ``dialect``."""
    return {etype: json.loads(text) for etype, text in _examples(dialect).items()}
