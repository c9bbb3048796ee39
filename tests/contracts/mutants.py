"""Deliberately broken Boson servers: the emulator wrapped in ASGI middleware that breaks one clause each."""

from __future__ import annotations

import io
import json
import re
import struct
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import av
import numpy as np

from mockserver.http.replay import replaying_receive

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]
Rewrite = Callable[[Scope, int, list[tuple[bytes, bytes]], bytes], tuple[int, list[tuple[bytes, bytes]], bytes]]


class Buffered:
    """Buffers responses of matching requests and lets `rewrite(scope, status, headers, body)` change them."""

    def __init__(self, app: App, match: Callable[[Scope], bool], rewrite: Rewrite) -> None:
        self.app, self.match, self.rewrite = app, match, rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.match(scope):
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    body = b"".join(chunks)
                    status, headers, body = self.rewrite(scope, start["status"], list(start["headers"]), body)
                    headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                    headers.append((b"content-length", str(len(body)).encode()))
                    await send({"type": "http.response.start", "status": status, "headers": headers})
                    await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, capture)


class RequestRewrite:
    """Changes the request (headers, query, JSON body) before the emulator sees it."""

    def __init__(self, app: App, change: Callable[[Scope, bytes], tuple[Scope, bytes]]) -> None:
        self.app, self.change = app, change

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        scope, body = self.change(dict(scope), body)
        await self.app(scope, replaying_receive(body, receive), send)


def path_is(pattern: str, method: str | None = None) -> Callable[[Scope], bool]:
    rx = re.compile(pattern)
    return lambda scope: rx.fullmatch(scope["path"]) is not None and (method is None or scope["method"] == method)


