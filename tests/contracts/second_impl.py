"""A second correct implementation: the emulator behind middleware that makes other choices the contract allows.

A judge that only ever sees the implementation it was written with mistakes that implementation's choices for
the contract. This one differs wherever the contract leaves room:

- validation order: once the key is checked, a `ref_image` that is not an image is refused (400
  invalid_image_format) before anything else in the body is looked at; a HeyGen `dimension` out of range is
  refused before the scenes are;
- every stream ends with `free` space and an `mfra` box (ISO BMFF allows it after the last fragment; FFmpeg's
  muxer writes one by default);
- nulls the official clients accept: `/v2/avatars` `type`, `tags` and `default_voice_id` (heygen-mcp Optional),
  Boson voice `description` (openapi nullable), a failed HeyGen video's `error.detail` (heygen-mcp Optional);
- no request-id header on any response (a SHOULD: the judge warns);
- Boson 404s carry `error.type` video_not_found (the docs name no type for them);
- other settings: HeyGen renders two videos at once, retries webhooks after 0.6, 3 and 9 s; Boson has one
  replica and a queue of three.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import struct
from typing import Any

from PIL import Image, UnidentifiedImageError

from tests.contracts.asgi import (
    Answer,
    App,
    Buffered,
    Scope,
    Streamed,
    json_rewrite,
    path_is,
    strip_response_headers,
)
from tests.contracts.harness import KEY, emulator_app

HEYGEN_CONCURRENCY = 2
FREE = struct.pack(">I4s", 8, b"free")


def mfra_box() -> bytes:
    """An mfra holding only its mfro, which states the mfra's size (ISO/IEC 14496-12 8.8.9-8.8.11)."""
    size = 8 + 16
    return struct.pack(">I4s", size, b"mfra") + struct.pack(">I4sII", 16, b"mfro", 0, size)


def _stream_tail(status: int) -> bytes:
    return FREE + mfra_box() if status == 200 else b""


def _inline_bytes(value: str) -> bytes | None:
    """Bytes of a data URI or raw base64 string; None for URLs and for text that is neither."""
    if value.startswith(("http://", "https://")):
        return None
    text = value.split(",", 1)[1] if value.startswith("data:") and "," in value else value
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        return None


def _authorized(scope: Scope) -> bool:
    """The request carries the key."""
    headers = dict(scope["headers"])
    return headers.get(b"authorization") == f"Bearer {KEY}".encode() or headers.get(b"x-api-key") == KEY.encode()


def _keyed_json(scope: Scope, body: bytes) -> dict[str, Any] | None:
    """The JSON object body of a request that carries the key (auth is still checked first), else None."""
    if not _authorized(scope):
        return None
    try:
        values = json.loads(body)
    except ValueError:
        return None
    return values if isinstance(values, dict) else None


def _image_first(scope: Scope, body: bytes) -> tuple[int, Any] | None:
    values = _keyed_json(scope, body)
    ref = values.get("ref_image") if values is not None else None
    data = _inline_bytes(ref) if isinstance(ref, str) else None
    if data is None:
        return None
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        message = "'ref_image' is not a PNG, JPEG or WEBP image."
        return 400, {"error": {"message": message, "type": "invalid_image_format"}}
    return None


def _dimension_first(scope: Scope, body: bytes) -> tuple[int, Any] | None:
    values = _keyed_json(scope, body)
    dimension = values.get("dimension") if values is not None else None
    if not isinstance(dimension, dict):
        return None
    sides = [dimension.get("width"), dimension.get("height")]
    if all(type(v) is int and 128 <= v <= 4096 and v % 2 == 0 for v in sides):
        return None
    message = "dimension: width and height must be even numbers between 128 and 4096."
    return 400, {"error": {"code": "invalid_parameter", "message": message}, "data": None}


def _nulls(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if status != 200:
        return status, body
    if scope["path"] == "/v2/avatars" and isinstance(data, dict):
        for item in data.get("avatars") or []:
            item.update(type=None, tags=None, default_voice_id=None)
    elif scope["path"] == "/v1/audio/voices" and isinstance(body, dict):
        for item in body.get("data") or []:
            item["description"] = None
    elif scope["path"] == "/v1/video_status.get" and isinstance(data, dict) and isinstance(data.get("error"), dict):
        data["error"]["detail"] = None
    return status, body


def _typed_404(scope: Scope, status: int, body: Any) -> tuple[int, Any]:
    error = body.get("error") if isinstance(body, dict) else None
    if status == 404 and isinstance(error, dict):
        error["type"] = "video_not_found"
    return status, body


def second_app() -> App:
    """The second implementation (both providers), ready to serve."""
    app: App = emulator_app(
        replicas=1,
        queue=3,
        heygen_concurrency=HEYGEN_CONCURRENCY,
        heygen_webhook_backoff=(0.6, 3.0, 9.0),
    )
    app = Answer(app, path_is(r"/v1/videos(/stream)?", "POST"), _image_first)
    app = Answer(app, path_is(r"/v2/video/generate", "POST"), _dimension_first)
    app = Streamed(app, path_is("/v1/videos/stream", "POST"), tail=_stream_tail)
    app = Buffered(app, path_is(r"/v2/avatars|/v1/audio/voices|/v1/video_status\.get", "GET"), json_rewrite(_nulls))
    app = Buffered(app, path_is(r"/v1/videos/[^/]+(/content)?", "GET"), json_rewrite(_typed_404))
    return strip_response_headers({b"x-request-id", b"x-boson-request-id"})(app)
