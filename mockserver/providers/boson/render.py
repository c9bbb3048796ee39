"""A Boson video job's render: the order a render worker carries out (its events, fragments
included, are applied to the job by the core)."""

from __future__ import annotations

from pathlib import Path

from ...core.jobs import RenderOrder
from ...core.workers import CrashPlan
from .tasks import RenderSpec, render_video


def render_order(spec: RenderSpec, inputs: list[Path], crash: CrashPlan | None = None) -> RenderOrder:
    """Render `spec` in a worker; its decoded `inputs` go once it ends."""
    return RenderOrder(render_video, (spec,), inputs=tuple(str(path) for path in inputs), crash=crash,
                       live_file=spec.fmp4)
