"""A video's life: `waiting` while its URL inputs are fetched, `pending` while queued behind the
plan's concurrency (`--heygen-concurrency`), `processing` while it renders, then `completed` or
`failed`. When it ends, the quota is charged and the webhooks are sent."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from ...core.jobs import Job, JobPool, JobStatus, PoolFull
from ...core.workers import CrashPlan
from ...http.errors import ApiError
from ...http.fetch import FetchError
from ...http.probes import crash_plan
from ...http.routing import Call
from .catalog import base_url
from .plan import VideoPlan, fetch_inputs
from .render import render_order
from .state import VIDEO_FIELDS, HeyGenState, Video, VideoError, state_of, video_of
from .webhooks import video_finished

if TYPE_CHECKING:
    from ...core.emulator import Emulator
    from ...core.tenants import Tenant

QUEUE_LIMIT = 10_000
"""Assumed: the legacy API queues (status `pending`) rather than refusing with 429."""

DOWNLOAD_FAILED = 40065  # INVALID_VIDEO_INFOS in HeyGen's legacy table


def pool_of(emulator: Emulator, tenant: Tenant) -> JobPool:
    return tenant.pool("heygen", concurrency=emulator.settings.heygen_concurrency, queue_limit=QUEUE_LIMIT)


def on_transition(emulator: Emulator, tenant: Tenant, job: Job) -> None:
    """A video that reached `completed` or `failed` charges its quota and sends its webhooks."""
    state = state_of(tenant)
    video = state.videos.get(job.id)
    if video is not None and job.status.terminal:
        finish(emulator, tenant, state, video)


def finish(emulator: Emulator, tenant: Tenant, state: HeyGenState, video: Video) -> None:
    """Charge the quota for a completed non-test video and send its webhooks (once)."""
    if video.notified:
        return
    video.notified = True
    if video.status == "completed" and not video.test and video.duration is not None:
        state.remaining_quota = max(0, state.remaining_quota - math.ceil(video.duration))
    video_finished(emulator, tenant, video)


def start_video(call: Call, plan: VideoPlan, *, legacy: bool = False) -> Video:
    """Record the video (`waiting`) and fetch its inputs in the background before queueing it."""
    tenant, emulator = call.tenant, call.emulator
    state = state_of(tenant)
    if not plan.test and state.remaining_quota <= 0:
        raise ApiError(402, "insufficient_credit", "Insufficient credit: the remaining quota is 0.")
    job = Job(id=tenant.new_id("", 32), tenant=tenant.name, provider="heygen", created_at=tenant.clock.now())
    video = Video(
        job=job,
        created_at=int(job.created_at),
        base_url=base_url(call),
        title=plan.title,
        callback_id=plan.callback_id,
        callback_url=plan.callback_url,
        test=plan.test,
        caption_file=plan.caption_file,
        caption_video=plan.caption_video,
        legacy=legacy,
    )
    job.params = video_params(video)
    tenant.jobs[job.id] = job  # with --data-dir this writes the job, params included
    state.videos[job.id] = video
    emulator.spawn(_prepare_and_submit(emulator, tenant.name, job.id, plan, crash_plan(call, "render")))
    return video


async def _prepare_and_submit(emulator: Emulator, tenant_name: str, video_id: str, plan: VideoPlan,
                              crash: CrashPlan | None) -> None:  # fmt: skip
    """Download the video's URL inputs (outside any session), then queue it (in one)."""
    tenants = emulator.tenants
    failure: VideoError | None = None
    inputs: list[Path] = []
    try:
        inputs = await fetch_inputs(plan, emulator.settings, tenants.store, tenant_name)
    except FetchError as exc:
        failure = VideoError(DOWNLOAD_FAILED, "Invalid video infos", f"download failed: {exc}")
    if not await tenants.exists(tenant_name):
        return  # dropped meanwhile
    async with tenants.session(tenant_name, jobs=[video_id]) as tenant:
        state = state_of(tenant)
        video = state.videos.get(video_id)
        if video is None:  # deleted meanwhile
            return
        if failure is None:
            try:
                pool_of(emulator, tenant).submit(video.job, render_order(tenant, video.job, plan, inputs, crash))
            except PoolFull:
                failure = VideoError(400664, "Video limit exceeded", "too many videos are waiting")
            else:
                video.submitted = True
                return
        for path in inputs:
            path.unlink(missing_ok=True)
        fail_before_queueing(tenant, video, failure)
        finish(emulator, tenant, state, video)


def video_params(video: Video) -> dict[str, object]:
    """What a Video knows beyond its Job, kept in `job.params` so that --data-dir persists it."""
    return {name: getattr(video, name) for name in VIDEO_FIELDS}


def fail_before_queueing(tenant: Tenant, video: Video, error: VideoError) -> None:
    job = video.job
    video.failure = error
    job.params["failure"] = error.json()
    job.status = JobStatus.FAILED
    job.error = error.detail
    job.finished_at = tenant.clock.now()
    job.finished.set()
    tenant.jobs[job.id] = job  # written again with --data-dir


def restore_video(tenant: Tenant, job: Job) -> None:
    """Rebuild a Video from a job read back from --data-dir (its webhooks were already sent; a job
    the restart cut off was marked failed, and reports it)."""
    video = video_of(job)
    video.submitted = "failure" not in job.params
    video.notified = True
    state_of(tenant).videos[job.id] = video

