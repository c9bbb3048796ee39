"""Asynchronous render jobs, shared by every provider.

A job's *emulated* state (what the API reports) is derived from its tenant's clock and its
pacing; the *real* compute (its `Work`, which hands the render to a worker process) must also
have finished before a job reports a terminal state. Providers map `JobStatus` onto their own
vocabulary.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import traceback
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from .clock import Clock
from .fragments import FragmentLog
from .pacing import Pacing
from .workers import TaskFailed, WorkerDied


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    @property
    def terminal(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.FAILED)


class RenderFailure(Exception):
    """Raised by a job's work to end it `failed` with a message the user may read."""


@dataclass
class Compute:
    progress: float = 0.0
    done: bool = False
    error: str | None = None


@dataclass(eq=False)
class Job:
    id: str
    tenant: str
    provider: str
    created_at: float
    params: dict[str, Any] = field(default_factory=dict)
    status: JobStatus = JobStatus.QUEUED
    started_at: float | None = None
    finished_at: float | None = None
    media_seconds: float | None = None
    progress: int = 0
    error: str | None = None
    forced_error: str | None = None
    polls_to_complete: int | None = None
    status_reads: int = 0
    compute: Compute = field(default_factory=Compute)
    fragments: FragmentLog | None = None
    files: dict[str, Path] = field(default_factory=dict)
    inputs: list[Path] = field(default_factory=list)
    """Decoded inputs the render reads; removed once the render ends."""
    log: list[str] = field(default_factory=list)
    """What the render engine noted about the result (e.g. no face found), for GET /_emulator/state."""
    started: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class JobContext:
    """What a job's work (a coroutine on the server's loop) may do to its job."""

    def __init__(self, job: Job, kick: Callable[[], None]) -> None:
        self.job = job
        self.cancel = asyncio.Event()
        self._kick = kick

    def progress(self, fraction: float) -> None:
        fraction = min(max(fraction, 0.0), 1.0)
        if fraction > self.job.compute.progress:
            self.job.compute.progress = fraction

    def set_media_seconds(self, seconds: float) -> None:
        self.job.media_seconds = seconds
        self._kick()


Work = Callable[[JobContext], Awaitable[None]]
Listener = Callable[[Job], None]


class PoolFull(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"all {retry_after=}")
        self.retry_after = retry_after


