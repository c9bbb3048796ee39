"""POST /v1/videos, POST /v1/videos/stream, GET /v1/videos/{id}, GET /v1/videos/{id}/content."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse

from ...core.fragments import FragmentLog
from ...core.jobs import Job, JobPool, JobStatus, PoolFull
from ...core.live import released_fragments
from ...core.retention import EVICTED_KEY
from ...http.bodies import read_body
from ...http.errors import ApiError
from ...http.probes import crash_plan
from ...http.routing import Call
from .inputs import DecodedAudio, load_audio, load_image
from .render import render_work
from .tasks import RenderSpec, SpeechSpec

STATUS = {
    JobStatus.QUEUED: "queued",
    JobStatus.RUNNING: "in_progress",
    JobStatus.SUCCEEDED: "completed",
    JobStatus.FAILED: "failed",
}


def video_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "object": "video",
        "model": job.params["model"],
        "status": STATUS[job.status],
        "progress": job.progress,
        "size": job.params["size"],
        "created_at": int(job.created_at),
        "error": job.error,
    }


def pool(call: Call) -> JobPool:
    settings = call.emulator.settings
    return call.tenant.pool("boson", concurrency=settings.replicas, queue_limit=settings.queue)


@dataclass
class Plan:
    """A checked create request: its decoded inputs (files) and what to render."""

    image: Path
    width: int
    height: int
    model: str
    audio: DecodedAudio | None = None
    tts: SpeechSpec | None = None
    inputs: list[Path] = field(default_factory=list)

    def discard(self) -> None:
        for path in self.inputs:
            path.unlink(missing_ok=True)


async def _plan(call: Call) -> Plan:
    body = await read_body(call.request, call.op, default_code=call.provider.default_error_code)
    values, files = body.values, body.files
    width, height = (int(n) for n in str(values.get("size") or "640x640").split("x"))
    image = await load_image(call, values.get("ref_image"), files.get("ref_image"))
    plan = Plan(image=image, width=width, height=height, model=str(values.get("model") or "higgs-avatar"),
                inputs=[image])
    try:
        if values.get("input") is not None:
            plan.audio = await load_audio(call, values["input"], files.get("input"), "input")
            plan.inputs.append(plan.audio.path)
        else:
            from .speech import speech_params

            plan.tts = await speech_params(call, values["input_tts"], field="input_tts")
            if plan.tts.ref_audio is not None:
                plan.inputs.append(Path(plan.tts.ref_audio))
    except BaseException:
        plan.discard()
        raise
    return plan


def _check_capacity(call: Call) -> None:
    """429 all_replicas_busy, before any media is decoded or any file is made."""
    try:
        pool(call).check_capacity()
    except PoolFull as full:
        raise ApiError(
            429,
            "all_replicas_busy",
            "All replicas are busy; retry after the number of seconds in Retry-After.",
            headers={"Retry-After": str(full.retry_after)},
        ) from None


def _submit(call: Call, plan: Plan) -> tuple[Job, dict[str, Any]]:
    """Queue a render; return the job and its Video object as of creation (`queued`, as documented)."""
    try:
        _check_capacity(call)  # again: slots may have filled while this request's media decoded
    except ApiError:
        plan.discard()
        raise
    tenant = call.tenant
    job = Job(
        id=tenant.new_id("video_"),
        tenant=tenant.name,
        provider="boson",
        created_at=tenant.clock.now(),
        params={"model": plan.model, "size": f"{plan.width}x{plan.height}"},
        inputs=plan.inputs,
    )
    fmp4 = tenant.store.path(tenant.name, job.id, ".fmp4")
    fmp4.touch()
    job.files = {"fmp4": fmp4, "mp4": tenant.store.path(tenant.name, job.id, ".mp4")}
    job.fragments = FragmentLog(fmp4, asyncio.get_running_loop())
    if plan.audio is not None:
        job.media_seconds = plan.audio.seconds
    spec = RenderSpec(image=str(plan.image), width=plan.width, height=plan.height, fmp4=str(fmp4),
                      mp4=str(job.files["mp4"]), seed=call.emulator.settings.seed,
                      audio=str(plan.audio.path) if plan.audio else None, tts=plan.tts)
    created = video_json(job)
    work = render_work(call.emulator, job, spec, crash_plan(call, "render"))
    pool(call).submit(job, work)  # cannot be full: nothing awaited since the check
    tenant.jobs[job.id] = job
    return job, created


async def create_video(call: Call) -> Response:
    _check_capacity(call)
    _, created = _submit(call, await _plan(call))
    return JSONResponse(created)


async def stream_video(call: Call) -> Response:
    _check_capacity(call)
    job, _ = _submit(call, await _plan(call))
    return StreamingResponse(released_fragments(job, call.tenant), media_type="video/mp4",
                             headers={"X-Video-Id": job.id})


def _job(call: Call) -> Job:
    video_id = call.request.path_params["video_id"]
    job = call.tenant.jobs.get(video_id)
    if job is None or job.provider != "boson":
        raise ApiError(404, "not_found", f"No video with id '{video_id}'.", field="video_id")
    return job


async def get_video(call: Call) -> Response:
    job = _job(call)
    await pool(call).status_read(job)
    return JSONResponse(video_json(job))


async def download_content(call: Call) -> Response:
    variant = call.request.query_params.get("variant", "video")
    for param in call.op.parameters("query"):
        problems = call.op.spec.validate(param["schema"], variant, prefix=param["name"])
        if problems:
            raise ApiError(400, problems[0].error_type or "invalid_request_error",
                           f"Unsupported variant {variant!r}: only 'video' is available.", field="variant")
    job = _job(call)
    pool(call).refresh()
    if job.status is not JobStatus.SUCCEEDED:
        raise ApiError(
            404,
            "not_found",
            f"Video '{job.id}' has no content yet: its status is '{STATUS[job.status]}'; "
            "content exists once it is 'completed'.",
            field="video_id",
        )
    path = job.files["mp4"]
    if job.params.get(EVICTED_KEY) or not path.exists():
        raise ApiError(404, "not_found", f"The content of video '{job.id}' is no longer stored.")
    return FileResponse(path, media_type="video/mp4", filename=f"{job.id}.mp4", content_disposition_type="inline")
