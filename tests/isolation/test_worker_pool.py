"""The pool's bounds: never more worker processes than its size, however tasks and prewarm interleave."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

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


async def a_task_cancelled_while_it_waits_for_a_starting_worker() -> tuple[list[int], int]:
    pool = WorkerPool("test-cancelled-wait", 1)
    release = threading.Event()
    start_worker = pool._start_worker

    def held_start() -> Any:
        release.wait(10)
        return start_worker()

    pool._start_worker = held_start  # type: ignore[method-assign]
    try:
        prewarm = asyncio.create_task(asyncio.to_thread(pool.prewarm, 1))
        while pool._starting == 0:  # prewarm has reserved the pool's one place
            await asyncio.sleep(0.01)
        waiting = asyncio.create_task(pool.run(quick_task, 1))
        await asyncio.sleep(0.1)  # it waits, on a thread, for the worker prewarm is starting
        waiting.cancel()
        release.set()
        await prewarm
        results = []
        for value in (2, 3):  # the cancelled task's thread takes the worker as soon as one is idle
            results.append(await asyncio.wait_for(pool.run(quick_task, value), timeout=15))
            await asyncio.sleep(0.2)
        return results, pool.stats()["workers"]
    finally:
        release.set()
        pool.close()


def test_a_task_cancelled_while_it_waits_for_a_worker_leaves_it_to_the_next() -> None:
    """A client that goes away while its request waits for a worker must not take the worker with it."""
    assert asyncio.run(a_task_cancelled_while_it_waits_for_a_starting_worker()) == ([2, 3], 1)
