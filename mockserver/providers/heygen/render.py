"""A HeyGen video job's render: the order a render worker carries out, and settling its outcome
(the MP4, captions and previews it made, or why it refused, with HeyGen's numeric codes)."""

from __future__ import annotations

from pathlib import Path

from ...core.jobs import Job, RenderOrder
from ...core.tenants import Tenant
from ...core.workers import CrashPlan
from .plan import VideoPlan
from .state import VideoError, state_of
from .tasks import failure_of, render_video


def planned_files(tenant: Tenant, video_id: str, *, caption_video: bool, caption_file: bool) -> dict[str, Path]:
    """Where a video's render writes its files (the same on every front-end sharing the media)."""
    names = ["video.mp4", "thumbnail.jpg", "preview.gif"]
    names += ["caption.mp4"] * caption_video + ["captions.ass"] * caption_file
    return {name: tenant.store.path(tenant.name, f"{video_id}_{name}", "") for name in names}


def render_order(tenant: Tenant, job: Job, plan: VideoPlan, inputs: list[Path],
                 crash: CrashPlan | None = None) -> RenderOrder:  # fmt: skip
    files = planned_files(tenant, job.id, caption_video=plan.caption_video, caption_file=plan.caption_file)
    args = (plan, tenant.settings.seed, {name: str(path) for name, path in files.items()})
    return RenderOrder(render_video, args, inputs=tuple(str(path) for path in inputs), crash=crash)


def settle(tenant: Tenant, job: Job) -> None:
    """Record a finished render on its video: HeyGen's failure, or the files and the duration."""
    video = state_of(tenant).videos.get(job.id)
    compute = job.compute
    if video is None:
        return
    if compute.error is not None:
        coded = failure_of(compute.details or {})
        if coded is not None:
            video.failure = VideoError(coded[0], coded[1], compute.error)
            job.params["failure"] = video.failure.json()
        if job.media_seconds is None:  # ended early (a refusal or a crash): the status says so at once
            job.media_seconds = 0.0
        return
    duration = float(compute.result)
    job.media_seconds = video.duration = duration
    files = planned_files(tenant, job.id, caption_video=video.caption_video, caption_file=video.caption_file)
    # One dict for both: retention and --data-dir see the job's files, status links the video's.
    video.files = job.files = files
