"""The suite's webhook receiver (stdlib only): records every request with its raw body and answers by path.

The first path segment picks the behaviour, so one receiver plays every kind of endpoint:

- `/silent/...`: OPTIONS is held unanswered for up to 3 s (a URL that does not answer within 1 s);
- `/flaky/...`: the first POST of each event (same path and body) answers 503, later ones 200;
- `/slow/...`: the first POST of each event is held until the sender gives up (disconnects), at most 30 s;
- anything else: OPTIONS and POST answer 200, GET 404 (so its URLs double as media that cannot be fetched).

It listens on 127.0.0.1 by default. A remote target reaches it through `--callback-base-url`, a public URL
forwarded to the address given by `--callback-listen`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SILENT_HOLD_S = 3.0
SLOW_HOLD_CAP_S = 30.0


def parse_listen(value: str) -> tuple[str, int]:
    """'HOST:PORT' (PORT 0: any free port) -> (host, port)."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


@dataclass(frozen=True)
class ReceiverConfig:
    """Where the receiver listens, and the base URL the target is given (defaults to the listening address)."""

    host: str = "127.0.0.1"
    port: int = 0
    public_base_url: str | None = None

    def unreachable_reason(self, target_loopback: bool, target_host: str) -> str | None:
        """Why the target cannot reach the receiver (then webhook clauses are NA), or None."""
        if self.public_base_url or target_loopback:
            return None
        return (
            f"the webhook receiver listens on {self.host} (loopback), which {target_host} cannot reach; "
            "pass --callback-base-url with a public URL forwarded to --callback-listen"
        )


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes
    t: float
    """time.monotonic() when the request had been read."""
    status: int | None = None
    """What the receiver answered; None when the sender gave up first."""
    held_s: float = 0.0
    """How long the receiver held the request before answering (or before the sender gave up)."""


@dataclass
class Receiver:
    url: str = ""
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _seen: set[tuple[str, str]] = field(default_factory=set)

    def record(self, hit: Hit) -> None:
        with self.lock:
            self.hits.append(hit)

    def first_time(self, path: str, body: bytes) -> bool:
        """True the first time this event (path and body) arrives."""
        key = (path, hashlib.sha256(body).hexdigest())
        with self.lock:
            if key in self._seen:
                return False
            self._seen.add(key)
            return True

    def requests(self, method: str | None = None, path: str | None = None) -> list[Hit]:
        """The hits in the order they arrived (a held request is recorded only once it ends, so a
        sender's retry may be recorded before it)."""
        with self.lock:
            hits = [h for h in self.hits if (method is None or h.method == method) and (path is None or h.path == path)]
        return sorted(hits, key=lambda hit: hit.t)

    def wait(self, done: Callable[[], bool], timeout: float, interval: float = 0.05) -> bool:
        """Wait until `done()` is true or the timeout passes; return whether it became true."""
        deadline = time.monotonic() + timeout
        while True:
            if done():
                return True
            if time.monotonic() > deadline:
                return False
            time.sleep(interval)


def _peer_gone(conn: socket.socket, seconds: float) -> bool:
    """Wait up to `seconds`; True as soon as the peer closes the connection."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        readable, _, _ = select.select([conn], [], [], min(left, 0.05))
        if readable:
            try:
                if conn.recv(1, socket.MSG_PEEK) == b"":
                    return True
            except OSError:
                return True
            time.sleep(0.05)  # pipelined bytes: not a close
    return False


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            t = time.monotonic()
            headers = {k.lower(): v for k, v in self.headers.items()}
            kind = self.path.lstrip("/").split("/", 1)[0]
            status, hold = self._plan(kind, body)
            gone = _peer_gone(self.connection, hold) if hold else False
            held = time.monotonic() - t
            receiver.record(Hit(self.command, self.path, headers, body, t, None if gone else status, held))
            if gone:
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def _plan(self, kind: str, body: bytes) -> tuple[int, float]:
            """(status to answer, seconds to hold the request first)."""
            if self.command == "GET":
                return 404, 0.0
            if self.command == "OPTIONS":
                return 200, SILENT_HOLD_S if kind == "silent" else 0.0
            if kind == "flaky" and receiver.first_time(self.path, body):
                return 503, 0.0
            if kind == "slow" and receiver.first_time(self.path, body):
                return 200, SLOW_HOLD_CAP_S
            return 200, 0.0

        do_OPTIONS = do_POST = do_GET = _serve

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def receiver(config: ReceiverConfig | None = None) -> Iterator[Receiver]:
    """Serve a Receiver for the duration of the block; its `url` is what the target should be given."""
    config = config or ReceiverConfig()
    rec = Receiver()
    server = ThreadingHTTPServer((config.host, config.port), _handler(rec))
    server.daemon_threads = True
    port = server.server_address[1]
    shown = "127.0.0.1" if _unspecified(config.host) else config.host
    rec.url = (config.public_base_url or f"http://{shown}:{port}").rstrip("/")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()


def _unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


def closed_port_url(path: str = "/hook") -> str:
    """An http URL on 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
