"""A small, real MCP server on loopback for demos and tests of MCP tools.

It is built with the official ``mcp`` package (``MCPServer``, formerly FastMCP) and served over
streamable HTTP by uvicorn in a background thread, so a notebook or a test can point a session's
``{"type": "mcp", "server_url": ...}`` tool at it without a network::

    from realtime_widget.testing.mcp_demo import DemoMCPServer

    with DemoMCPServer() as url:          # e.g. "http://127.0.0.1:41234/mcp"
        client.add_tool({"type": "mcp", "server_label": "demo", "server_url": url,
                         "require_approval": "never"})

The tools cover the cases a client must handle: plain answers (``add``, ``capital``), a slow call
(``slow``), a huge result (``huge``) and a tool that fails (``fail``). ``token=`` makes the server
demand ``Authorization: Bearer <token>``, to test the ``authorization``/``headers`` fields.

Needs the ``mcp`` extra: ``pip install realtime_widget[mcp]``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

try:
    import uvicorn
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
except ImportError as exc:  # pragma: no cover - exercised by a subprocess test
    raise ImportError(
        "realtime_widget.testing.mcp_demo needs the 'mcp' package: "
        "pip install 'realtime_widget[mcp]'"
    ) from exc

__all__ = ["CAPITALS", "DemoMCPServer", "build_demo_server"]

#: The answers of the ``capital`` tool (a fixed table, so tests can assert on them).
CAPITALS: dict[str, str] = {
    "france": "Paris",
    "germany": "Berlin",
    "italy": "Rome",
    "japan": "Tokyo",
    "spain": "Madrid",
}

# The ``huge`` tool refuses more than this, so a typo cannot eat the test machine's memory.
_HUGE_LIMIT_KB = 16 * 1024


def _quietly(build: Any) -> Any:
    """Run ``build()`` leaving the root logger as it was.

    ``MCPServer()`` calls ``logging.basicConfig(level="INFO")``: in a notebook kernel that would
    give every library's INFO records (uvicorn, httpx, this package) a handler in the user's cell
    output, for the rest of the session.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return build()
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def build_demo_server(name: str = "realtime-widget-demo") -> MCPServer:
    """Build the demo ``MCPServer`` with its tools registered (not served yet).

    Args:
        name: The server name it reports to clients.

    Returns:
        The ``MCPServer``; serve it with ``DemoMCPServer`` or ``streamable_http_app()``.
    """
    server = _quietly(lambda: MCPServer(name, instructions="Demo tools for realtime_widget tests."))

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two integers and return the sum.

        Args:
            a: The first addend.
            b: The second addend.
        """
        return a + b

    @server.tool()
    def capital(country: str) -> str:
        """Return the capital city of a country.

        Args:
            country: The country's English name, e.g. "France".
        """
        found = CAPITALS.get(country.strip().lower())
        if found is None:
            return f"I do not know the capital of {country}."
        return found

    @server.tool()
    async def slow(seconds: float) -> str:
        """Wait for a number of seconds, then say how long it waited.

        Args:
            seconds: How long to wait (at most 600).
        """
        await asyncio.sleep(max(0.0, min(float(seconds), 600.0)))
        return f"waited {seconds} seconds"

    @server.tool()
    def huge(kilobytes: int) -> str:
        """Return a text of about the given size, to test result caps.

        Args:
            kilobytes: The size of the text in KiB (at most 16384).
        """
        kilobytes = max(0, min(int(kilobytes), _HUGE_LIMIT_KB))
        line = "0123456789abcdef" * 4 + "\n"  # 65 bytes
        return (line * (kilobytes * 1024 // len(line) + 1))[: kilobytes * 1024]

    @server.tool()
    def fail(message: str) -> str:
        """Always fail with the given message (to test error reporting).

        Args:
            message: The error message to raise.
        """
        # ToolError reaches the client as an is_error result with this message; any other
        # exception is withheld (a generic message) and logged with a traceback by the server.
        raise ToolError(message)

    return server


class _BearerGuard:
    """ASGI middleware that answers 401 unless the request carries the expected bearer token."""

    def __init__(self, app: Any, token: str) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            if headers.get(b"authorization") != self._expected:
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [(b"content-type", b"text/plain")],
                    }
                )
                await send({"type": "http.response.body", "body": b"missing or wrong bearer token"})
                return
        await self._app(scope, receive, send)


class DemoMCPServer:
    """The demo MCP server, served over streamable HTTP on 127.0.0.1 in a background thread.

    Use it as a context manager (``with DemoMCPServer() as url``) or call ``start()``/``stop()``.

    Args:
        port: The TCP port; 0 (the default) picks a free one.
        token: When set, every request must carry ``Authorization: Bearer <token>``.
        server: An ``MCPServer`` to serve instead of the demo one (add your own tools).
    """

    def __init__(
        self, port: int = 0, *, token: str | None = None, server: MCPServer | None = None
    ) -> None:
        self.mcp: MCPServer = server if server is not None else build_demo_server()
        self._port = port
        self._token = token
        self._uvicorn: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    @property
    def url(self) -> str:
        """The server's MCP endpoint, e.g. ``http://127.0.0.1:41234/mcp`` (after ``start()``)."""
        if self._url is None:
            raise RuntimeError("DemoMCPServer is not started: call start() or use `with`")
        return self._url

    def start(self, timeout: float = 10.0) -> str:
        """Start serving and return the endpoint URL once the server accepts connections.

        Args:
            timeout: Seconds to wait for the server to come up.

        Raises:
            RuntimeError: The server did not start in time.
        """
        if self._url is not None:
            return self._url
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self._port))
        port = sock.getsockname()[1]
        app: Any = self.mcp.streamable_http_app()
        if self._token is not None:
            app = _BearerGuard(app, self._token)
        config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none")
        self._uvicorn = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._uvicorn.run,
            kwargs={"sockets": [sock]},
            name=f"mcp-demo-{port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._uvicorn.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                sock.close()
                raise RuntimeError(f"the demo MCP server did not start on port {port}")
            time.sleep(0.01)
        self._url = f"http://127.0.0.1:{port}/mcp"
        return self._url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread to end (idempotent)."""
        if self._uvicorn is not None:
            self._uvicorn.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        self._uvicorn = None
        self._thread = None
        self._url = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"DemoMCPServer(url={self._url!r})"
