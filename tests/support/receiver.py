"""A real HTTP server on loopback that notification tests send to: it records every
request (method, path, query, headers, body) and answers as told: fail the first N
requests, hang until released, or answer a given JSON body."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    raw_query: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes
    at: float  # time.monotonic()

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """``url`` is the base URL; ``requests`` what arrived, oldest first."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.requests: list[Received] = []
        self.status = 200
        self.answer: Any = {"errcode": 0, "errmsg": "ok", "code": 0}
        self.failures_left = 0
        self.failure_status = 500
        self.hanging = False
        self._released = threading.Event()
        self._arrived = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self._released.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_first(self, count: int, status: int = 500) -> None:
        self.failures_left, self.failure_status = count, status

    def hang(self) -> None:
        """Requests from now on get no answer until ``release`` (or ``stop``)."""
        self.hanging = True
        self._released.clear()

    def release(self) -> None:
        self.hanging = False
        self._released.set()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Wait until ``count`` requests have arrived; answer them all."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.requests)} of {count} requests arrived")
                self._arrived.wait(left)
            return list(self.requests)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        parts = urlsplit(handler.path)
        received = Received(
            handler.command,
            parts.path,
            parts.query,
            parse_qs(parts.query),
            {k.lower(): v for k, v in handler.headers.items()},
            body,
            time.monotonic(),
        )
        with self._arrived:
            self.requests.append(received)
            self._arrived.notify_all()
            failing = self.failures_left > 0
            self.failures_left -= failing
        if self.hanging:
            self._released.wait(60)
        status, answer = (
            (self.failure_status, {"error": "told to fail"})
            if failing
            else (self.status, self.answer)
        )
        data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:  # the sender gave up waiting
            pass
