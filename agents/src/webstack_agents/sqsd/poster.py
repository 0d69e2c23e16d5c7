"""Persistent (keep-alive) HTTP connections to the local application, with connect and inactivity timeouts."""

from __future__ import annotations

import http.client
import socket
from dataclasses import dataclass

_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class PostError(Exception):
    """The POST did not produce an HTTP status: kind is 'connect', 'connect_timeout', 'timeout', 'io' or 'invalid'."""

    def __init__(self, kind: str, detail: str):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


class _Connection(http.client.HTTPConnection):
    """HTTPConnection whose connect uses ConnectTimeout and whose reads use InactivityTimeout."""

    def __init__(self, host: str, port: int, connect_timeout: float, inactivity_timeout: float):
        super().__init__(host, port, timeout=connect_timeout)
        self.inactivity_timeout = inactivity_timeout
        self.requests = 0

    def connect(self):
        try:
            self.sock = socket.create_connection((self.host, self.port), self.timeout)
        except TimeoutError as exc:
            raise PostError("connect_timeout", str(exc) or "timed out") from None
        except OSError as exc:
            raise PostError("connect", str(exc)) from None
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.settimeout(self.inactivity_timeout)


@dataclass
class Response:
    status: int
    reused: bool


class AppClient:
    """One persistent connection to the application; used by one worker thread at a time."""

    def __init__(self, host: str, port: int, connect_timeout: float, inactivity_timeout: float):
        self.host = host
        self.port = port
        self.connect_timeout = connect_timeout
        self.inactivity_timeout = inactivity_timeout
        self._conn: _Connection | None = None

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> _Connection:
        if self._conn is None:
            self._conn = _Connection(self.host, self.port, self.connect_timeout, self.inactivity_timeout)
        return self._conn

    def request(self, method: str, path: str, body: bytes, headers: list[tuple[str, bytes]]) -> Response:
        """Send one request and read the whole answer. A reused connection the server had closed is retried once
        on a fresh one (the application never saw the first attempt)."""
        for attempt in (1, 2):
            conn = self._connection()
            reused = conn.requests > 0
            try:
                status = self._send(conn, method, path, body, headers)
            except PostError:
                self.close()
                raise
            except _STALE as exc:
                self.close()
                if reused and attempt == 1:
                    continue
                raise PostError("io", f"{type(exc).__name__}: {exc}") from None
            except TimeoutError:
                self.close()
                raise PostError("timeout", f"no answer within InactivityTimeout {self.inactivity_timeout:g}s") from None
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise PostError("io", f"{type(exc).__name__}: {exc}") from None
            except ValueError as exc:
                # http.client refused the request itself (an invalid header or path): the half-written request
                # is dropped with its connection, so the next message starts on a clean one.
                self.close()
                raise PostError("invalid", f"{type(exc).__name__}: {exc}") from None
            return Response(status=status, reused=reused)
        raise PostError("io", "connection closed twice")  # pragma: no cover - loop always returns or raises

    def _send(self, conn: _Connection, method: str, path: str, body: bytes, headers) -> int:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        conn.requests += 1
        response = conn.getresponse()
        response.read()
        if response.will_close:
            self.close()
        return response.status

    def get(self, path: str) -> int:
        return self.request("GET", path, b"", [("User-Agent", b"aws-sqsd-health")]).status
