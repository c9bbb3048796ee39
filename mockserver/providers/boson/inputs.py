"""Turn `ref_image` / `input` / `ref_audio` values (URL, data URI, raw base64 or an uploaded
file) into media decoded by a probe worker, with Boson's 400 errors naming the field."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from pathlib import Path

from reference_engine import SAMPLE_RATE

from ...core.settings import Settings
from ...http.errors import ApiError
from ...http.fetch import FetchError, fetch
from ...http.probes import MediaRejected, decode_in_worker
from ...http.routing import Call
from .tasks import decode_audio_file, decode_image_file

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
    try:  # the usual case first: no line breaks, padded (copying a 10 MB string to drop them is not free)
        data = binascii.a2b_base64(text, strict_mode=True)
    except (binascii.Error, ValueError):
        compact = "".join(text.split())
        try:
            data = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise _bad(field, f"'{field}' is neither an http(s) URL, a data URI nor valid base64.") from None
    if not data:
        raise _bad(field, f"'{field}' is empty.")
    return data


async def media_bytes(value: object, upload: bytes | None, field: str, settings: Settings) -> bytes:
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
            return await fetch(value, settings.fetch, limit=INLINE_LIMIT, deadline=settings.fetch_deadline_s)
        except FetchError as exc:
            raise _bad(field, f"'{field}': {exc}", "invalid_url") from None
    return decode_inline(value, field)


@dataclass(frozen=True)
class DecodedAudio:
    path: Path
    """The samples (.npy float32, 24 kHz mono), made by a probe worker."""
    samples: int

    @property
    def seconds(self) -> float:
        return self.samples / SAMPLE_RATE


async def load_image(call: Call, value: object, upload: bytes | None, field: str = "ref_image") -> Path:
    """Decode an image input in a probe worker; the path of its RGB .npy."""
    data = await media_bytes(value, upload, field, call.emulator.settings)
    try:
        path, _ = await decode_in_worker(call, decode_image_file, data, "image")
    except MediaRejected as exc:
        raise _bad(field, f"'{field}': {exc.message}", "invalid_image_format") from None
    return path


async def load_audio(call: Call, value: object, upload: bytes | None, field: str) -> DecodedAudio:
    """Decode an audio input in a probe worker (headers checked first)."""
    data = await media_bytes(value, upload, field, call.emulator.settings)
    try:
        path, samples = await decode_in_worker(call, decode_audio_file, data, "audio", MAX_AUDIO_SECONDS)
    except MediaRejected as exc:
        code = "audio_too_long" if exc.reason == "too_long" else "invalid_audio_format"
        raise _bad(field, f"'{field}': {exc.message}", code) from None
    if samples < MIN_AUDIO_SAMPLES:
        path.unlink(missing_ok=True)
        raise _bad(field, f"'{field}': the audio lasts {samples / SAMPLE_RATE:.3f} s, shorter than one "
                   "video frame (0.04 s).", "invalid_audio_format")
    return DecodedAudio(path, samples)
