"""A partner's webhook receiver: a small real HTTP server on 127.0.0.1 that can be told to fail."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: str


@dataclass
class Receiver:
    """Answers the n-th request by ``script[n]`` ("500", "hang" or "200"), then "200"."""

    url: str
    script: list[str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    hang_seconds: float = 1.5


@contextmanager
def running_receiver(script: list[str] | None = None) -> Iterator[Receiver]:
    lock = threading.Lock()
    receiver = Receiver(url="", script=list(script or []))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                index = len(receiver.received)
                answer = receiver.script[index] if index < len(receiver.script) else "200"
                receiver.received.append(Received(dict(self.headers.items()), body, answer))
            if answer == "hang":
                time.sleep(receiver.hang_seconds)
            status = 500 if answer == "500" else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/schakel"
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
