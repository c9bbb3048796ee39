"""Worker processes: every decode, probe, render and encode runs in a child of the server.

`Workers` holds the emulator's two pools: `render` (sized from the capacity settings) and `probe`
(create-time validation and short encodes). See `pool.py` for the server side and `child.py` for
what runs in the children.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..settings import Settings
from .child import CrashPlan, TaskContext, TaskRefused, WorkerLimits
from .pool import TaskFailed, WorkerDied, WorkerPool

__all__ = ["CrashPlan", "TaskContext", "TaskFailed", "TaskRefused", "WorkerDied", "WorkerLimits", "WorkerPool",
           "Workers"]

ENGINE_MODULES = ("numpy", "av", "cv2", "PIL.Image", "reference_engine.render", "reference_engine.scenes",
                  "reference_engine.tts", "reference_engine.audio", "reference_engine.image",
                  "reference_engine.audio_formats")
"""Imported once in the fork server, so a new worker starts in milliseconds."""
PROBE_CPU_SECONDS = 60.0
PROBE_NICE = 5


class Workers:
    """The render and probe pools of one emulator."""

    def __init__(self, settings: Settings, preload: Sequence[str] = ()) -> None:
        limits = WorkerLimits(
            memory_bytes=settings.worker_memory_mb * 1024 * 1024 if settings.worker_memory_mb else None,
            cpu_seconds=settings.worker_cpu_seconds or None,
        )
        modules = (*ENGINE_MODULES, *preload)
        # Embedded state renders here (capacity settings); shared state renders where workers run.
        renders = settings.render_workers if settings.state else settings.replicas + settings.heygen_concurrency
        self.render = WorkerPool("render", renders, limits=limits, preload=modules)
        # Probes answer requests that wait on them: they run above the renders (but below the server).
        probe_limits = WorkerLimits(memory_bytes=limits.memory_bytes, nice=PROBE_NICE,
                                    cpu_seconds=min(limits.cpu_seconds or PROBE_CPU_SECONDS, PROBE_CPU_SECONDS))
        self.probe = WorkerPool("probe", settings.probe_workers, limits=probe_limits, preload=modules)
        self.renders_here = not settings.state or settings.render_workers > 0

    def prewarm(self, *, everything: bool = False) -> None:
        """Start one worker of each pool now, or all of them (blocking: call it from a thread), so
        requests do not wait for processes to start."""
        self.probe.prewarm(self.probe.size if everything else 1)
        if self.renders_here:
            self.render.prewarm(self.render.size if everything else 1)

    def stats(self) -> list[dict[str, object]]:
        return [self.render.stats(), self.probe.stats()]

    def close(self) -> None:
        self.render.close()
        self.probe.close()
