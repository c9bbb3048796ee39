"""A webhook receiver on 127.0.0.1 (stdlib only): records every request with its raw body.

OPTIONS and POST answer 200, GET answers 404 (so its URLs double as media URLs that cannot be fetched).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes
    t: float


@dataclass
class Receiver:
    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)

    def requests(self, method: str | None = None, path: str | None = None) -> list[Hit]:
        with self.lock:
            return [h for h in self.hits if (method is None or h.method == method) and (path is None or h.path == path)]

    def wait(self, done: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
        """Wait until `done()` is true or the timeout passes; return whether it became true."""
        deadline = time.monotonic() + timeout
        while True:
            if done():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(interval)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _record(self, status: int) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            receiver.record(Hit(self.command, self.path, headers, body, time.monotonic()))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_OPTIONS(self) -> None:
            self._record(200)

        def do_POST(self) -> None:
            self._record(200)

        def do_GET(self) -> None:
            self._record(404)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def receiver() -> Iterator[Receiver]:
    """Serve a Receiver on 127.0.0.1 on a free port for the duration of the block."""
    rec = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rec))
    server.daemon_threads = True
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


def closed_port_url(path: str = "/hook") -> str:
    """An http URL on 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
