"""Asynchronous render jobs, shared by every provider.

A job's *emulated* state (what the API reports) is derived from its tenant's clock and its
pacing; the *real* compute (its `RenderOrder`, run by a worker process) must also have finished
before a job reports a terminal state. Providers map `JobStatus` onto their own vocabulary.

A render reports back through generic events (`apply_event`) and, once it ends, its outcome on
`Job.compute`; the provider then *settles* the job (applies what only it understands, e.g. HeyGen's
error codes) exactly once. The same holds whether the render ran in this process's worker pool or
on a render worker elsewhere (`--state redis://`).
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
from typing import Any, Protocol

from .clock import Clock
from .fragments import FragmentLog
from .pacing import Pacing
from .workers import CrashPlan, TaskFailed, WorkerDied, WorkerPool


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
class RenderOrder:
    """A job's render: a task function (module level, so it pickles by name) run in a worker process
    as `task(ctx, *args)`, the inputs to remove once it ends, and an optional crash for tests."""

    task: Callable[..., Any]
    args: tuple[Any, ...] = ()
    inputs: tuple[str, ...] = ()
    crash: CrashPlan | None = None
    live_file: str | None = None
    """The fMP4 file whose fragments the task announces (`fragments` events): relayed to live streams."""


@dataclass
class Compute:
    """The real render, apart from the emulated state."""

    progress: float = 0.0
    done: bool = False
    error: str | None = None
    """Why the render failed, in words a user may read."""
    result: Any = None
    """What the task returned."""
    details: dict[str, Any] | None = None
    """What a refusing task said beyond its message (e.g. HeyGen's error code)."""
    settled: bool = False
    """The provider has applied the outcome to its own state."""


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
    order: RenderOrder | None = None
    """What renders this job (kept until it runs)."""
    log: list[str] = field(default_factory=list)
    """What the render engine noted about the result (e.g. no face found), for GET /_emulator/state."""
    started: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class JobContext:
    """What a running job's render may do to its job."""

    def __init__(self, job: Job, kick: Callable[[], None]) -> None:
        self.job = job
        self.cancel = asyncio.Event()
        self.kick = kick


def apply_event(job: Job, event: dict[str, Any], kick: Callable[[], None] | None = None) -> None:
    """Apply a render task's event to its job: `media_seconds`, `progress`, `note`, `fragments` (the
    (end offset, media end) of each fragment written since the last event)."""
    if "media_seconds" in event:
        job.media_seconds = float(event["media_seconds"])
        if kick is not None:
            kick()
    if "progress" in event:
        job.compute.progress = max(job.compute.progress, min(max(float(event["progress"]), 0.0), 1.0))
    if "note" in event:
        job.log.append(str(event["note"]))
    if "fragments" in event and job.fragments is not None:
        for end_offset, media_end in event["fragments"]:
            job.fragments.append(int(end_offset), float(media_end))


@dataclass
class Outcome:
    """How a render ended, in the terms a job keeps (see `Compute`)."""

    error: str | None = None
    details: dict[str, Any] | None = None
    result: Any = None
    bug: str | None = None
    """The traceback of an emulator bug, for the test harness to re-raise."""


def outcome_of(exc: BaseException | None, result: Any = None) -> Outcome:
    """What a render's end (its exception, or its result) means for its job."""
    if exc is None:
        return Outcome(result=result)
    if isinstance(exc, RenderFailure):
        return Outcome(error=str(exc) or "render failed")
    if isinstance(exc, WorkerDied):
        return Outcome(error=f"the render failed: {exc}; create the video again")
    if isinstance(exc, TaskFailed):
        error = exc.message if exc.kind == "refused" else f"the render failed: {exc.message}"
        bug = str(exc.details.get("traceback", exc.message)) if exc.kind == "error" else None
        return Outcome(error=error, details=dict(exc.details), bug=bug)
    if isinstance(exc, asyncio.CancelledError):
        return Outcome(error="the render was cancelled")
    return Outcome(error=f"internal render error: {type(exc).__name__}: {exc}",
                   bug="".join(traceback.format_exception(exc)))


def record_outcome(job: Job, outcome: Outcome) -> None:
    """Put a render's outcome on `job.compute` (done)."""
    compute = job.compute
    compute.done = True
    compute.error, compute.details, compute.result = outcome.error, outcome.details, outcome.result
    if outcome.error is None:
        compute.progress = 1.0


Listener = Callable[[Job], None]
Settle = Callable[[Job], None]


class Runner(Protocol):
    """Starts the renders of started jobs: here (`ComputeRunner`) or through a shared queue."""

    def start(self, ctx: JobContext, order: RenderOrder, done: Callable[[], None], settle: Settle) -> None: ...

    def shutdown(self) -> None: ...


class PoolFull(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"all {retry_after=}")
        self.retry_after = retry_after


class ComputeRunner:
    """Runs started jobs' renders in this process's render worker pool (as tasks on the server's
    loop; the pool bounds the machine's real render capacity)."""

    def __init__(self, workers: WorkerPool, *, on_bug: Callable[[str, str, str], None] | None = None) -> None:
        self.workers = workers
        self.on_bug = on_bug
        """Hears (tenant, where, traceback) of unexpected exceptions in renders (an emulator bug)."""
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, ctx: JobContext, order: RenderOrder, done: Callable[[], None], settle: Settle) -> None:
        job = ctx.job

        async def run() -> None:
            raised: BaseException | None = None
            result: Any = None
            try:
                result = await self.workers.run(order.task, *order.args, crash=order.crash, cancel=ctx.cancel,
                                                on_event=lambda event: apply_event(job, event, ctx.kick))
            except BaseException as exc:  # every way a render ends is recorded on the job
                raised = exc
            outcome = outcome_of(raised, result)
            record_outcome(job, outcome)
            if outcome.bug is not None and self.on_bug is not None:
                self.on_bug(job.tenant, "render", outcome.bug)
            if job.fragments is not None and not job.fragments.closed:
                job.fragments.close(complete=job.compute.error is None)
            for path in order.inputs:
                Path(path).unlink(missing_ok=True)
            try:
                settle(job)
            finally:
                done()
            if isinstance(raised, asyncio.CancelledError):
                raise raised

        task = asyncio.get_running_loop().create_task(run(), name=f"job {job.id}")
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
        runner: Runner,
        settle: Settle,
    ) -> None:
        self.concurrency = concurrency
        self.queue_limit = queue_limit
        self.clock = clock
        self.pacing = pacing
        self._runner = runner
        self._settle = settle
        self.queued: deque[Job] = deque()
        self.running: list[Job] = []
        self._contexts: dict[str, JobContext] = {}
        self.listeners: list[Listener] = []
        self.polls_to_complete: int | None = None
        """polls(n) progression for new jobs: complete on the n-th status read; None: follow the clock."""
        self.await_compute: Callable[[Job, float], Awaitable[None]] | None = None
        """How a status read waits for a job's real render when this process does not run it."""

    @property
    def active(self) -> bool:
        return bool(self.queued or self.running)

    def retry_after(self) -> int:
        """Whole seconds until a slot is likely to free up (at least 1)."""
        now = self.clock.now()
        waits = []
        for job in self.running:
            if job.started_at is not None and job.media_seconds is not None:
                waits.append(job.started_at + self.pacing.media_time_at(job.media_seconds) - now)
        return max(1, math.ceil(min(waits))) if waits else 1

    def check_capacity(self) -> None:
        """Raise PoolFull when the running and waiting slots are all taken."""
        self.refresh()
        if len(self.running) + len(self.queued) >= self.concurrency + self.queue_limit:
            raise PoolFull(self.retry_after())

    def submit(self, job: Job, order: RenderOrder) -> None:
        """Queue `job` to be rendered by `order`; raise PoolFull when the running and waiting slots
        are all taken."""
        self.check_capacity()
        if job.polls_to_complete is None:
            job.polls_to_complete = self.polls_to_complete
        job.order = order
        self.queued.append(job)
        self.refresh()

    async def status_read(self, job: Job, *, wait: float = 30.0) -> None:
        """Count a status read of `job` and refresh; the read that completes a polls(n) job waits
        (at most `wait` s) for the job's real compute, so that read reports the terminal state."""
        job.status_reads += 1
        self.refresh()
        polled_out = job.polls_to_complete is not None and job.status_reads >= job.polls_to_complete
        if polled_out and not job.finished.is_set():
            if self.await_compute is not None:
                await self.await_compute(job, wait)
                self.refresh()
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(job.finished.wait(), timeout=wait)

    def refresh(self) -> None:
        """Bring every job's emulated state up to the clock's now."""
        if not self.running and not self.queued:  # nothing moves (most polls: of a finished job)
            return
        now = self.clock.now()
        for job in list(self.running):
            self._advance(job, now)
        while self.queued and len(self.running) < self.concurrency:
            self._start(self.queued.popleft(), now)

    def _start(self, job: Job, now: float) -> None:
        job.status = JobStatus.RUNNING
        job.started_at = now
        self.running.append(job)
        ctx = JobContext(job, self.refresh)
        self._contexts[job.id] = ctx
        job.started.set()
        self._emit(job)
        order, job.order = job.order, None
        assert order is not None, f"job {job.id} was queued without a render order"
        self._runner.start(ctx, order, self.refresh, self._settle)

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
        self.running.remove(job)
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
        self.queued.clear()
