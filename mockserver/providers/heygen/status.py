"""GET /v1/video_status.get, GET /v1/video.list, DELETE /v1/video.delete and the signed media links.

Status always answers HTTP 200 `code: 100` with all 11 `data` keys (null when unset), a failed video
included (its `error` is `{code: int, message, detail}`). Media links are re-signed on every call.
"""

from __future__ import annotations

import base64
from typing import Any

from starlette.responses import FileResponse, Response

from ...core.retention import EVICTED_KEY
from ...core.state import ReadOnly
from ...http.errors import ApiError
from ...http.routing import Call
from . import envelopes
from .catalog import base_url
from .inputs import query
from .lifecycle import pool_of
from .signing import SIGNER
from .state import Video, state_of

MEDIA_TYPES = {
    "video.mp4": "video/mp4",
    "caption.mp4": "video/mp4",
    "thumbnail.jpg": "image/jpeg",
    "preview.gif": "image/gif",
    "captions.ass": "text/x-ssa; charset=utf-8",
}


def _video(call: Call, video_id: str) -> Video:
    video = state_of(call.tenant).videos.get(video_id)
    if video is None:
        raise ApiError(404, "video_not_found", f"Invalid video id: no video {video_id!r}.", field="video_id")
    return video


def status_data(call: Call, video: Video) -> dict[str, Any]:
    signer = SIGNER
    now = call.tenant.clock.now()
    base = base_url(call)  # this request's: links stay right when the emulator restarts elsewhere

    def link(name: str) -> str | None:
        if video.status != "completed" or name not in video.files:
            return None
        return signer.url(base, call.tenant.name, video.id, name, now)

    error = video.error()
    return {
        "callback_id": video.callback_id,
        "caption_url": link("captions.ass"),
        "created_at": video.created_at,
        "duration": float(video.duration) if video.status == "completed" and video.duration is not None else None,
        "error": error.json() if error is not None else None,
        "gif_url": link("preview.gif"),
        "id": video.id,
        "status": video.status,
        "thumbnail_url": link("thumbnail.jpg"),
        "video_url": link("video.mp4"),
        "video_url_caption": link("caption.mp4"),
    }


async def video_status(call: Call) -> Response:
    video_id = query(call)["video_id"]
    video = _video(call, video_id)
    if call.tenant.read_only and video.status not in ("completed", "failed"):
        raise ReadOnly  # it may move on: read it under the tenant's lock
    video.job.status_reads += 1
    if video.submitted:
        pool_of(call.emulator, call.tenant).refresh()
    return envelopes.v1(status_data(call, video))


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        if text.startswith("o:") and text[2:].isdigit():
            return int(text[2:])
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(400, "invalid_query_param", "Invalid querying parameter: 'token' is not a token from video.list.",
                   field="token")  # fmt: skip


async def list_videos(call: Call) -> Response:
    params = query(call)
    limit = int(params.get("limit") or 100) or 100
    start = _offset(params.get("token"))
    state = state_of(call.tenant)
    if any(v.submitted for v in state.videos.values()):
        pool_of(call.emulator, call.tenant).refresh()
    videos = sorted(state.videos.values(), key=lambda v: (v.created_at, v.id), reverse=True)
    page = videos[start : start + limit]
    items = []
    for video in page:
        data = status_data(call, video)
        items.append({
            "video_id": video.id, "status": video.status, "created_at": video.created_at, "type": "GENERATED",
            "video_title": video.title or "", "callback_id": video.callback_id, "duration": data["duration"],
            "thumbnail_url": data["thumbnail_url"], "video_url": data["video_url"], "gif_url": data["gif_url"],
        })  # fmt: skip
    token = _token(start + limit) if start + limit < len(videos) else None
    return envelopes.v1({"token": token, "videos": items}, message=None)


async def delete_video(call: Call) -> Response:
    video_id = query(call)["video_id"]
    video = _video(call, video_id)
    state_of(call.tenant).videos.pop(video.id, None)
    for path in video.files.values():
        path.unlink(missing_ok=True)
    return envelopes.v1(None, message="Success")


async def media_file(call: Call) -> Response:
    """A video's MP4, captioned MP4, thumbnail, GIF or caption file, through a signed expiring link."""
    params = call.request.path_params
    tenant = call.tenant  # the one the link names (see HeyGenProvider.routes)
    path = call.request.url.path
    refused = SIGNER.check(
        path, call.request.query_params.get("Expires"), call.request.query_params.get("Signature"), tenant.clock.now()
    )
    if refused is not None:
        raise ApiError(403, "access_denied", f"Access denied: {refused}.")
    video = state_of(tenant).videos.get(params["video_id"])
    file = video.files.get(params["file"]) if video is not None else None
    if file is None or video is None or video.job.params.get(EVICTED_KEY) or not file.exists():
        raise ApiError(404, "not_found", "No such file (the video was deleted or has no such output).")
    return FileResponse(file, media_type=MEDIA_TYPES.get(params["file"], "application/octet-stream"))
