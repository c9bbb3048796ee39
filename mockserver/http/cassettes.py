"""Cassettes: recorded HTTP exchanges on disk, redacted, with their media and stream timing.

A cassette directory holds:

- `cassettes.json`: the manifest (format, upstream, the `--redact` patterns it was recorded with);
- `exchanges/NNNN-<method>-<path>.json`: one exchange per file, in the order requests arrived;
- `media/<sha256>.<ext>`: bodies that are binary or large, named by their hash.

An exchange file holds the request (method, URL, headers, body), the response (status, headers,
body) and, for streamed responses, `chunks`: `[seconds after the headers, bytes]` per chunk.
JSON bodies are kept as JSON when re-serialising them compactly gives the very same bytes, else
as text. Keys never reach the disk: `Authorization`, `X-Api-Key` (and cookies, control tokens)
are replaced by `<redacted>`, and their values, plus anything matching the `--redact` patterns,
are removed from URLs, headers and bodies. Signed URLs keep their query string; `signed_urls`
marks where they are.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from .responses import compact_json

FORMAT = 1
REDACTED = "<redacted>"
MANIFEST = "cassettes.json"
INLINE_TEXT_LIMIT = 256 * 1024
"""Text bodies larger than this go to media/ too."""

SENSITIVE_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "cookie", "set-cookie", "x-emulator-control-token"}
)
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade"}
)
SIGNED_PARAMS = frozenset(
    {
        "signature", "expires", "key-pair-id", "policy",
        "x-amz-signature", "x-amz-credential", "x-amz-date", "x-amz-expires", "x-amz-security-token",
        "x-goog-signature", "x-goog-credential", "x-goog-date", "x-goog-expires",
        "sig", "se", "st", "sp", "sv",
    }
)  # fmt: skip
"""Query parameters of signed, expiring links (CloudFront, S3, GCS, Azure SAS): noise, never matched on."""

MEDIA_EXTENSIONS = {
    "video/mp4": ".mp4", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/mpeg": ".mp3", "audio/ogg": ".ogg",
    "audio/aac": ".aac", "audio/flac": ".flac", "audio/pcm": ".pcm", "image/png": ".png", "image/jpeg": ".jpg",
    "image/gif": ".gif", "image/webp": ".webp",
}  # fmt: skip

Headers = list[tuple[str, str]]


# --------------------------------------------------------------------------- content types and URLs


def media_type(content_type: str | None) -> str:
    """`application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json_type(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return kind == "application/json" or kind.endswith("+json")


def is_text_type(content_type: str | None) -> bool:
    kind = media_type(content_type)
    return is_json_type(kind) or kind.startswith("text/") or kind in ("application/yaml", "application/xml")


def header(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    """The first value of header `name` (case-insensitive), or None."""
    name = name.lower()
    return next((value for key, value in headers if key.lower() == name), None)


def is_signed_url(url: str) -> bool:
    """Whether `url` carries a signed, expiring query string."""
    return any(key.lower() in SIGNED_PARAMS for key, _ in parse_qsl(urlsplit(url).query, keep_blank_values=True))


def strip_signed(url: str) -> str:
    """`url` without its signed-link parameters (what stays stable between two signings)."""
    parts = urlsplit(url)
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in SIGNED_PARAMS]
    return parts._replace(query=urlencode(kept)).geturl()


def parse_json(data: bytes) -> Any:
    """The JSON value of `data`; raises ValueError if it is not JSON."""
    return json.loads(data.decode("utf-8"))


# --------------------------------------------------------------------------- redaction


class Redactor:
    """Removes keys and `--redact` matches from everything that is written to a cassette.

    `learn` collects the values of the sensitive headers it sees (a Bearer token on its own too);
    those literal values are removed everywhere, binary bodies included (masked byte for byte, so
    media stays the same length). `patterns` (regular expressions) are replaced in URLs, header
    values and text bodies; a header or JSON key whose whole name matches one has its value replaced.
    """

    MIN_SECRET = 6

    def __init__(self, patterns: Sequence[str] = ()) -> None:
        self.patterns = list(patterns)
        self._compiled = [re.compile(p) for p in patterns]
        self._secrets: set[str] = set()

    def learn(self, headers: Iterable[tuple[str, str]]) -> None:
        for name, value in headers:
            if name.lower() not in SENSITIVE_HEADERS:
                continue
            for candidate in (value.strip(), value.strip().partition(" ")[2].strip()):
                if len(candidate) >= self.MIN_SECRET:
                    self._secrets.add(candidate)

    def _name_matches(self, name: str) -> bool:
        return any(p.fullmatch(name) for p in self._compiled)

    def text(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, REDACTED)
        for pattern in self._compiled:
            text = pattern.sub(REDACTED, text)
        return text

    def binary(self, data: bytes) -> bytes:
        for secret in sorted(self._secrets, key=len, reverse=True):
            raw = secret.encode()
            data = data.replace(raw, b"*" * len(raw))
        return data

    def headers(self, headers: Iterable[tuple[str, str]]) -> Headers:
        out: Headers = []
        for name, value in headers:
            lowered = name.lower()
            if value.strip() and (lowered in SENSITIVE_HEADERS or self._name_matches(name)):
                scheme, _, rest = value.partition(" ")
                kept_scheme = lowered in ("authorization", "proxy-authorization") and rest
                out.append((lowered, f"{scheme} {REDACTED}" if kept_scheme else REDACTED))
            else:
                out.append((lowered, self.text(value)))
        return out

    def json(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: REDACTED if self._name_matches(k) else self.json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value


def redact_body(data: bytes, content_type: str | None, redactor: Redactor) -> tuple[str, Any]:
    """A body as it is kept: ("json", value) when compact JSON gives back its bytes (or keys were
    redacted in it), ("text", str) for other text, ("binary", bytes) for the rest."""
    if is_text_type(content_type) or (not content_type and data[:1] in (b"{", b"[")):
        try:
            text = redactor.text(data.decode("utf-8"))
        except UnicodeDecodeError:
            return "binary", redactor.binary(data)
        try:
            value = json.loads(text)
        except ValueError:
            return "text", text
        redacted = redactor.json(value)
        if redacted != value or compact_json(value) == text.encode():
            return "json", redacted
        return "text", text
    return "binary", redactor.binary(data)


def body_bytes(kind: str, payload: Any) -> bytes:
    """The bytes of a body returned by `redact_body`."""
    if kind == "json":
        return compact_json(payload)
    if kind == "text":
        return str(payload).encode()
    return bytes(payload)


# --------------------------------------------------------------------------- exchanges


@dataclass
class Message:
    """A recorded request or response: its headers and its (redacted) body."""

    headers: Headers
    body: bytes = b""

    @property
    def content_type(self) -> str | None:
        return header(self.headers, "content-type")

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON."""
        if not self.body:
            return None
        try:
            return parse_json(self.body)
        except ValueError:
            return None


@dataclass
class Request(Message):
    method: str = "GET"
    url: str = "/"
    """Path and query for requests to the upstream; an absolute URL for followed links."""


@dataclass
class Response(Message):
    status: int = 200
    chunks: list[tuple[float, int]] | None = None
    """For streamed responses: (seconds after the headers, bytes) per chunk, as they arrived."""
    complete: bool = True
    """False when the stream broke off (the upstream failed or the client went away)."""


@dataclass
class Link:
    """A media link found in an earlier response and fetched by the recorder itself."""

    source: int
    """The `seq` of the exchange whose response held the link."""
    path: str
    """Where in that response's JSON: `$.data.video_url`."""


@dataclass
class Exchange:
    seq: int
    request: Request
    response: Response
    signed_urls: list[str] = field(default_factory=list)
    """Where signed links are: `request.url`, `response.body$.data.video_url`."""
    link: Link | None = None

    @property
    def label(self) -> str:
        return f"{self.request.method} {urlsplit(self.request.url).path}"


def mark_signed(exchange: Exchange) -> None:
    """Fill `exchange.signed_urls` from its request URL and its response's JSON strings."""
    marks = ["request.url"] if is_signed_url(exchange.request.url) else []
    for path, value in walk_json(exchange.response.json()):
        if isinstance(value, str) and value.startswith(("http://", "https://")) and is_signed_url(value):
            marks.append(f"response.body{path}")
    exchange.signed_urls = marks


def walk_json(value: Any, path: str = "$") -> Iterator[tuple[str, Any]]:
    """Every (path, value) in a JSON value, depth first; array items as `[0]`, `[1]`..."""
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk_json(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk_json(item, f"{path}[{index}]")


# --------------------------------------------------------------------------- matching


def normalized_body(body: bytes, content_type: str | None) -> bytes:
    """The body as matching sees it: JSON with sorted keys, multipart without its random boundary."""
    if not body:
        return b""
    if is_json_type(content_type) or body[:1] in (b"{", b"["):
        try:
            return json.dumps(parse_json(body), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            pass
    boundary = re.search(r"boundary=\"?([^\";]+)", content_type or "")
    if media_type(content_type).startswith("multipart/") and boundary:
        return body.replace(boundary.group(1).encode(), b"BOUNDARY")
    return body


def request_key(method: str, url: str, body: bytes, content_type: str | None) -> str:
    """What a replayed request is matched on: method, path, query (signed parameters aside), normalized body."""
    parts = urlsplit(url)
    query = sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() not in SIGNED_PARAMS)
    digest = hashlib.sha256(normalized_body(body, content_type)).hexdigest()[:16]
    return f"{method.upper()} {parts.path}?{urlencode(query)} {digest}"


# --------------------------------------------------------------------------- the directory


_SCALAR_ARRAY = re.compile(r"\[\s*\n\s*([^\[\]{}]*?)\s*\n\s*\]")


def _dumps(record: dict[str, Any]) -> str:
    """Indented JSON, with arrays of scalars (header pairs, chunk timings) kept on one line."""
    text = json.dumps(record, indent=2, ensure_ascii=False)
    return _SCALAR_ARRAY.sub(lambda m: "[" + re.sub(r",\s*\n\s*", ", ", m.group(1)) + "]", text) + "\n"


class CassetteDir:
    """A directory of cassettes: write exchanges as they complete, read them back in order."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.exchanges_dir = self.root / "exchanges"
        self.media_dir = self.root / "media"

    # manifest --------------------------------------------------------------

    def create(self, *, upstream: str, redact: Sequence[str]) -> None:
        """Start (or continue) recording into this directory."""
        self.exchanges_dir.mkdir(parents=True, exist_ok=True)
        self.media_dir.mkdir(exist_ok=True)
        manifest = {"format": FORMAT, "upstream": upstream, "redact": list(redact)}
        (self.root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")

    def manifest(self) -> dict[str, Any]:
        path = self.root / MANIFEST
        if not path.is_file():
            raise FileNotFoundError(f"{self.root} holds no cassettes ({MANIFEST} is missing)")
        manifest: dict[str, Any] = json.loads(path.read_text())
        if manifest.get("format") != FORMAT:
            raise ValueError(f"{path}: cassette format {manifest.get('format')!r}, this version reads {FORMAT}")
        return manifest

    def next_seq(self) -> int:
        seqs = [int(p.name.split("-", 1)[0]) for p in self.exchanges_dir.glob("*.json") if p.name[:4].isdigit()]
        return max(seqs, default=0) + 1

    # writing ---------------------------------------------------------------

    def _store_media(self, data: bytes, content_type: str | None) -> dict[str, Any]:
        digest = hashlib.sha256(data).hexdigest()
        name = f"{digest}{MEDIA_EXTENSIONS.get(media_type(content_type), '.bin')}"
        target = self.media_dir / name
        if not target.exists():
            partial = target.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(target)
        return {"file": f"media/{name}", "size": len(data), "sha256": digest}

    def _encode_body(self, message: Message, redactor: Redactor) -> dict[str, Any] | None:
        if not message.body:
            return None
        kind, payload = redact_body(message.body, message.content_type, redactor)
        if kind == "json":
            return {"json": payload}
        if kind == "text" and len(payload) <= INLINE_TEXT_LIMIT:
            return {"text": payload}
        return self._store_media(body_bytes(kind, payload), message.content_type)

    def write(self, exchange: Exchange, redactor: Redactor) -> Path:
        """Redact `exchange` and write it (and its media); return the exchange file."""
        req, resp = exchange.request, exchange.response
        redactor.learn(req.headers)
        redactor.learn(resp.headers)
        url = redactor.text(req.url)
        record: dict[str, Any] = {
            "seq": exchange.seq,
            "request": {
                "method": req.method,
                "url": url,
                "headers": [list(h) for h in redactor.headers(req.headers)],
                "body": self._encode_body(req, redactor),
            },
            "response": {
                "status": resp.status,
                "headers": [list(h) for h in redactor.headers(resp.headers)],
                "body": self._encode_body(resp, redactor),
            },
        }
        if resp.chunks is not None:
            record["response"]["chunks"] = [[round(t, 4), n] for t, n in resp.chunks]
        if not resp.complete:
            record["response"]["complete"] = False
        if exchange.signed_urls:
            record["signed_urls"] = exchange.signed_urls
        if exchange.link is not None:
            record["link"] = {"source": exchange.link.source, "path": exchange.link.path}
        slug = re.sub(r"[^a-z0-9]+", "-", urlsplit(url).path.lower()).strip("-")[:60] or "root"
        path = self.exchanges_dir / f"{exchange.seq:04d}-{req.method.lower()}-{slug}.json"
        partial = path.with_suffix(".part")
        partial.write_text(_dumps(record))
        partial.replace(path)
        return path

    # reading ---------------------------------------------------------------

    def _decode_body(self, raw: dict[str, Any] | None) -> bytes:
        if raw is None:
            return b""
        if "json" in raw:
            return compact_json(raw["json"])
        if "text" in raw:
            return str(raw["text"]).encode()
        return (self.root / raw["file"]).read_bytes()

    def load(self) -> list[Exchange]:
        """Every exchange, in recorded order."""
        self.manifest()
        exchanges = []
        for path in sorted(self.exchanges_dir.glob("*.json")):
            raw = json.loads(path.read_text())
            req, resp = raw["request"], raw["response"]
            link = raw.get("link")
            exchanges.append(
                Exchange(
                    seq=int(raw["seq"]),
                    request=Request(
                        headers=[(k, v) for k, v in req["headers"]],
                        body=self._decode_body(req.get("body")),
                        method=req["method"],
                        url=req["url"],
                    ),
                    response=Response(
                        headers=[(k, v) for k, v in resp["headers"]],
                        body=self._decode_body(resp.get("body")),
                        status=int(resp["status"]),
                        chunks=[(float(t), int(n)) for t, n in resp["chunks"]] if "chunks" in resp else None,
                        complete=bool(resp.get("complete", True)),
                    ),
                    signed_urls=list(raw.get("signed_urls", [])),
                    link=Link(int(link["source"]), str(link["path"])) if link else None,
                )
            )
        exchanges.sort(key=lambda e: e.seq)
        return exchanges