def json_rewrite(fn: Callable[[Scope, int, Any], tuple[int, Any]]) -> Rewrite:
    def rewrite(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
        try:
            data = json.loads(body)
        except ValueError:
            return status, headers, body
        status, data = fn(scope, status, data)
        return status, headers, json.dumps(data).encode()

    return rewrite


# ----- media helpers ---------------------------------------------------------------------------------------


def reencode(data: bytes, *, freeze: bool = False) -> bytes:
    """Re-encode an MP4; freeze=True repeats the first frame for the whole clip (audio kept)."""
    src = av.open(io.BytesIO(data))
    vin, ain = src.streams.video[0], src.streams.audio[0]
    with tempfile.NamedTemporaryFile(suffix=".mp4") as tmp:
        out = av.open(tmp.name, "w", options={"movflags": "faststart"})
        vout = out.add_stream("libx264", rate=vin.codec_context.framerate or 25)
        vout.width, vout.height, vout.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        aout = out.add_stream("aac", rate=ain.codec_context.sample_rate)
        first: np.ndarray | None = None
        for frame in src.decode(vin):
            img = frame.to_ndarray(format="rgb24")
            first = img if first is None else first
            new = av.VideoFrame.from_ndarray(first if freeze else img, format="rgb24")
            for packet in vout.encode(new):
                out.mux(packet)
        for packet in vout.encode():
            out.mux(packet)
        src.seek(0)
        for frame in src.decode(ain):
            frame.pts = None
            for packet in aout.encode(frame):
                out.mux(packet)
        for packet in aout.encode():
            out.mux(packet)
        out.close()
        src.close()
        with open(tmp.name, "rb") as f:
            return f.read()


def silent_wav(seconds: float = 2.6, rate: int = 24000) -> bytes:
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x00\x00" * int(seconds * rate))
    return buf.getvalue()


def boxes(data: bytes) -> list[tuple[bytes, int, int]]:
    out, pos = [], 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size < 8:
            break
        out.append((kind, pos, size))
        pos += size
    return out


@dataclass(frozen=True)
class Mutant:
    name: str
    clause: str
    """The clause this mutant breaks; the suite must report it FAIL."""
    wrap: Callable[[App], App]
    provider: str = "boson"
    """The --provider the suite judges this mutant with."""


def _progress_backwards(app: App) -> App:
    reads: dict[str, int] = {}

    def fn(scope: Scope, status: int, data: Any) -> tuple[int, Any]:
        vid = scope["path"].rsplit("/", 1)[-1]
        reads[vid] = reads.get(vid, 0) + 1
        if status == 200 and isinstance(data, dict) and reads[vid] <= 2:
            data.update(status="in_progress", progress=80 if reads[vid] == 1 else 40)
        return status, data

    return Buffered(app, path_is(r"/v1/videos/video_[0-9a-f]+", "GET"), json_rewrite(fn))


def _terminal_unstable(app: App) -> App:
    seen: dict[str, int] = {}

    def fn(scope: Scope, status: int, data: Any) -> tuple[int, Any]:
        if isinstance(data, dict) and data.get("status") == "completed":
            vid = data["id"]
            seen[vid] = seen.get(vid, 0) + 1
            if seen[vid] % 2 == 0:
                data.update(status="failed", error="render crashed")
        return status, data

    return Buffered(app, path_is(r"/v1/videos/video_[0-9a-f]+", "GET"), json_rewrite(fn))


def _error_not_null(app: App) -> App:
    def fn(scope: Scope, status: int, data: Any) -> tuple[int, Any]:
        if isinstance(data, dict) and data.get("status") in ("queued", "in_progress", "completed"):
            data["error"] = "internal warning"
        return status, data

    return Buffered(app, path_is(r"/v1/videos/video_[0-9a-f]+", "GET"), json_rewrite(fn))


def _strip_header(name: bytes, pattern: str, status: int | None = None) -> Callable[[App], App]:
    def wrap(app: App) -> App:
        async def mw(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not path_is(pattern)(scope):
                await app(scope, receive, send)
                return

            async def strip(message: Message) -> None:
                if message["type"] == "http.response.start" and (status is None or message["status"] == status):
                    message = {**message, "headers": [(k, v) for k, v in message["headers"] if k.lower() != name]}
                await send(message)

            await app(scope, receive, strip)

        return mw

    return wrap


def _reorder_moov(app: App) -> App:
    def rw(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
        parts = {kind: body[pos : pos + size] for kind, pos, size in boxes(body)[:4]}
        if status != 200 or b"moov" not in parts:
            return status, headers, body
        bx = boxes(body)
        ftyp, moov, moof, mdat = (body[p : p + s] for _, p, s in bx[:4])
        rest = body[bx[3][1] + bx[3][2] :]
        return status, headers, ftyp + moof + mdat + moov + rest

    return Buffered(app, path_is("/v1/videos/stream", "POST"), rw)


def _repeat_sequence(app: App) -> App:
    def rw(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
        data = bytearray(body)
        for kind, pos, _ in boxes(body):
            if kind == b"moof":
                # moof header (8) + mfhd header (8) + version/flags (4) -> sequence number
                data[pos + 20 : pos + 24] = struct.pack(">I", 1)
        return status, headers, bytes(data)

    return Buffered(app, path_is("/v1/videos/stream", "POST"), rw)


def _wrong_envelope(app: App) -> App:
    def fn(scope: Scope, status: int, data: Any) -> tuple[int, Any]:
        if status >= 400 and isinstance(data, dict) and isinstance(data.get("error"), dict):
            return status, {"detail": data["error"].get("message")}
        return status, data

    return Buffered(app, lambda s: True, json_rewrite(fn))


def change_json_request(
    paths: tuple[str, ...],
    change: Callable[[dict[str, Any]], None],
    *,
    when: Callable[[dict[str, Any]], bool] = lambda data: True,
) -> Callable[[App], App]:
    """A mutant that rewrites the JSON body of POSTs to `paths` before the emulator reads it."""

    def wrap(app: App) -> App:
        def rw(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
            if scope["method"] != "POST" or scope["path"] not in paths:
                return scope, body
            try:
                data = json.loads(body)
            except ValueError:
                return scope, body
            if isinstance(data, dict) and when(data):
                change(data)
                body = json.dumps(data).encode()
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k != b"content-length"] + [
                    (b"content-length", str(len(body)).encode())
                ]
            return scope, body

        return RequestRewrite(app, rw)

    return wrap


def _change_json_request(change: Callable[[dict[str, Any]], None]) -> Callable[[App], App]:
    return change_json_request(("/v1/videos", "/v1/videos/stream"), change, when=lambda data: "input" in data)


def _wrong_size(data: dict[str, Any]) -> None:
    if data.get("size") == "640x480":
        data["size"] = "480x640"


def _silence(data: dict[str, Any]) -> None:
    import base64

    data["input"] = base64.b64encode(silent_wav()).decode()


def _freeze(app: App) -> App:
    def rw(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
        if status != 200:
            return status, headers, body
        return status, headers, reencode(body, freeze=True)

    return Buffered(app, path_is(r"/v1/videos/video_[0-9a-f]+/content", "GET"), rw)


def _content_early(app: App) -> App:
    def rw(scope: Scope, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
        if status == 404:
            return 200, [(b"content-type", b"video/mp4")], b"\x00\x00\x00\x08free"
        return status, headers, body

    return Buffered(app, path_is(r"/v1/videos/video_[0-9a-f]+/content", "GET"), rw)


def _drop_request_header(name: bytes, pattern: str) -> Callable[[App], App]:
    def wrap(app: App) -> App:
        def rw(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
            if path_is(pattern)(scope):
                scope["headers"] = [(k, v) for k, v in scope["headers"] if k.lower() != name]
                scope["query_string"] = b""
            return scope, body

        return RequestRewrite(app, rw)

    return wrap


def _accept_missing_key(app: App) -> App:
    def rw(scope: Scope, body: bytes) -> tuple[Scope, bytes]:
        if not any(k.lower() == b"authorization" for k, _ in scope["headers"]):
            scope["headers"] = [*scope["headers"], (b"authorization", b"Bearer ct-key")]
        return scope, body

    return RequestRewrite(app, rw)


def _unknown_is_200(app: App) -> App:
    def fn(scope: Scope, status: int, data: Any) -> tuple[int, Any]:
        if status == 404:
            return 200, {"id": scope["path"].rsplit("/", 1)[-1], "object": "video", "status": "queued"}
        return status, data

    return Buffered(app, path_is(r"/v1/videos/[^/]+", "GET"), json_rewrite(fn))


def _server_error_on_400(app: App) -> App:
    def fn(scope: Scope, status: int, data: Any) -> tuple[int, Any]:
        return (500 if status == 400 else status), data

    return Buffered(app, path_is("/v1/audio/speech", "POST"), json_rewrite(fn))


MUTANTS: list[Mutant] = [
    Mutant("progress-backwards", "BOSON-VIDEO-PROGRESS-MONOTONE", _progress_backwards),
    Mutant("terminal-flips-to-failed", "BOSON-VIDEO-TERMINAL-STABLE", _terminal_unstable),
    Mutant("error-set-while-ok", "BOSON-VIDEO-ERROR-NULL-UNLESS-FAILED", _error_not_null),
    Mutant("x-video-id-missing", "BOSON-STREAM-VIDEO-ID", _strip_header(b"x-video-id", "/v1/videos/stream")),
    Mutant("moov-after-moof", "BOSON-STREAM-BOX-ORDER", _reorder_moov),
    Mutant("fragment-sequence-repeats", "BOSON-STREAM-FRAGMENT-SEQUENCE", _repeat_sequence),
    Mutant("wrong-error-envelope", "BOSON-ERROR-ENVELOPE", _wrong_envelope),
    Mutant("wrong-size", "BOSON-MEDIA-SIZE", _change_json_request(_wrong_size)),
    Mutant("silent-audio", "BOSON-MEDIA-AUDIO-FAITHFUL", _change_json_request(_silence)),
    Mutant("frozen-mouth", "BOSON-MEDIA-LIPSYNC", _freeze),
    Mutant("429-without-retry-after", "BOSON-CAPACITY-429", _strip_header(b"retry-after", "/v1/videos", 429)),
    Mutant("content-before-completed", "BOSON-CONTENT-404-UNTIL-COMPLETED", _content_early),
    Mutant("range-ignored", "BOSON-CONTENT-RANGE", _drop_request_header(b"range", r"/v1/videos/[^/]+/content")),
    Mutant("missing-key-accepted", "BOSON-AUTH-MISSING-KEY-401", _accept_missing_key),
    Mutant("unknown-video-200", "BOSON-ERROR-UNKNOWN-VIDEO-404", _unknown_is_200),
    Mutant("speech-400-becomes-500", "BOSON-SCHEMA-NO-5XX", _server_error_on_400),
]
