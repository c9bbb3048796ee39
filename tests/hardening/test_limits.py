"""Limits hold while a body is read: oversized bodies are refused early and memory stays bounded.

RSS is measured on a server subprocess (/proc/PID/status), never on the test process.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from mockserver.http.bodies import MAX_BODY_BYTES

from .helpers import HOST, KEY, ServerProcess, running

MB = 1024 * 1024


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    with running() as proc, proc.client() as client:
        # warm up: import the decoders and parsers once, so idle RSS is idle
        client.post("/v1/videos", json={"ref_image": "data:image/png;base64,AAAA", "input": "AAAA"})
        client.post("/v1/videos", files={"ref_image": ("a.png", b"x")}, data={"input": "AAAA"})
        yield proc


def _raw_request(port: int, head: str, body_chunks: Iterator[bytes]) -> tuple[int, bytes, int]:
    """Send a request over a raw socket, stop writing when the server answers or closes.

    Returns (status, response bytes, body bytes actually written).
    """
    sock = socket.create_connection((HOST, port), timeout=30)
    written = 0
    try:
        sock.sendall(head.encode())
        sock.setblocking(False)
        response = b""
        for chunk in body_chunks:
            with contextlib.suppress(BlockingIOError):
                response += sock.recv(65536)
            if response:
                break
            try:
                sock.setblocking(True)
                sock.sendall(chunk)
                sock.setblocking(False)
                written += len(chunk)
            except OSError:  # the server answered and closed: that is the point
                break
        sock.setblocking(True)
        sock.settimeout(30)
        while not _complete(response):
            try:
                data = sock.recv(65536)
            except OSError:
                break
            if not data:
                break
            response += data
    finally:
        sock.close()
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1") else 0
    return status, response, written


def _complete(response: bytes) -> bool:
    head, sep, body = response.partition(b"\r\n\r\n")
    if not sep:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return True


def _chunked(total: int, piece: bytes) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
        sent += len(piece)
    yield b"0\r\n\r\n"


def _head(path: str, content_type: str, length: int | None = None) -> str:
    framing = f"Content-Length: {length}" if length is not None else "Transfer-Encoding: chunked"
    return (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: {KEY['Authorization']}\r\n"
            f"Content-Type: {content_type}\r\n{framing}\r\n\r\n")


class PeakRss:
    """The highest VmRSS of a process while the block runs (sampled every 2 ms, plus VmHWM if resettable)."""

    def __init__(self, server: ServerProcess) -> None:
        self.server = server
        self.peak_kb = 0
        self._stop = threading.Event()

    def __enter__(self) -> PeakRss:
        try:
            self.server.reset_peak()
            self.hwm = True
        except OSError:
            self.hwm = False
        self.idle_kb = self.server.status_kb("VmRSS")
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self.server.status_kb("VmRSS"))
            time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.2)
        self._stop.set()
        self._thread.join()
        if self.hwm:
            self.peak_kb = max(self.peak_kb, self.server.status_kb("VmHWM"))

    @property
    def growth_mb(self) -> float:
        return (self.peak_kb - self.idle_kb) / 1024


def test_declared_1gb_body_is_refused_before_reading(server: ServerProcess) -> None:
    head = _head("/v1/videos", "application/json", length=2**30)
    status, response, written = _raw_request(server.port, head, iter([b"{" + b" " * 65535] * 16384))
    assert status == 413, response[:300]
    assert b'"type":"invalid_request_error"' in response and b"larger than 32 MB" in response
    assert written < 64 * MB  # refused early: nowhere near the gigabyte was sent


@pytest.mark.parametrize("content_type", ["application/json", "multipart/form-data; boundary=xyz"])
def test_200mb_chunked_upload_is_cut_off_with_bounded_memory(server: ServerProcess, content_type: str) -> None:
    if content_type.startswith("multipart"):
        first = b'--xyz\r\nContent-Disposition: form-data; name="ref_image"; filename="a.png"\r\n\r\n'
    else:
        first = b'{"ref_image": "'
    pieces = _chunked(200 * MB, b"A" * (256 * 1024))
    with PeakRss(server) as rss:
        status, response, written = _raw_request(
            server.port, _head("/v1/videos", content_type), iter([f"{len(first):x}\r\n".encode() + first + b"\r\n",
                                                                  *pieces])
        )
    print(f"\n200 MB {content_type.split(';')[0]} upload: {status}, {written / MB:.0f} MB written before the refusal, "
          f"RSS idle {rss.idle_kb / 1024:.0f} MB, peak +{rss.growth_mb:.0f} MB")
    assert status == 413, response[:300]
    assert b"larger than 32 MB" in response
    assert written <= MAX_BODY_BYTES + 16 * MB
    assert rss.growth_mb < 100


def test_one_huge_multipart_text_field_is_refused(server: ServerProcess) -> None:
    body = b'--xyz\r\nContent-Disposition: form-data; name="input"\r\n\r\n'
    pieces = _chunked(40 * MB, b"B" * (256 * 1024))
    first = f"{len(body):x}\r\n".encode() + body + b"\r\n"
    status, response, _ = _raw_request(
        server.port, _head("/v1/videos", "multipart/form-data; boundary=xyz"), iter([first, *pieces])
    )
    assert status == 413, response[:300]
