"""Server ``error`` events: what each one refuses, and whether the user hears of it.

An ``error`` answering one of the client's own events (its ``event_id``) refuses it: a tool
output (not sent again: it would be refused again), a ``session.update`` (its change is rolled
back; listeners get ``rolled_back``), a ``response.create`` (its handles end as refused, or it is
asked again after the active response for ``conversation_already_has_active_response``, which is
then no news for the user). Refusals the client handles by itself stay in ``realtime.event``;
every other error reaches the ``error`` listeners (their fault: logged, never raised).

:class:`ServerErrors` is handed the three collaborators whose requests can be refused and
``dispatch``; it holds no state. Its ``_on_error`` handler is composed by the router
(``_events``). Runs on the runtime loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from realtime_widget.client._outputs import ToolOutputs
from realtime_widget.client._requests import ResponseRequests
from realtime_widget.client._session import SessionSettings

__all__ = ["ServerErrors"]

logger = logging.getLogger("realtime_widget.client")

# Refusals the client already handles: visible in ``realtime.event``, not raised as ``error``.
_HANDLED_CODES = frozenset({"response_cancel_not_active"})


class ServerErrors:
    """Settles server ``error`` events for one client.

    Args:
        outputs: tool outputs until the server acknowledges them (a refused one is dropped).
        settings: the session settings (a refused ``session.update`` is rolled back).
        requests: the response requests (a refused ``response.create`` ends or waits).
        dispatch: emits the client's ``error``.
    """

    def __init__(
        self,
        outputs: ToolOutputs,
        settings: SessionSettings,
        requests: ResponseRequests,
        dispatch: Callable[[str, Any], None],
    ) -> None:
        self._outputs = outputs
        self._settings = settings
        self._requests = requests
        self._dispatch = dispatch

    def _on_error(self, event: dict, result: dict) -> None:
        error = event.get("error") or {}
        if not isinstance(error, dict):  # a malformed error still reaches listeners, as a dict
            error = {"type": "server_error", "code": None, "message": str(error)}
            event = {**event, "error": error}
        if isinstance(error.get("event_id"), str):
            self._outputs.on_refused(error["event_id"])  # refused: sending it again won't help
        event = self._settings.on_error(event)  # a refused session.update is rolled back
        if (
            self._requests.on_error(event)
            and error.get("code") == "conversation_already_has_active_response"
        ):
            logger.info("= response.create deferred until the active response ends")
            return
        if error.get("code") in _HANDLED_CODES:
            logger.info("< %s: %s", error.get("code"), error.get("message"))
            return
        logger.warning(
            "< server error %s: %s", error.get("code") or error.get("type"), error.get("message")
        )
        self._dispatch("error", event)
