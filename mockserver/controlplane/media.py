"""What a job looks like, for people: /_emulator/jobs with its MP4, a thumbnail and a live fMP4 follow.

These routes read a tenant's jobs of any provider without counting as status reads, so they never
move a `polls(n)` job along, and they are not journaled (the journal records provider calls only).
What a provider calls a job's status, and where its MP4 is, come from the provider (`Provider`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..core.jobs import Job, JobStatus
from ..core.live import released_fragments
from ..core.retention import EVICTED_KEY
from ..core.tenants import Tenant
from ..core.workers import TaskFailed, WorkerDied
from ..http.names import CONTROL_PREFIX
from ..http.responses import JSONResponse
from ..http.routing import Provider
from .routes import ControlRoutes, error
from .state import job_json
from .thumbnails import frame_jpeg

THUMBNAIL_FILE = "thumbnail.jpg"


def stored(job: Job, key: str) -> Path | None:
    """A file of the job that exists now (None once retention evicted the job's media)."""
    path = job.files.get(key)
    if path is None or job.params.get(EVICTED_KEY) or not path.exists():
        return None
    return path


def video_file(job: Job, provider: Provider | None) -> Path | None:
    if job.status is not JobStatus.SUCCEEDED or provider is None:
        return None
    return stored(job, provider.video_file)


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


def job_view(tenant: Tenant, job: Job, provider: Provider | None) -> dict[str, Any]:
    """A job as the dashboard lists it: the control view, the provider's word, and which media exist."""
    view = job_json(job)
    view.update(provider.job_summary(tenant, job) if provider else {"provider_status": job.status.value})
    playable = video_file(job, provider) is not None
    view["media"] = {
        "video": playable,
        "thumbnail": playable or first_fragment_ready(job) or stored(job, THUMBNAIL_FILE) is not None,
        "live": has_live(job),
    }
    return view


def _not_found(message: str) -> JSONResponse:
    return error(404, "not_found", message)


def _conflict(message: str) -> JSONResponse:
    return error(409, "no_media", message)


class JobMedia:
    """Handlers for /_emulator/jobs and the media of one job."""

    def __init__(self, routes: ControlRoutes) -> None:
        self.control = routes
        self.providers = {provider.name: provider for provider in routes.router.providers}

    def status_word(self, tenant: Tenant, job: Job) -> str:
        provider = self.providers.get(job.provider)
        return str(provider.job_summary(tenant, job)["provider_status"]) if provider else job.status.value

    async def list_jobs(self, request: Request) -> Response:
        async with self.control.session(request, all_jobs=True) as tenant:
            tenant.refresh()
            jobs = [job_view(tenant, job, self.providers.get(job.provider)) for job in tenant.jobs.values()]
            return JSONResponse({"tenant": tenant.name, "jobs": jobs})

    @contextlib.asynccontextmanager
    async def _job_session(self, request: Request) -> AsyncIterator[tuple[Tenant, Job | None]]:
        """The session of the request's tenant, holding the job its path names (None: no such job)."""
        job_id = request.path_params["job_id"]
        async with self.control.session(request, jobs=[job_id]) as tenant:
            yield tenant, tenant.jobs.get(job_id)

    async def video(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        async with self._job_session(request) as (tenant, job):
            if job is None:
                return _not_found(f"No job {job_id!r} in tenant {tenant.name!r}.")
            tenant.refresh()
            path = video_file(job, self.providers.get(job.provider))
            if path is None:
                why = "its media are no longer stored" if job.params.get(EVICTED_KEY) else \
                    f"it is {self.status_word(tenant, job)}, not completed"
                return _conflict(f"Job {job.id!r} has no video: {why}.")
        return FileResponse(path, media_type="video/mp4", filename=f"{job_id}.mp4", content_disposition_type="inline",
                            headers={"Cache-Control": "no-cache"})

    async def thumbnail(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        async with self._job_session(request) as (tenant, job):
            if job is None:
                return _not_found(f"No job {job_id!r} in tenant {tenant.name!r}.")
            tenant.refresh()
            made = stored(job, THUMBNAIL_FILE)
            source: Path | bytes | None = made or video_file(job, self.providers.get(job.provider)) \
                or first_fragment(job)
            status = self.status_word(tenant, job)
        if made is not None:
            return FileResponse(made, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})
        jpeg = None
        if source is not None:
            try:  # decoding happens in a worker process, like every decode
                jpeg = await self.control.emulator.workers.probe.run(frame_jpeg, source)
            except (TaskFailed, WorkerDied):
                jpeg = None
        if jpeg is None:
            return _conflict(f"Job {job_id!r} has no frame yet (it is {status}).")
        return Response(jpeg, media_type="image/jpeg", headers={"Cache-Control": "no-cache"})

    async def live(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        async with self._job_session(request) as (tenant, job):
            if job is None:
                return _not_found(f"No job {job_id!r} in tenant {tenant.name!r}.")
            if not has_live(job):
                return _conflict(f"Job {job.id!r} has no fragmented MP4 to follow (only Boson renders stream; "
                                 "seeded and restored jobs have none).")
            live = self.control.emulator.tenants.live(tenant, job_id)
        return StreamingResponse(released_fragments(live), media_type="video/mp4",
                                 headers={"Cache-Control": "no-store", "X-Video-Id": job_id})

    def routes(self) -> list[BaseRoute]:
        table = [
            ("/jobs", self.list_jobs),
            ("/jobs/{job_id:str}/video", self.video),
            ("/jobs/{job_id:str}/thumbnail", self.thumbnail),
            ("/jobs/{job_id:str}/live", self.live),
        ]
        return [Route(CONTROL_PREFIX + path, self.control.refusing(handler), methods=["GET"],
                      name=f"control:GET {path}") for path, handler in table]
