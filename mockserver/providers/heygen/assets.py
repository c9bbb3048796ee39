"""POST /v1/asset (the upload host's route): raw bytes with their MIME type become an asset whose
id works as `image_asset_id` / `video_asset_id` / `audio_asset_id` and, for images, as a
`talking_photo_id`. Uploaded files are served back at the `url` the upload returns."""

from __future__ import annotations

from pathlib import Path

from starlette.responses import FileResponse, Response

from ...http.bodies import MAX_BODY_BYTES
from ...http.errors import ApiError
from ...http.probes import MediaRejected, decode_in_worker
from ...http.routing import Call
from . import envelopes
from .catalog import asset_path, base_url
from .state import Asset, state_of
from .tasks import check_asset

KINDS = {
    "image/jpeg": ("image", ".jpg"),
    "image/png": ("image", ".png"),
    "video/mp4": ("video", ".mp4"),
    "video/webm": ("video", ".webm"),
    "audio/mpeg": ("audio", ".mp3"),
    "audio/wav": ("audio", ".wav"),
    "audio/x-wav": ("audio", ".wav"),
}
MEDIA_TYPES = {".jpg": "image/jpeg", ".png": "image/png", ".mp4": "video/mp4", ".webm": "video/webm",
               ".mp3": "audio/mpeg", ".wav": "audio/wav"}  # fmt: skip


async def upload_asset(call: Call) -> Response:
    mime = call.request.headers.get("content-type", "").split(";")[0].strip().lower()
    if mime not in KINDS:
        raise ApiError(400, "invalid_file_type",
                       f"Unsupported Content-Type {mime or '(none)'!r}: send the raw file with one of "
                       f"{', '.join(KINDS)}.", field="Content-Type")  # fmt: skip
    data = bytearray()
    async for chunk in call.request.stream():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise ApiError(413, "payload_too_large", f"The file is larger than {MAX_BODY_BYTES // 2**20} MB.")
    if not data:
        raise ApiError(400, "invalid_parameter", "The request body is empty: send the file's bytes.")
    kind, suffix = KINDS[mime]
    try:
        scratch, _ = await decode_in_worker(call, check_asset, bytes(data), kind, kind)
    except MediaRejected as exc:
        code = {"image": "image_format_not_supported", "audio": "invalid_audio_format"}.get(
            kind, "video_format_not_supported"
        )
        raise ApiError(400, code, f"The uploaded {kind} cannot be used: {exc.message}.") from None
    scratch.unlink(missing_ok=True)
    tenant = call.tenant
    state = state_of(tenant)
    asset_id = tenant.new_id("", 32)
    path = tenant.store.path(tenant.name, f"asset_{asset_id}", suffix)
    path.write_bytes(bytes(data))
    created = int(tenant.clock.now())
    state.assets[asset_id] = Asset(asset_id, kind, mime, path, created, asset_id)
    url = base_url(call) + asset_path(call, asset_id, suffix)
    payload = {"id": asset_id, "name": asset_id, "file_type": kind, "folder_id": "", "meta": None,
               "created_ts": created, "url": url}  # fmt: skip
    if kind == "image":
        payload["image_key"] = f"image/{asset_id}/original{suffix}"
    return envelopes.v1(payload, message=None, msg=True)


async def asset_file(call: Call) -> Response:
    """The bytes of an uploaded asset (public, like HeyGen's resource URLs)."""
    stem, dot, ext = call.request.path_params["file"].partition(".")
    asset = state_of(call.tenant).assets.get(stem)  # the tenant the link names (see HeyGenProvider.routes)
    if asset is None or asset.path.suffix != dot + ext or not asset.path.exists():
        raise ApiError(404, "not_found", "No such asset.")
    return FileResponse(asset.path, media_type=MEDIA_TYPES.get(asset.path.suffix, asset.mime))


def asset_path_of(call: Call, asset_id: str, kind: str, field: str) -> Path:
    """An uploaded asset's file, checked to be of `kind`; 400 if it does not exist or is another kind."""
    asset = state_of(call.tenant).assets.get(asset_id)
    if asset is None:
        raise ApiError(400, "asset_not_found", f"Asset {asset_id} not found.", field=field)
    if asset.kind != kind:
        raise ApiError(400, "invalid_parameter", f"Asset {asset_id} is a {asset.kind}, not a {kind}.", field=field)
    return asset.path
