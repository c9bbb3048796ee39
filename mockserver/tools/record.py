"""`avatar-emulator record --upstream URL --out DIR`: a proxy that records every exchange as a cassette.

Point a client at the proxy instead of the real API. Each request is forwarded to the upstream
and its response streamed back unchanged as it arrives (fMP4 included); once the response is
complete the exchange is written to DIR, redacted (see `mockserver.http.cassettes`). Streams
keep their chunk timing. Media links found in responses (`video_url`: HeyGen's signed CloudFront
links) are downloaded once each and recorded too, so replay and drift have the media offline.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import re
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..http import cassettes
from ..http.cassettes import HOP_BY_HOP, CassetteDir, Exchange, Link, Redactor, mark_signed, strip_signed, walk_json

log = logging.getLogger("avatar_emulator.record")

FOLLOW_KEYS = frozenset({"video_url"})
"""JSON keys whose URL values the recorder downloads (once per link, signature aside)."""
COALESCE_S = 0.005
"""Reads of a stream closer together than this are recorded as one chunk."""
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
NOT_FORWARDED = frozenset({"host", "content-length", "accept-encoding", *HOP_BY_HOP})


class Recorder:
    """The recording proxy: `Recorder(upstream, out).app()` is an ASGI app."""

    def __init__(self, upstream: str, out: Path, *, redact: Sequence[str] = (), follow_links: bool = True) -> None:
        self.upstream = upstream.rstrip("/")
        self.folder = CassetteDir(out)
        self.redactor = Redactor(redact)
        self.follow_links = follow_links
        parts = urlsplit(self.upstream)  # user:password@ in the upstream URL is not kept either
        netloc = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        self.folder.create(upstream=parts._replace(netloc=netloc).geturl(), redact=redact)
        self._seq = itertools.count(self.folder.next_seq())
        self._followed: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=10.0))
        return self._client

    def app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            try:
                yield
            finally:
                await self.close()

        return Starlette(routes=[Route("/{path:path}", self.forward, methods=METHODS)], lifespan=lifespan)

    async def close(self) -> None:
        """Finish the media downloads under way, then close the upstream connections."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def forward(self, request: Request) -> Response:
        seq = next(self._seq)
        body = await request.body()
        url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in NOT_FORWARDED]
        outgoing = self.client.build_request(request.method, self.upstream + url,
                                             headers=[*headers, ("accept-encoding", "identity")], content=body)
        try:
            upstream = await self.client.send(outgoing, stream=True)
        except httpx.HTTPError as exc:
            message = f"The recorder could not reach the upstream {self.upstream}: {type(exc).__name__}: {exc}"
            return JSONResponse({"error": {"message": message, "type": "upstream_unreachable"}}, status_code=502)
        response_headers = [(k, v) for k, v in upstream.headers.multi_items() if k.lower() not in HOP_BY_HOP]
        if "content-encoding" in upstream.headers:  # the body is passed on decoded
            response_headers = [(k, v) for k, v in response_headers if k.lower() not in ("content-encoding",
                                                                                          "content-length")]
        exchange = Exchange(
            seq,
            cassettes.Request(headers=headers, body=body, method=request.method, url=url),
            cassettes.Response(headers=response_headers, status=upstream.status_code),
        )
        streamed = "content-length" not in upstream.headers
        relay = self._relay(upstream, exchange, streamed=streamed)
        relayed = StreamingResponse(relay, status_code=upstream.status_code)
        relayed.raw_headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in response_headers]
        return relayed

    async def _relay(self, upstream: httpx.Response, exchange: Exchange, *, streamed: bool) -> AsyncIterator[bytes]:
        loop = asyncio.get_running_loop()
        started = loop.time()
        chunks: list[tuple[float, int]] = []
        parts: list[bytes] = []
        complete = False
        try:
            async for chunk in upstream.aiter_bytes():
                at = loop.time() - started
                if chunks and at - chunks[-1][0] < COALESCE_S:
                    chunks[-1] = (chunks[-1][0], chunks[-1][1] + len(chunk))
                else:
                    chunks.append((at, len(chunk)))
                parts.append(chunk)
                yield chunk
            complete = True
        finally:
            await upstream.aclose()
            exchange.response.body = b"".join(parts)
            exchange.response.chunks = chunks if streamed else None
            exchange.response.complete = complete
            self.save(exchange)

    def save(self, exchange: Exchange) -> None:
        mark_signed(exchange)
        path = self.folder.write(exchange, self.redactor)
        log.info("recorded %s -> %s", exchange.label, path.name)
        if self.follow_links and exchange.link is None:
            for where, value in walk_json(exchange.response.json()):
                if where.rsplit(".", 1)[-1] in FOLLOW_KEYS and isinstance(value, str) and value.startswith("http"):
                    self._follow(exchange.seq, where, value)

    def _follow(self, source: int, where: str, url: str) -> None:
        key = strip_signed(url)
        if key in self._followed:
            return
        self._followed.add(key)
        task = asyncio.get_running_loop().create_task(self._download(source, where, url))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _download(self, source: int, where: str, url: str) -> None:
        try:
            response = await self.client.get(url, headers={"accept-encoding": "identity"})
        except httpx.HTTPError as exc:
            log.warning("could not download the link at %s of exchange %d: %s", where, source, exc)
            return
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in HOP_BY_HOP]
        self.save(Exchange(
            next(self._seq),
            cassettes.Request(headers=[], method="GET", url=url),
            cassettes.Response(headers=headers, body=response.content, status=response.status_code),
            link=Link(source, where),
        ))  # fmt: skip


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="avatar-emulator record", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    p.add_argument("--upstream", help="base URL of the API to record, e.g. https://api.heygen.com (required)")
    p.add_argument("--out", type=Path, help="cassette directory (created; recording into it again appends)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--redact", action="append", default=[], metavar="REGEX",
                   help="also remove this pattern from URLs, headers and bodies (repeatable)")  # fmt: skip
    p.add_argument("--no-follow-links", action="store_true", help="do not download media links (video_url)")
    p.add_argument("--log-level", default="info")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if not args.upstream:
        print("avatar-emulator record: refusing to start without --upstream: the recorder only forwards, it never "
              "answers by itself. Give the API to record, e.g. --upstream https://api.boson.ai", file=sys.stderr)
        return 2
    if urlsplit(args.upstream).scheme not in ("http", "https") or not urlsplit(args.upstream).netloc:
        print(f"avatar-emulator record: --upstream must be an http(s) URL, not {args.upstream!r}", file=sys.stderr)
        return 2
    if args.out is None:
        print("avatar-emulator record: --out DIR is required (where the cassettes go)", file=sys.stderr)
        return 2
    for pattern in args.redact:
        try:
            re.compile(pattern)
        except re.error as exc:
            print(f"avatar-emulator record: --redact {pattern!r} is not a regular expression: {exc}", file=sys.stderr)
            return 2
    import uvicorn

    logging.basicConfig(level=args.log_level.upper(), format="%(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # the recorder logs each exchange itself
    recorder = Recorder(args.upstream, args.out, redact=args.redact, follow_links=not args.no_follow_links)
    print(f"avatar-emulator record: http://{args.host}:{args.port} -> {args.upstream}; cassettes in {args.out}",
          flush=True)  # fmt: skip
    config: Any = uvicorn.Config(recorder.app(), host=args.host, port=args.port, log_level="warning",
                                 access_log=False, server_header=False, date_header=False)  # fmt: skip
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
