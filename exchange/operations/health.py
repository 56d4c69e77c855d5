"""One small HTTP server for a long-running process: ``/metrics``, ``/healthz``, ``/readyz``.

``/healthz`` answers 200 while the process serves at all (alive); ``/readyz`` answers 200 when
the ``ready`` callable says the process does its job (connected, caught up), else 503 with the
reason, so that an orchestrator or a load balancer can tell the two apart. Loopback by default.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["OpsServer", "Readiness"]

Readiness = Callable[[], str | None]
"""None when ready, else why not (one line)."""


class OpsServer:
    def __init__(
        self, registry: CollectorRegistry, ready: Readiness, port: int, host: str = "127.0.0.1"
    ) -> None:
        handler = _handler(registry, ready)
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> OpsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _handler(registry: CollectorRegistry, ready: Readiness) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                self._send(200, b"ok\n")
            elif path == "/readyz":
                reason = ready()
                if reason is None:
                    self._send(200, b"ready\n")
                else:
                    self._send(503, f"not ready: {reason}\n".encode())
            else:
                self._send(404, b"not found: /metrics, /healthz, /readyz\n")

        def _send(self, status: int, body: bytes, kind: str = "text/plain; charset=utf-8") -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a scrape every few seconds is not news."""

    return Handler
