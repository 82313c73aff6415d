"""A threaded HTTP server on loopback, started and stopped in one place (gateway and emulators)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class LoopbackServer:
    def __init__(self, name: str) -> None:
        self.name = name
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, f"{self.name} not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(
        self, handler: type[BaseHTTPRequestHandler], port: int = 0, host: str = "127.0.0.1", **handler_attrs: Any
    ) -> str:
        """Serve with a subclass of `handler` carrying `handler_attrs` (its link back to the owner)."""
        bound = type(f"{self.name}Handler", (handler,), handler_attrs)
        self._server = ThreadingHTTPServer((host, port), bound)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name=self.name, daemon=True)
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
