"""The worker's health, readiness and own metrics over HTTP, for orchestrators and Prometheus.

``/healthz``: the process answers. ``/healthz/mail``: 200 while the SMTP relay takes messages, 503
after an attempt on it failed (a relay or configuration fault: deliveries wait; see README,
Guarantees). ``/readyz``: 200 while the worker polls its task queue, 503
before it starts and once it is draining after SIGTERM. ``/metrics``: Mentorflow's counters
(``activities/metrics.py``). A stdlib server on a thread: three fixed answers need no framework.
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from activities import metrics


class Health:
    def __init__(self, port: int, host: str = "0.0.0.0"):
        self.ready = False
        health = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/healthz":
                    self._answer(200, b"ok\n", "text/plain")
                elif self.path == "/healthz/mail":
                    failing = metrics.relay_failing()
                    self._answer(
                        503 if failing else 200, b"smtp relay failing\n" if failing else b"ok\n"
                    )
                elif self.path == "/readyz":
                    ok = health.ready
                    self._answer(200 if ok else 503, b"ready\n" if ok else b"not ready\n")
                elif self.path == "/metrics":
                    self._answer(200, generate_latest(), CONTENT_TYPE_LATEST)
                else:
                    self._answer(404, b"not found\n")

            def _answer(self, code: int, body: bytes, kind: str = "text/plain") -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # probes every few seconds are not news

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "Health":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
