"""Turn `ref_image` / `input` / `ref_audio` values (URL, data URI, raw base64 or an uploaded
file) into decoded media, with Boson's 400 errors naming the field."""

from __future__ import annotations

import base64
import binascii
import re

import numpy as np
from starlette.concurrency import run_in_threadpool

from reference_engine.audio import decode_audio, probe_audio
from reference_engine.errors import MediaError
from reference_engine.image import decode_image

from ...core.settings import FetchPolicy
from ...http.errors import ApiError
from ...http.fetch import FetchError, fetch

INLINE_LIMIT = 10 * 1024 * 1024
MAX_AUDIO_SECONDS = 60.0
MIN_AUDIO_SAMPLES = 960
"""One video frame (40 ms at 24 kHz): shorter audio cannot make a video."""
_DATA_URI = re.compile(
    r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?P<params>(;[\w.+-]+=[^;,]*)*)(?P<b64>;base64)?,(?P<data>.*)$", re.S
)


def _bad(field: str, message: str, code: str = "invalid_request_error") -> ApiError:
    return ApiError(400, code, message, field=field)


def decode_inline(value: str, field: str) -> bytes:
    """Bytes of a data URI or raw base64 string."""
    text = value.strip()
    if text.startswith("data:"):
        match = _DATA_URI.match(text)
        if match is None:
            raise _bad(field, f"'{field}' is not a valid data URI (expected data:<type>;base64,<data>).")
        if not match["b64"]:
            raise _bad(field, f"'{field}' data URI must be base64-encoded (data:<type>;base64,<data>).")
        text = match["data"]
    if len(text) * 3 // 4 > INLINE_LIMIT:
        raise _bad(field, f"'{field}' is larger than the 10 MB inline limit; upload a file or send a URL.",
                   "payload_too_large")
    compact = "".join(text.split())
    try:
        data = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise _bad(field, f"'{field}' is neither an http(s) URL, a data URI nor valid base64.") from None
    if not data:
        raise _bad(field, f"'{field}' is empty.")
    return data


async def media_bytes(value: object, upload: bytes | None, field: str, policy: FetchPolicy) -> bytes:
    if upload is not None:
        if len(upload) > INLINE_LIMIT:
            raise _bad(field, f"'{field}' is larger than 10 MB.", "payload_too_large")
        if not upload:
            raise _bad(field, f"'{field}' is an empty file.")
        return upload
    if not isinstance(value, str):
        raise _bad(field, f"'{field}' must be a string.")
    if value.startswith(("http://", "https://")):
        try:
            return await fetch(value, policy, limit=INLINE_LIMIT)
        except FetchError as exc:
            raise _bad(field, f"'{field}': {exc}", "invalid_url") from None
    return decode_inline(value, field)


async def load_image(value: object, upload: bytes | None, policy: FetchPolicy, field: str = "ref_image") -> np.ndarray:
    data = await media_bytes(value, upload, field, policy)
    try:
        return await run_in_threadpool(decode_image, data)
    except MediaError as exc:
        raise _bad(field, f"'{field}': {exc.message}", "invalid_image_format") from None


async def load_audio(value: object, upload: bytes | None, policy: FetchPolicy, field: str) -> np.ndarray:
    data = await media_bytes(value, upload, field, policy)

    def decode() -> np.ndarray:
        info = probe_audio(data)
        if info.duration is not None and info.duration > MAX_AUDIO_SECONDS + 0.05:
            raise MediaError("audio", "too_long", f"the audio lasts {info.duration:.1f} s; at most 60 s is allowed")
        return decode_audio(data, max_seconds=MAX_AUDIO_SECONDS)

    try:
        samples = await run_in_threadpool(decode)
    except MediaError as exc:
        code = "audio_too_long" if exc.reason == "too_long" else "invalid_audio_format"
        raise _bad(field, f"'{field}': {exc.message}", code) from None
    if samples.shape[0] < MIN_AUDIO_SAMPLES:
        raise _bad(field, f"'{field}': the audio lasts {samples.shape[0] / 24_000:.3f} s, shorter than one "
                   "video frame (0.04 s).", "invalid_audio_format")
    return samples
