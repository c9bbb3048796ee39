"""A HeyGen video job's work, on the server's loop: send the plan to a render worker, then record
what it made (the MP4, captions and previews) or why it refused (HeyGen's numeric codes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...core.emulator import Emulator
from ...core.jobs import JobContext, RenderFailure, Work
from ...core.tenants import Tenant
from ...core.workers import CrashPlan, TaskFailed
from .plan import VideoPlan
from .state import Video, VideoError
from .tasks import failure_of, render_video


def render_work(emulator: Emulator, video: Video, plan: VideoPlan, tenant: Tenant,
                crash: CrashPlan | None = None) -> Work:  # fmt: skip
    store = tenant.store
    files = {name: str(store.path(tenant.name, f"{video.id}_{name}", ""))
             for name in ("video.mp4", "thumbnail.jpg", "preview.gif")}  # fmt: skip
    if plan.caption_video:
        files["caption.mp4"] = str(store.path(tenant.name, f"{video.id}_caption.mp4", ""))
    if plan.caption_file:
        files["captions.ass"] = str(store.path(tenant.name, f"{video.id}_captions.ass", ""))

    async def work(ctx: JobContext) -> None:
        def on_event(event: dict[str, Any]) -> None:
            if "media_seconds" in event:
                ctx.set_media_seconds(float(event["media_seconds"]))
            if "progress" in event:
                ctx.progress(float(event["progress"]))
            if "note" in event:
                ctx.job.log.append(str(event["note"]))

        try:
            duration = await emulator.workers.render.run(
                render_video, plan, emulator.settings.seed, files, on_event=on_event, cancel=ctx.cancel, crash=crash
            )
        except TaskFailed as failed:
            coded = failure_of(failed.details) if failed.kind == "refused" else None
            if coded is None:
                raise
            video.failure = VideoError(coded[0], coded[1], failed.message)
            ctx.job.params["failure"] = video.failure.json()
            raise RenderFailure(failed.message) from None
        finally:
            if ctx.job.media_seconds is None:  # ended early (a refusal or a crash): report it at once
                ctx.set_media_seconds(0.0)
        ctx.set_media_seconds(duration)
        video.duration = duration
        # One dict for both: retention and --data-dir see the job's files, status links the video's.
        video.files = ctx.job.files = {name: Path(path) for name, path in files.items()}

    return work
