"""The shared job machinery on a frozen clock: emulated time is separate from real compute."""

from __future__ import annotations

import asyncio

import pytest

from mockserver.core.clock import Clock
from mockserver.core.jobs import ComputeRunner, Job, JobPool, JobStatus, PoolFull, RenderOrder
from mockserver.core.pacing import Pacing
from mockserver.core.workers import TaskContext, TaskRefused, WorkerPool

POOL = WorkerPool("test-render", 2)
SETTLED: list[str] = []


def make_pool(clock: Clock, pace: str | float = "realtime", concurrency: int = 1, queue: int = 1) -> JobPool:
    return JobPool(concurrency=concurrency, queue_limit=queue, clock=clock, pacing=Pacing(pace),
                   runner=ComputeRunner(POOL), settle=lambda job: SETTLED.append(job.id))


def job(name: str, clock: Clock, seconds: float = 10.0) -> Job:
    return Job(id=name, tenant="t", provider="test", created_at=clock.now(), media_seconds=seconds)


def finish_at_once(ctx: TaskContext) -> None:
    ctx.progress(1.0)


def refuse(ctx: TaskContext) -> None:
    raise TaskRefused("face not detected")


instant = RenderOrder(finish_at_once)


async def settle(pool: JobPool, j: Job) -> None:
    for _ in range(200):
        pool.refresh()
        if j.compute.done:
            return
        await asyncio.sleep(0.01)


def test_frozen_clock_holds_jobs_until_advanced() -> None:
    async def scenario() -> None:
        clock = Clock("frozen")
        pool = make_pool(clock)
        first, second = job("a", clock), job("b", clock)
        pool.submit(first, instant)
        pool.submit(second, instant)
        with pytest.raises(PoolFull) as full:
            pool.submit(job("c", clock), instant)
        assert full.value.retry_after == 12  # 2 s first frame + 10 s of video
        await settle(pool, first)
        assert first.status is JobStatus.RUNNING and second.status is JobStatus.QUEUED
        progress = []
        for _ in range(3):
            clock.advance(3)
            pool.refresh()
            progress.append(first.progress)
        assert progress == sorted(progress) and progress[-1] < 100
        clock.advance(10)
        pool.refresh()
        assert first.status is JobStatus.SUCCEEDED and first.progress == 100
        assert second.status is JobStatus.RUNNING and second.started_at == clock.now()

    asyncio.run(scenario())


def test_polls_mode_and_failures() -> None:
    async def scenario() -> None:
        clock = Clock("frozen")
        pool = make_pool(clock, concurrency=2)
        polled = job("p", clock)
        polled.polls_to_complete = 3
        pool.submit(polled, instant)
        await settle(pool, polled)
        for reads in (1, 2):
            polled.status_reads = reads
            pool.refresh()
            assert polled.status is JobStatus.RUNNING
        polled.status_reads = 3
        pool.refresh()
        assert polled.status is JobStatus.SUCCEEDED

        failing = job("f", clock, seconds=0)
        pool.submit(failing, RenderOrder(refuse))
        await settle(pool, failing)
        clock.advance(5)
        pool.refresh()
        assert failing.status is JobStatus.FAILED and failing.error == "face not detected"
        assert SETTLED[-1] == "f" and failing.compute.settled is False  # the pool's owner settles

    asyncio.run(scenario())


def test_clock_modes() -> None:
    clock = Clock("frozen", start=1000.0)
    assert clock.now() == 1000.0
    clock.advance(90)
    assert clock.now() == 1090.0
    with pytest.raises(ValueError):
        clock.advance(-1)
    clock.set_mode("scaled", scale=100)
    assert clock.seconds_until(clock.now() + 50) == pytest.approx(0.5, rel=0.1)
    frozen = Clock("frozen")
    assert frozen.seconds_until(frozen.now() + 5) is None
