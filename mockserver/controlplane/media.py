"""What a job looks like, for people: /_emulator/jobs with its MP4, a thumbnail and a live fMP4 follow.

These routes read a tenant's jobs of any provider without counting as status reads, so they never
move a `polls(n)` job along, and they are not journaled (the journal records provider calls only).
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
from PIL import Image
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..boson.videos import STATUS as BOSON_STATUS
from ..heygen.state import STATUS as HEYGEN_STATUS
from ..heygen.state import state_of
from ..jobs import Job, JobStatus
from ..retention import EVICTED_KEY
from ..streams import released_fragments
from ..tenants import Tenant
from .routes import _error
from .state import job_json

if TYPE_CHECKING:
    from .routes import ControlPlane

VIDEO_FILE = {"boson": "mp4", "heygen": "video.mp4"}
"""The key of a finished job's playable MP4 in `job.files`, per provider."""
THUMBNAIL_FILE = "thumbnail.jpg"
THUMBNAIL_WIDTH = 320


def provider_status(tenant: Tenant, job: Job) -> str:
    """The status word the job's own provider API reports (completed, in_progress, processing...)."""
    if job.provider == "heygen":
        video = state_of(tenant).videos.get(job.id)
        return video.status if video is not None else HEYGEN_STATUS[job.status]
    if job.provider == "boson":
        return BOSON_STATUS[job.status]
    return job.status.value


def stored(job: Job, key: str) -> Path | None:
    """A file of the job that exists now (None once retention evicted the job's media)."""
    path = job.files.get(key)
    if path is None or job.params.get(EVICTED_KEY) or not path.exists():
        return None
    return path


def video_file(job: Job) -> Path | None:
    key = VIDEO_FILE.get(job.provider)
    if job.status is not JobStatus.SUCCEEDED or key is None:
        return None
    return stored(job, key)


def has_live(job: Job) -> bool:
    return job.fragments is not None and not job.params.get(EVICTED_KEY) and job.fragments.path.exists()


def first_fragment_ready(job: Job) -> bool:
    """Whether the init segment and the first media fragment of the job's fMP4 are on disk."""
    return has_live(job) and job.fragments is not None and len(job.fragments.marks) >= 2


def first_fragment(job: Job) -> bytes | None:
    """The init segment and first media fragment of a job's fMP4, once both are on disk."""
    if not first_fragment_ready(job) or job.fragments is None:
        return None
    with job.fragments.path.open("rb") as handle:
        return handle.read(job.fragments.marks[1].end_offset)


def frame_jpeg(source: Path | bytes, width: int = THUMBNAIL_WIDTH) -> bytes | None:
    """The first video frame of an MP4 (a path, or fMP4 bytes) as a JPEG at most `width` wide."""
    try:
        with av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), mode="r") as container:
            if not container.streams.video:
                return None
            frame = next(container.decode(video=0), None)
            if frame is None:
                return None
            image: Image.Image = frame.to_image()
    except av.FFmpegError:
        return None
    image.thumbnail((width, width * 4))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82)
    return out.getvalue()


def job_view(tenant: Tenant, job: Job) -> dict[str, Any]:
    """A job as the dashboard lists it: the control view, the provider's word, and which media exist."""
    view = job_json(job)
    view["provider_status"] = provider_status(tenant, job)
    if job.provider == "heygen":
        heygen_video = state_of(tenant).videos.get(job.id)
        view["title"] = heygen_video.title if heygen_video is not None else None
    playable = video_file(job) is not None
    view["media"] = {
        "video": playable,
        "thumbnail": playable or first_fragment_ready(job) or stored(job, THUMBNAIL_FILE) is not None,
        "live": has_live(job),
    }
    return view


def _not_found(message: str) -> JSONResponse:
    return _error(404, "not_found", message)


def _conflict(message: str) -> JSONResponse:
    return _error(409, "no_media", message)


class JobMedia:
    """Handlers for /_emulator/jobs and the media of one job."""

    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane

    def job(self, request: Request) -> tuple[Tenant, Job | None]:
        tenant = self.plane.tenant(request)
        return tenant, tenant.jobs.get(request.path_params["job_id"])

    async def list_jobs(self, request: Request) -> Response:
        tenant = self.plane.tenant(request)
        tenant.refresh()
        return JSONResponse({"tenant": tenant.name, "jobs": [job_view(tenant, job) for job in tenant.jobs.values()]})

    async def video(self, request: Request) -> Response:
        tenant, job = self.job(request)
        if job is None:
            return _not_found(f"No job {request.path_params['job_id']!r} in tenant {tenant.name!r}.")
        tenant.refresh()
        path = video_file(job)
        if path is None:
            why = "its media are no longer stored" if job.params.get(EVICTED_KEY) else \
                f"it is {provider_status(tenant, job)}, not completed"
            return _conflict(f"Job {job.id!r} has no video: {why}.")
        return FileResponse(path, media_type="video/mp4", filename=f"{job.id}.mp4", content_disposition_type="inline",
                            headers={"Cache-Control": "no-cache"})

    async def thumbnail(self, request: Request) -> Response:
        tenant, job = self.job(request)
        if job is None:
            return _not_found(f"No job {request.path_params['job_id']!r} in tenant {tenant.name!r}.")
        tenant.refresh()
        made = stored(job, THUMBNAIL_FILE)
        if made is not None:
            return FileResponse(made, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})
        source: Path | bytes | None = video_file(job) or first_fragment(job)
        jpeg = None if source is None else await asyncio.to_thread(frame_jpeg, source)
        if jpeg is None:
            return _conflict(f"Job {job.id!r} has no frame yet (it is {provider_status(tenant, job)}).")
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})

    async def live(self, request: Request) -> Response:
        tenant, job = self.job(request)
        if job is None:
            return _not_found(f"No job {request.path_params['job_id']!r} in tenant {tenant.name!r}.")
        if not has_live(job):
            return _conflict(f"Job {job.id!r} has no fragmented MP4 to follow (only Boson renders stream; "
                             "seeded and restored jobs have none).")
        return StreamingResponse(released_fragments(job, tenant), media_type="video/mp4",
                                 headers={"Cache-Control": "no-store", "X-Video-Id": job.id})

    def routes(self) -> list[BaseRoute]:
        table = [
            ("/jobs", self.list_jobs),
            ("/jobs/{job_id:str}/video", self.video),
            ("/jobs/{job_id:str}/thumbnail", self.thumbnail),
            ("/jobs/{job_id:str}/live", self.live),
        ]
        return [Route(f"/_emulator{path}", self.plane.guard(handler), methods=["GET"], name=f"control:GET {path}")
                for path, handler in table]
