"""Plain HTTP ``POST`` on the websocket server's port (client secrets, issue 14).

``websockets`` parses only ``GET`` handshakes (its ``Request.parse`` refuses any other method
before ``process_request`` runs), yet OpenAI's ``POST /v1/realtime/client_secrets`` lives on the
same host as the websocket. :func:`connection_class` returns a ``ServerConnection`` that looks at
the first bytes of a connection: a ``POST`` is read here (headers, then a body of
``Content-Length`` bytes, both bounded), answered by a handler and closed; anything else goes to
websockets untouched. One request per connection (``Connection: close``), which every HTTP client
handles.
"""

from __future__ import annotations

import asyncio
import http
import json
import logging
from collections.abc import Callable
from typing import Any

from websockets.asyncio.server import ServerConnection
from websockets.datastructures import Headers
from websockets.http11 import Response

__all__ = ["MAX_BODY", "PostHandler", "connection_class", "json_response"]

MAX_HEAD = 16 * 1024
"""Request line and headers of one POST."""
MAX_BODY = 1024 * 1024
"""Body of one POST (a session configuration with long instructions and many tools fits)."""

PostHandler = Callable[[str, Headers, bytes], Response]
"""``(path with query, headers, body) -> response`` for one POST."""

log = logging.getLogger(__name__)


def json_response(status: http.HTTPStatus, payload: dict) -> Response:
    """An HTTP response with a JSON body (``{"error": {...}}`` for errors, as OpenAI's)."""
    body = json.dumps(payload).encode()
    headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return Response(status.value, status.phrase, headers, body)


def _error(status: http.HTTPStatus, code: str, message: str) -> Response:
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    return json_response(status, {"error": error})


def connection_class(handler: PostHandler) -> type[ServerConnection]:
    """A ``ServerConnection`` class (``serve(create_connection=...)``) answering POSTs with
    ``handler`` and handing every other request to websockets."""

    class HttpAwareConnection(ServerConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._buffer = b""
            self._mode: asyncio.Future[str] = self.loop.create_future()  # "ws" or "http"

        def data_received(self, data: bytes) -> None:
            if self._mode.done():
                if self._mode.result() == "ws":
                    super().data_received(data)
                else:
                    self._buffer += data
                    self._try_answer()
                return
            self._buffer += data
            if len(self._buffer) < 5 and b"POST ".startswith(self._buffer):
                return  # too early to tell
            if not self._buffer.startswith(b"POST "):
                self._mode.set_result("ws")
                data, self._buffer = self._buffer, b""
                super().data_received(data)
                return
            self._mode.set_result("http")
            self._try_answer()

        def _try_answer(self) -> None:
            if self._buffer is None:
                return  # answered already; the rest is ignored
            head, found, body = self._buffer.partition(b"\r\n\r\n")
            if not found:
                if len(self._buffer) > MAX_HEAD:
                    self._answer(
                        _error(
                            http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
                            "headers_too_large",
                            f"The request's headers exceed {MAX_HEAD} bytes.",
                        )
                    )
                return
            try:
                path, headers, length = _parse_head(head)
            except ValueError as exc:
                self._answer(_error(http.HTTPStatus.BAD_REQUEST, "invalid_request", str(exc)))
                return
            if length > MAX_BODY:
                self._answer(
                    _error(
                        http.HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                        "body_too_large",
                        f"The request body of {length} bytes exceeds {MAX_BODY} bytes.",
                    )
                )
                return
            if len(body) < length:
                return  # more to come
            try:
                response = handler(path, headers, body[:length])
            except Exception:  # a bug must answer 500, never leave the client waiting
                log.exception("= embedded server failed on a POST")
                response = _error(
                    http.HTTPStatus.INTERNAL_SERVER_ERROR,
                    "server_error",
                    "The local server failed on this request; please report it.",
                )
            self._answer(response)

        def _answer(self, response: Response) -> None:
            self._buffer = None  # type: ignore[assignment]
            response.headers["Connection"] = "close"
            self.transport.write(response.serialize())
            self.transport.close()  # flushes what was written, then closes

        async def handshake(self, *args: Any, **kwargs: Any) -> None:
            await asyncio.wait(
                [self._mode, self.connection_lost_waiter], return_when=asyncio.FIRST_COMPLETED
            )
            if self._mode.done() and self._mode.result() == "ws":
                await super().handshake(*args, **kwargs)
                return
            # A POST (or nothing at all): done when the transport is closed. The caller then
            # sees a connection that never opened and drops it without logging an error.
            await asyncio.shield(self.connection_lost_waiter)

    return HttpAwareConnection


def _parse_head(head: bytes) -> tuple[str, Headers, int]:
    """``(path, headers, content length)`` of a POST's request line and headers."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise ValueError(f"Malformed request line: {lines[0][:100]!r}.")
    headers = Headers()
    for line in lines[1:]:
        name, colon, value = line.partition(":")
        if not colon:
            raise ValueError(f"Malformed header line: {line[:100]!r}.")
        headers[name.strip()] = value.strip()
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        raise ValueError("Chunked request bodies are not supported: send Content-Length.")
    try:
        length = int(headers.get("Content-Length", "0"))
    except ValueError:
        raise ValueError("Content-Length is not a number.") from None
    if length < 0:
        raise ValueError("Content-Length is negative.")
    return parts[1], headers, length
