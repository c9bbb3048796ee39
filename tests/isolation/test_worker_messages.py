"""Messages between the server and its workers arrive whole, whatever their size and whichever
event loop reads them (uvloop, which `serve` uses, makes polled descriptors non-blocking)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
import uvloop

from mockserver.core.workers import TaskContext, WorkerPool

MEGABYTE = 1 << 20


def big_events_and_result(ctx: TaskContext, count: int) -> bytes:
    for index in range(count):
        ctx.emit(chunk=bytes([index]) * (4 * MEGABYTE))
    return b"r" * (8 * MEGABYTE)


async def run_in_a_worker() -> tuple[list[int], int]:
    pool = WorkerPool("test-messages", 1)
    sizes: list[int] = []
    try:
        result = await pool.run(big_events_and_result, 5, on_event=lambda event: sizes.append(len(event["chunk"])))
        return sizes, len(result)
    finally:
        pool.close()


@pytest.mark.parametrize("loop_factory", [asyncio.new_event_loop, uvloop.new_event_loop], ids=["asyncio", "uvloop"])
def test_large_events_and_results_arrive_whole(loop_factory: Callable[[], asyncio.AbstractEventLoop]) -> None:
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        sizes, result = runner.run(run_in_a_worker())
    assert sizes == [4 * MEGABYTE] * 5
    assert result == 8 * MEGABYTE
