"""A Boson video job's work, on the server's loop: hand the render to a worker process and turn its
events into the job's progress, duration and fragment log."""

from __future__ import annotations

from typing import Any

from ...core.emulator import Emulator
from ...core.jobs import Job, JobContext, Work
from ...core.workers import CrashPlan
from .tasks import RenderSpec, render_video


def render_work(emulator: Emulator, job: Job, spec: RenderSpec, crash: CrashPlan | None = None) -> Work:
    async def work(ctx: JobContext) -> None:
        fragments = job.fragments

        def on_event(event: dict[str, Any]) -> None:
            if "media_seconds" in event:
                ctx.set_media_seconds(float(event["media_seconds"]))
            if "progress" in event:
                ctx.progress(float(event["progress"]))
            if "note" in event:
                ctx.job.log.append(str(event["note"]))
            if "fragment" in event and fragments is not None:
                end_offset, media_end = event["fragment"]
                fragments.append(int(end_offset), float(media_end))

        await emulator.workers.render.run(render_video, spec, on_event=on_event, cancel=ctx.cancel, crash=crash)
        if fragments is not None:
            fragments.close(complete=True)

    return work
