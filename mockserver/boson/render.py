"""The work a Boson video job does in its worker thread: speech (if text), render, store."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from reference_engine.render import RenderJob, remux_faststart, render_fmp4
from reference_engine.tts import synthesize

from ..jobs import Job, JobContext, Work


@dataclass
class SpeechParams:
    text: str
    voice: str = "default"
    ref_audio: np.ndarray | None = None


@dataclass
class RenderPlan:
    image: np.ndarray
    width: int
    height: int
    seed: int = 0
    audio: np.ndarray | None = None
    tts: SpeechParams | None = None
    model: str = "higgs-avatar"
    size: str = "640x640"
    extra: dict[str, object] = field(default_factory=dict)


def plan_audio(plan: RenderPlan) -> np.ndarray:
    if plan.audio is not None:
        return plan.audio
    assert plan.tts is not None
    return synthesize(plan.tts.text, plan.tts.voice, seed=plan.seed, ref_audio=plan.tts.ref_audio)


def render_work(job: Job, plan: RenderPlan) -> Work:
    def work(ctx: JobContext) -> None:
        audio = plan_audio(plan)
        ctx.set_media_seconds(audio.shape[0] / 24_000)
        render = RenderJob(image=plan.image, audio=audio, width=plan.width, height=plan.height, seed=plan.seed)
        fragments = job.fragments
        with job.files["fmp4"].open("wb") as out:
            for fragment in render_fmp4(render, progress=lambda f: ctx.progress(f * 0.97), cancel=ctx.cancel,
                                        on_note=job.log.append):  # fmt: skip
                out.write(fragment.data)
                out.flush()
                if fragments is not None:
                    fragments.append(out.tell(), fragment.media_end)
        if fragments is not None:
            fragments.close(complete=True)
        remux_faststart(job.files["fmp4"], job.files["mp4"])

    return work
