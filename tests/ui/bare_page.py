"""A bare page (no Jupyter) served from 127.0.0.1, for browser facts without JupyterLab.

``localhost`` counts as a secure context, so getUserMedia and AudioWorklet work as on HTTPS. The
latency bench serves a page that talks to the embedded server directly over a websocket, beside
the widget path; the smoke tests use it to check the fake microphone on its own.
"""

from __future__ import annotations

import http.server
import mimetypes
import threading
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parents[2] / "realtime_widget" / "static"
"""The bundled front-end, served under ``/static/`` so a bare page can import its modules."""


class BarePageServer:
    """Serve in-memory pages (``/name`` -> HTML) and the bundled front-end on a free port.

    Use as a context manager; ``url(name)`` gives the address of a page added with ``add``.
    """

    def __init__(self) -> None:
        self._pages: dict[str, bytes] = {}
        pages = self._pages

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path.startswith("/static/"):
                    file = (STATIC_DIR / path[len("/static/") :]).resolve()
                    if STATIC_DIR in file.parents and file.is_file():
                        ctype = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                        return self._send(200, file.read_bytes(), ctype)
                    return self._send(404, b"not found", "text/plain")
                body = pages.get(path)
                if body is None:
                    return self._send(404, b"not found", "text/plain")
                return self._send(200, body, "text/html; charset=utf-8")

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass  # keep pytest output for failures

        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def add(self, name: str, html: str) -> str:
        """Serve ``html`` at ``/name`` and return its full URL."""
        self._pages["/" + name.lstrip("/")] = html.encode()
        return self.url(name)

    def url(self, name: str) -> str:
        """Full URL of page ``name``."""
        return f"{self.base_url}/{name.lstrip('/')}"

    def __enter__(self) -> BarePageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
