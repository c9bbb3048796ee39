"""A render worker for Redis state (`avatar-emulator worker --state redis://...`, or `serve
--render-workers N`): it takes render orders from the `renders` stream and runs them in this
machine's worker processes.

While a render runs, its worker reports to the job's `c:T:J` hash (progress, media seconds, notes,
a heartbeat every second) and relays each fMP4 fragment, bytes included, to the job's `f:T:J`
stream. When it ends, the outcome goes to the hash, the stream gets an end mark, and the order is
acknowledged. A worker that dies mid-render stops its heartbeat: the tick then fails the job
("its render worker stopped answering"), so no job stays stuck.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from ..jobs import RenderOrder, outcome_of
from ..workers import WorkerPool
from .records import pickled, unpickled
from .redis_store import RENDERS, STREAM_KEEP_S, WORKERS_GROUP, connect, decoded, job_key, text

log = logging.getLogger("avatar_emulator")

BEAT_S = 1.0
OUTAGE_PAUSE_S = 1.0
PROGRESS_STEP = 0.02


async def ensure_group(r: aioredis.Redis) -> None:
    """The `workers` consumer group of the `renders` stream (from its start: no order is missed)."""
    with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
        await r.xgroup_create(RENDERS, WORKERS_GROUP, id="0", mkstream=True)


async def through_outages(write: Callable[[], Awaitable[Any]], what: str) -> None:
    """Run `write` until Redis takes it: a render's reports wait out a Redis restart, never get lost."""
    while True:
        try:
            await write()
            return
        except RedisError as exc:
            log.warning("could not write %s (%s); trying again in %g s", what, exc, OUTAGE_PAUSE_S)
            await asyncio.sleep(OUTAGE_PAUSE_S)


class RenderService:
    """Takes render orders and runs up to `pool.size` of them at once in `pool`."""

    def __init__(self, url: str, pool: WorkerPool, *, name: str | None = None) -> None:
        self.url = url
        self.pool = pool
        self.name = name or f"{socket.gethostname()}-{os.getpid()}"
        self.rendered = 0

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Serve orders until `stop` is set (or forever)."""
        r = connect(self.url)
        await ensure_group(r)
        slots = asyncio.Semaphore(self.pool.size)
        running: set[asyncio.Task[None]] = set()
        try:
            while stop is None or not stop.is_set():
                await slots.acquire()
                try:
                    answer: Any = await r.xreadgroup(WORKERS_GROUP, self.name, {RENDERS: ">"}, count=1, block=500)
                except RedisError as exc:  # Redis restarting: wait for it, never die of it
                    slots.release()
                    log.warning("worker %s: Redis did not answer (%s); waiting", self.name, exc)
                    await asyncio.sleep(OUTAGE_PAUSE_S)
                    with contextlib.suppress(RedisError):
                        await ensure_group(r)
                    continue
                except BaseException:
                    slots.release()
                    raise
                entries = [entry for _, stream in answer or [] for entry in stream]
                if not entries:
                    slots.release()
                    continue
                for entry_id, fields in entries:
                    task = asyncio.ensure_future(self._render(r, text(entry_id), decoded(fields), slots))
                    running.add(task)
                    task.add_done_callback(running.discard)
        finally:
            for task in running:
                task.cancel()
            await r.aclose()

    async def _render(self, r: aioredis.Redis, entry_id: str, fields: dict[str, bytes],
                      slots: asyncio.Semaphore) -> None:  # fmt: skip
        tenant, job_id = text(fields["t"]), text(fields["j"])
        report, stream = job_key("c", tenant, job_id), job_key("f", tenant, job_id)
        try:
            order: RenderOrder = unpickled(text(fields["o"]))
            await r.hset(report, mapping={"beat": time.time(), "worker": self.name})
            beat = asyncio.ensure_future(self._beat(r, report))
            relay = _Relay(r, report, stream, order.live_file)
            raised: BaseException | None = None
            result: Any = None
            try:
                result = await self.pool.run(order.task, *order.args, crash=order.crash, on_event=relay.event)
            except Exception as exc:  # every way a render ends is reported to its job
                raised = exc
            finally:
                beat.cancel()
            await relay.drain()
            outcome = outcome_of(raised, result)
            if outcome.bug is not None:
                log.error("render %s/%s failed inside the emulator:\n%s", tenant, job_id, outcome.bug)
            done: dict[Any, Any] = {"done": "1", "beat": time.time()}
            if outcome.error is not None:
                done["error"] = outcome.error
            if outcome.details:
                done["details"] = json.dumps(outcome.details, default=str)
            if outcome.result is not None:
                done["result"] = pickled(outcome.result)
            await self._report_end(r, report, stream, entry_id, done)
            for path in order.inputs:
                Path(path).unlink(missing_ok=True)
            self.rendered += 1
        finally:
            slots.release()

    async def _report_end(self, r: aioredis.Redis, report: str, stream: str, entry_id: str,
                          done: dict[Any, Any]) -> None:  # fmt: skip
        async def write() -> None:
            async with r.pipeline(transaction=False) as pipe:
                pipe.hset(report, mapping={**done, "beat": time.time()})
                pipe.xadd(stream, {"end": "1"})
                pipe.expire(stream, STREAM_KEEP_S)
                pipe.xack(RENDERS, WORKERS_GROUP, entry_id)
                await pipe.execute()

        await through_outages(write, f"the outcome of {report}")

    @staticmethod
    async def _beat(r: aioredis.Redis, report: str) -> None:
        while True:
            await asyncio.sleep(BEAT_S)
            with contextlib.suppress(RedisError):  # a missed beat is no harm; a dead worker misses them all
                await r.hset(report, "beat", time.time())


class _Relay:
    """Turns a render task's events into writes to its job's report hash and fragment stream."""

    def __init__(self, r: aioredis.Redis, report: str, stream: str, live_file: str | None) -> None:
        self.r, self.report, self.stream, self.live_file = r, report, stream, live_file
        self.notes: list[str] = []
        self.sent_progress = -1.0
        self.offset = 0
        self.index = 0
        self._queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._writer = asyncio.ensure_future(self._write())

    def event(self, event: dict[str, Any]) -> None:
        self._queue.put_nowait(event)

    async def drain(self) -> None:
        self._queue.put_nowait(None)
        await self._writer

    async def _write(self) -> None:
        while (event := await self._queue.get()) is not None:
            fields: dict[Any, Any] = {}
            if "media_seconds" in event:
                fields["media_seconds"] = float(event["media_seconds"])
            if "progress" in event and (float(event["progress"]) - self.sent_progress >= PROGRESS_STEP
                                        or float(event["progress"]) >= 1.0):
                self.sent_progress = float(event["progress"])
                fields["progress"] = self.sent_progress
            if "note" in event:
                self.notes.append(str(event["note"]))
                fields["notes"] = json.dumps(self.notes)
            if fields:
                await through_outages(partial(self.r.hset, self.report, mapping=fields), f"the report {self.report}")
            if self.live_file is not None and event.get("fragments"):
                with open(self.live_file, "rb") as handle:  # the bytes the render just wrote
                    handle.seek(self.offset)
                    for end_offset, media_end in event["fragments"]:
                        data = handle.read(int(end_offset) - self.offset)
                        self.offset = int(end_offset)
                        entry: dict[Any, Any] = {"i": self.index, "m": float(media_end), "d": data}
                        await through_outages(partial(self.r.xadd, self.stream, entry),
                                              f"a fragment of {self.stream}")
                        self.index += 1