class ComputeRunner:
    """Runs each started job's work as a task on the server's loop (the work hands the render to a
    worker process, whose pool bounds the machine's real render capacity)."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        """(tenant, traceback) of unexpected exceptions in work, for the test harness to re-raise."""
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, ctx: JobContext, work: Work, done: Callable[[], None]) -> None:
        async def run() -> None:
            job = ctx.job
            try:
                await work(ctx)
            except RenderFailure as exc:
                job.compute.error = str(exc) or "render failed"
            except WorkerDied as exc:
                job.compute.error = f"the render failed: {exc}; create the video again"
            except TaskFailed as exc:
                job.compute.error = f"the render failed: {exc.message}"
                if exc.kind == "error":
                    self.errors.append((job.tenant, str(exc.details.get("traceback", exc.message))))
            except asyncio.CancelledError:
                job.compute.error = "the render was cancelled"
            except Exception as exc:  # an emulator bug: fail the job and keep the traceback
                job.compute.error = f"internal render error: {type(exc).__name__}: {exc}"
                self.errors.append((job.tenant, traceback.format_exc()))
            else:
                job.compute.progress = 1.0
            finally:
                job.compute.done = True
                if job.fragments is not None and not job.fragments.closed:
                    job.fragments.close(complete=job.compute.error is None)
                for path in job.inputs:
                    path.unlink(missing_ok=True)
                done()

        task = asyncio.get_running_loop().create_task(run(), name=f"job {ctx.job.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()


class JobPool:
    """One provider's job capacity in one tenant: `concurrency` render at once, `queue_limit` wait."""

    def __init__(
        self,
        *,
        concurrency: int,
        queue_limit: int,
        clock: Clock,
        pacing: Pacing,
        runner: ComputeRunner,
    ) -> None:
        self.concurrency = concurrency
        self.queue_limit = queue_limit
        self.clock = clock
        self.pacing = pacing
        self._runner = runner
        self._queued: deque[tuple[Job, Work]] = deque()
        self._running: list[Job] = []
        self._contexts: dict[str, JobContext] = {}
        self.listeners: list[Listener] = []
        self.polls_to_complete: int | None = None
        """polls(n) progression for new jobs: complete on the n-th status read; None: follow the clock."""

    @property
    def active(self) -> bool:
        return bool(self._queued or self._running)

    def retry_after(self) -> int:
        """Whole seconds until a slot is likely to free up (at least 1)."""
        now = self.clock.now()
        waits = []
        for job in self._running:
            if job.started_at is not None and job.media_seconds is not None:
                waits.append(job.started_at + self.pacing.media_time_at(job.media_seconds) - now)
        return max(1, math.ceil(min(waits))) if waits else 1

    def check_capacity(self) -> None:
        """Raise PoolFull when the running and waiting slots are all taken."""
        self.refresh()
        if len(self._running) + len(self._queued) >= self.concurrency + self.queue_limit:
            raise PoolFull(self.retry_after())

    def submit(self, job: Job, work: Work) -> None:
        """Queue `job`; raise PoolFull when the running and waiting slots are all taken."""
        self.check_capacity()
        if job.polls_to_complete is None:
            job.polls_to_complete = self.polls_to_complete
        self._queued.append((job, work))
        self.refresh()

    async def status_read(self, job: Job, *, wait: float = 30.0) -> None:
        """Count a status read of `job` and refresh; the read that completes a polls(n) job waits
        (at most `wait` s) for the job's real compute, so that read reports the terminal state."""
        job.status_reads += 1
        self.refresh()
        polled_out = job.polls_to_complete is not None and job.status_reads >= job.polls_to_complete
        if polled_out and not job.finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(job.finished.wait(), timeout=wait)

    def refresh(self) -> None:
        """Bring every job's emulated state up to the clock's now."""
        now = self.clock.now()
        for job in list(self._running):
            self._advance(job, now)
        while self._queued and len(self._running) < self.concurrency:
            job, work = self._queued.popleft()
            self._start(job, work, now)

    def _start(self, job: Job, work: Work, now: float) -> None:
        job.status = JobStatus.RUNNING
        job.started_at = now
        self._running.append(job)
        ctx = JobContext(job, self.refresh)
        self._contexts[job.id] = ctx
        job.started.set()
        self._emit(job)
        self._runner.start(ctx, work, self.refresh)

    def _modelled_fraction(self, job: Job, now: float) -> float:
        if job.started_at is None or job.media_seconds is None:
            return 0.0
        total = self.pacing.media_time_at(job.media_seconds)
        return 1.0 if total <= 0 else min(1.0, (now - job.started_at) / total)

    def _advance(self, job: Job, now: float) -> None:
        modelled = self._modelled_fraction(job, now)
        if job.polls_to_complete is not None and job.status_reads >= job.polls_to_complete:
            modelled = 1.0
        if job.compute.done and modelled >= 1.0:
            self._finish(job, now)
            return
        fraction = min(job.compute.progress, modelled)
        job.progress = max(job.progress, min(99, int(fraction * 100)))

    def _finish(self, job: Job, now: float) -> None:
        self._running.remove(job)
        self._contexts.pop(job.id, None)
        job.finished_at = now
        error = job.forced_error or job.compute.error
        if error is None:
            job.status = JobStatus.SUCCEEDED
            job.progress = 100
        else:
            job.status = JobStatus.FAILED
            job.error = error
        job.finished.set()
        self._emit(job)

    def _emit(self, job: Job) -> None:
        for listener in self.listeners:
            listener(job)

    def cancel_all(self) -> None:
        for ctx in self._contexts.values():
            ctx.cancel.set()
        self._queued.clear()
