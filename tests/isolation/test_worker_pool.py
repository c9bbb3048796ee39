"""The pool's bounds: never more worker processes than its size, however tasks and prewarm interleave."""

from __future__ import annotations

import asyncio

from mockserver.core.workers import TaskContext, WorkerPool


def quick_task(ctx: TaskContext, value: int) -> int:
    return value


async def tasks_while_prewarming(size: int, tasks: int) -> tuple[list[int], int]:
    pool = WorkerPool("test-prewarm", size)
    try:
        prewarm = asyncio.create_task(asyncio.to_thread(pool.prewarm, size))
        results = await asyncio.gather(*(pool.run(quick_task, index) for index in range(tasks)))
        await prewarm
        return list(results), pool.stats()["workers"]
    finally:
        pool.close()


def test_tasks_that_arrive_while_workers_start_never_grow_the_pool_past_its_size() -> None:
    """`serve` prewarms every worker on a thread while the first requests may already want them."""
    results, workers = asyncio.run(tasks_while_prewarming(2, 6))
    assert results == list(range(6))
    assert workers == 2
