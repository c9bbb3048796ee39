"""A Boson video job's render: the order a render worker carries out (its events, fragments
included, are applied to the job by the core)."""

from __future__ import annotations

import os
from pathlib import Path

from ...core.jobs import RenderOrder
from ...core.settings import Settings
from ...core.workers import CrashPlan
from .tasks import RenderSpec, render_video


def render_cores(settings: Settings) -> int:
    """The CPU cores one render uses: `--render-cores`, or else this machine's cores shared out among
    the replicas (at least 1). Shared (Redis) state renders on the workers' machines, one core each.

    With 2 or more, a render draws its frames on a thread of its own beside x264: alone, it finishes
    about 1.4x sooner; with every core busy, it is no faster and costs the same CPU time.
    """
    if settings.render_cores:
        return settings.render_cores
    if settings.state:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, cores // settings.replicas)


def render_order(spec: RenderSpec, inputs: list[Path], crash: CrashPlan | None = None) -> RenderOrder:
    """Render `spec` in a worker; its decoded `inputs` go once it ends."""
    return RenderOrder(render_video, (spec,), inputs=tuple(str(path) for path in inputs), crash=crash,
                       live_file=spec.fmp4)
