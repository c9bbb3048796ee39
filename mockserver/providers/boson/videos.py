"""POST /v1/videos, POST /v1/videos/stream, GET /v1/videos/{id}, GET /v1/videos/{id}/content."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.responses import FileResponse, Response, StreamingResponse

from ...core.fragments import FragmentLog
from ...core.jobs import Job, JobPool, JobStatus, PoolFull
from ...core.live import released_fragments
from ...core.retention import EVICTED_KEY
from ...core.state import ReadOnly
from ...core.workers import TaskFailed, WorkerDied
from ...http.bodies import read_body
from ...http.errors import ApiError
from ...http.probes import crash_plan
from ...http.responses import JSONResponse, RenderedBodies
from ...http.routing import Call
from .inputs import DecodedAudio, load_audio, load_image
from .render import render_cores, render_order
from .tasks import RenderSpec, SpeechSpec
from .tasks import init_segment as make_init_segment

STATUS = {
    JobStatus.QUEUED: "queued",
    JobStatus.RUNNING: "in_progress",
    JobStatus.SUCCEEDED: "completed",
    JobStatus.FAILED: "failed",
}


STATUS_BODIES = RenderedBodies()
"""The bytes of each video's last status body: most polls find a video as the last poll left it."""


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
    """Validate the body, then decode the image and the audio at once, each in a probe worker."""
    body = await read_body(call.request, call.op, default_code=call.provider.default_error_code)
    values, files = body.values, body.files
    width, height = (int(n) for n in str(values.get("size") or "640x640").split("x"))
    image_task = asyncio.ensure_future(load_image(call, values.get("ref_image"), files.get("ref_image")))
    if values.get("input") is not None:
        speech_task: asyncio.Future[Any] = asyncio.ensure_future(
            load_audio(call, values["input"], files.get("input"), "input"))
    else:
        from .speech import speech_params

        speech_task = asyncio.ensure_future(speech_params(call, values["input_tts"], field="input_tts"))
    outcomes = await asyncio.gather(image_task, speech_task, return_exceptions=True)
    made = [Path(o.path) if isinstance(o, DecodedAudio) else o for o in outcomes if isinstance(o, Path | DecodedAudio)]
    made += [Path(o.ref_audio) for o in outcomes if isinstance(o, SpeechSpec) and o.ref_audio]
    for outcome in outcomes:  # the image's error first, as a serial check would report it
        if isinstance(outcome, BaseException):
            for path in made:
                path.unlink(missing_ok=True)
            raise outcome
    image, speech = outcomes
    assert isinstance(image, Path)
    plan = Plan(image=image, width=width, height=height, model=str(values.get("model") or "higgs-avatar"),
                inputs=made)
    if isinstance(speech, DecodedAudio):
        plan.audio = speech
    else:
        assert isinstance(speech, SpeechSpec)
        plan.tts = speech
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
    )
    fmp4 = tenant.store.path(tenant.name, job.id, ".fmp4")
    fmp4.touch()
    job.files = {"fmp4": fmp4, "mp4": tenant.store.path(tenant.name, job.id, ".mp4")}
    job.fragments = FragmentLog(fmp4, asyncio.get_running_loop())
    if plan.audio is not None:
        job.media_seconds = plan.audio.seconds
    spec = RenderSpec(image=str(plan.image), width=plan.width, height=plan.height, fmp4=str(fmp4),
                      mp4=str(job.files["mp4"]), seed=call.emulator.settings.seed,
                      audio=str(plan.audio.path) if plan.audio else None, tts=plan.tts,
                      pipeline=render_cores(call.emulator.settings) >= 2)
    created = video_json(job)
    pool(call).submit(job, render_order(spec, plan.inputs, crash_plan(call, "render")))  # no await since the check
    tenant.jobs[job.id] = job
    return job, created


async def create_video(call: Call) -> Response:
    _check_capacity(call)
    _, created = _submit(call, await _plan(call))
    return JSONResponse(created)


async def stream_video(call: Call) -> Response:
    _check_capacity(call)
    plan = await _plan(call)
    init = await init_segment(call, plan.width, plan.height)
    job, _ = _submit(call, plan)
    # The init segment leaves at once, before the render is even scheduled: it depends on the size only.
    live = call.emulator.tenants.live(call.tenant, job.id)
    return StreamingResponse(released_fragments(live, sent_init=init), media_type="video/mp4",
                             headers={"X-Video-Id": job.id})


_INIT_SEGMENTS: dict[tuple[int, int], asyncio.Future[bytes | None]] = {}


async def init_segment(call: Call, width: int, height: int) -> bytes | None:
    """The fMP4 init segment of this size (made once by a worker, then remembered); None if that failed."""
    key = (width, height)
    made = _INIT_SEGMENTS.get(key)
    if made is None or made.get_loop() is not asyncio.get_running_loop():
        made = _INIT_SEGMENTS[key] = asyncio.get_running_loop().create_future()
        result: bytes | None = None
        try:
            result = await call.emulator.workers.probe.run(make_init_segment, width, height)
        except (TaskFailed, WorkerDied):
            pass
        finally:  # also when this request is cancelled: whoever waits on `made` gets an answer
            made.set_result(result)
            if result is None:
                _INIT_SEGMENTS.pop(key, None)  # try again next time
    return await asyncio.shield(made)


def _job(call: Call) -> Job:
    video_id = call.request.path_params["video_id"]
    job = call.tenant.jobs.get(video_id)
    if job is None or job.provider != "boson":
        raise ApiError(404, "not_found", f"No video with id '{video_id}'.", field="video_id")
    return job


async def get_video(call: Call) -> Response:
    job = _job(call)
    if call.tenant.read_only and not job.status.terminal:
        raise ReadOnly  # it may move on: read it under the tenant's lock
    await pool(call).status_read(job)
    return STATUS_BODIES.response(job.id, video_json(job))


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
