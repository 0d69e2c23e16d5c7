"""A local test application: records every request and answers with a programmable status and delay."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    client: tuple[str, int]
    started: float
    status: int = 0
    finished: float = 0.0
    extra: dict = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin  # no access log
        pass

    def _handle(self):
        app: TestApp = self.server.app
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        raw_headers = list(self.headers.items())
        seen = Seen(self.command, self.path, raw_headers, body, self.client_address, time.monotonic())
        app._enter(seen)
        try:
            status, delay = app.decide(seen)
            if delay:
                time.sleep(delay)
        finally:
            app._leave(seen)
        if status is None:  # drop the connection without answering
            self.close_connection = True
            return
        seen.status = status
        payload = b"ok"
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        seen.finished = time.monotonic()

    do_POST = _handle
    do_GET = _handle


class TestApp:
    """``responder(seen) -> status | (status, delay)``; default 200 at once."""

    __test__ = False

    def __init__(self, host: str = "127.0.0.1"):
        self.server = ThreadingHTTPServer((host, 0), _Handler)
        self.server.daemon_threads = True
        self.server.app = self
        self.port = self.server.server_address[1]
        self.responder = lambda seen: 200
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self.current = 0
        self.max_concurrent = 0
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self):
        self.server.shutdown()
        self.server.server_close()

    def decide(self, seen: Seen):
        answer = self.responder(seen)
        if isinstance(answer, tuple):
            return answer
        return answer, 0

    def _enter(self, seen: Seen):
        with self.lock:
            self.requests.append(seen)
            self.current += 1
            self.max_concurrent = max(self.max_concurrent, self.current)

    def _leave(self, seen: Seen):
        with self.lock:
            self.current -= 1

    def posts(self, path_prefix: str = "") -> list[Seen]:
        with self.lock:
            return [seen for seen in self.requests if seen.method == "POST" and seen.path.startswith(path_prefix)]

    def bodies_ok(self) -> list[bytes]:
        """Bodies answered 200 (a body may appear twice: at-least-once)."""
        with self.lock:
            return [seen.body for seen in self.requests if seen.method == "POST" and seen.status == 200]
