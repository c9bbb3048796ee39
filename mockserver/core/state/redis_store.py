"""Redis state (`serve --state redis://HOST:PORT/DB`): many front-ends and render workers share it.

Keys (all under the prefix `ae:`):
- `tenants` (set), `active` (set: tenants with queued or running jobs), `leader` (the tick's owner);
- per tenant T: `s:T` its snapshot (records.tenant_snapshot), `k:T` its clock and pace (what
  streams and sleepers read), `j:T` (hash: job id -> record), `l:T` the session lock, `log:T:KIND`
  and `seq:T:KIND` its record logs (journal, failures);
- per job J: `c:T:J` (hash) what its render worker reports (progress, media seconds, notes,
  heartbeat, outcome), `f:T:J` (stream) its fMP4 fragments, bytes included;
- `renders` (stream, consumer group `workers`): render orders for `avatar-emulator worker`.

A session holds the tenant's lock (renewed while it lasts), loads the snapshot, the pooled jobs
and the jobs it names, merges what workers reported, and saves what changed. Media files live on
a volume every process mounts at the same `--data-dir`; live fragments travel through Redis.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError

from ..clock import Clock
from ..fragments import FragmentLog
from ..jobs import Job, JobContext, JobStatus, RenderOrder, Settle
from ..pacing import Pacing
from ..tenants import Tenant
from .base import DEFAULT_TENANT, LiveJob, RecordLog, StateUnavailable, Tenants
from .records import apply_snapshot, job_from_record, job_record, pickled, pooled_jobs, tenant_snapshot, unpickled

log = logging.getLogger("avatar_emulator")

PREFIX = "ae:"
RENDERS = PREFIX + "renders"
WORKERS_GROUP = "workers"
LOCK_TTL_MS = 15_000
LEADER_TTL_MS = 2_000
POLL_S = 0.02
LOG_BATCH = 200
STREAM_KEEP_S = 3600
"""Fragment streams stay this long after their render ends (late readers, dashboards)."""

_UNLOCK = """if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"""
_RENEW = """if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2])
else return 0 end"""
_LEAD = """local owner = redis.call('GET', KEYS[1])
if owner == false or owner == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0"""
_APPEND = """local n = redis.call('INCR', KEYS[2])
redis.call('RPUSH', KEYS[1], n .. '|' .. ARGV[1])
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
return n"""


def text(value: bytes | str) -> str:
    """A Redis reply as text (the client answers bytes)."""
    return value.decode() if isinstance(value, bytes) else value


def as_bytes(value: bytes | str) -> bytes:
    return value if isinstance(value, bytes) else value.encode()


def decoded(report: dict[Any, Any]) -> dict[str, bytes]:
    """A hash reply with text keys and bytes values."""
    return {text(key): as_bytes(value) for key, value in report.items()}


def tenant_key(kind: str, tenant: str) -> str:
    return f"{PREFIX}{kind}:{tenant}"


def job_key(kind: str, tenant: str, job_id: str) -> str:
    return f"{PREFIX}{kind}:{tenant}:{job_id}"


RECONNECT = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=12)
"""A command that loses its connection (Redis restarting, or loading its append-only file) is
retried for about 8 s before the error reaches the caller."""


def shown(url: str) -> str:
    """`url` without its credentials, fit for messages."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{parts.hostname or ''}{port}").geturl()


def connect(url: str) -> aioredis.Redis:
    """A client for `url` (redis://HOST:PORT/DB); bytes in, bytes out."""
    return aioredis.Redis.from_url(url, decode_responses=False, health_check_interval=30, retry=RECONNECT)


class Dispatch:
    """The Runner of one Redis session: orders for started jobs go to the `renders` stream once the
    session is saved (a render worker anywhere takes them)."""

    def __init__(self) -> None:
        self.orders: list[tuple[str, str, RenderOrder]] = []

    def start(self, ctx: JobContext, order: RenderOrder, done: Callable[[], None], settle: Settle) -> None:
        self.orders.append((ctx.job.tenant, ctx.job.id, order))

    def shutdown(self) -> None:
        pass


class RedisLog(RecordLog):
    """A tenant's record log in a Redis list; appends are written in order by the store's writer."""

    def __init__(self, tenants: RedisTenants, key: str, seq_key: str, limit: int) -> None:
        self.tenants, self.key, self.seq_key, self.limit = tenants, key, seq_key, max(1, limit)
        self._last: asyncio.Future[None] | None = None

    def append(self, record: dict[str, Any]) -> None:
        self._last = self.tenants.write_log(self, json.dumps(record, default=str))

    async def flush(self) -> None:
        if self._last is not None:
            await asyncio.shield(self._last)

    async def items(self) -> list[dict[str, Any]]:
        await self.flush()
        out = []
        with self.tenants.reachable():
            raws = await (await self.tenants.client()).lrange(self.key, 0, -1)
        for raw in raws:
            seq, _, body = text(raw).partition("|")
            out.append({**json.loads(body), "seq": int(seq)})
        return out

    async def clear(self) -> None:
        await self.flush()
        with self.tenants.reachable():
            await (await self.tenants.client()).delete(self.key)


class RedisLive(LiveJob):
    """A job followed through Redis: its record for the start, its fragment stream for the bytes."""

    def __init__(self, tenants: RedisTenants, tenant: str, job_id: str) -> None:
        self.tenants, self.tenant, self.job_id = tenants, tenant, job_id
        self._pacing = Pacing("fast")

    async def wait_started(self) -> float:
        r = await self.tenants.client()
        while True:
            raw = await r.hget(tenant_key("j", self.tenant), self.job_id)
            if raw is None:
                raise LookupError(f"job {self.job_id} of tenant {self.tenant} is gone")
            record = json.loads(raw)
            if record["status"] != JobStatus.QUEUED.value and record["started_at"] is not None:
                return float(record["started_at"])
            await asyncio.sleep(POLL_S)

    async def follow(self) -> AsyncGenerator[tuple[int, float, bytes], None]:
        r = await self.tenants.client()
        key, last = job_key("f", self.tenant, self.job_id), "0-0"
        while True:
            answer: Any = await r.xread({key: last}, block=1000, count=64)
            for _, entries in answer or []:
                for entry_id, fields in entries:
                    last = text(entry_id)
                    entry = decoded(fields)
                    if entry.get("end"):
                        return
                    yield int(entry["i"]), float(entry["m"]), entry["d"]

    async def sleep_until(self, when: float) -> None:
        await self.tenants.sleep_until(self.tenant, when)

    def media_time_at(self, media_seconds: float) -> float:
        return self._pacing.media_time_at(media_seconds)

    async def load_pace(self) -> None:
        _, pacing = await self.tenants.clock_of(self.tenant)
        self._pacing = pacing


class RedisTenants(Tenants):
    """Tenants in Redis, shared by every front-end and render worker that names the same database."""

    shared = True

    def __init__(self, settings: Any, store: Any, url: str) -> None:
        super().__init__(settings, store, Dispatch())
        self.url = url
        self._client: aioredis.Redis | None = None
        self._logs: dict[tuple[str, str], RedisLog] = {}
        self._writes: asyncio.Queue[tuple[RedisLog, str, asyncio.Future[None]]] | None = None
        self._writer: asyncio.Task[None] | None = None
        self._me = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._outage_at = -float("inf")

    async def client(self) -> aioredis.Redis:
        if self._client is None:
            self._client = connect(self.url)
        return self._client

    @contextmanager
    def reachable(self) -> Iterator[None]:
        """Turn a Redis that does not answer into `StateUnavailable` (503 to the caller)."""
        try:
            yield
        except RedisError as exc:
            self._outage_at = time.monotonic()
            raise StateUnavailable(f"Redis at {shown(self.url)} did not answer: {exc}") from exc

    # --- sessions -------------------------------------------------------------------------------

    @asynccontextmanager
    async def session(self, name: str | None, *, jobs: Iterable[str] = (), all_jobs: bool = False,
                      read_only: bool = False) -> AsyncIterator[Tenant]:  # fmt: skip
        name = name or DEFAULT_TENANT
        with self.reachable():
            async with self._session(name, jobs, all_jobs, read_only) as tenant:
                yield tenant

    @asynccontextmanager
    async def _session(self, name: str, jobs: Iterable[str], all_jobs: bool, read_only: bool) -> AsyncIterator[Tenant]:
        r = await self.client()
        if read_only:
            yield await self._peek(r, name, list(dict.fromkeys(jobs)))
            return
        lock, token = tenant_key("l", name), secrets.token_hex(8)
        await self._acquire(r, lock, token)
        keeper = asyncio.ensure_future(self._keep(r, lock, token))
        dispatch = Dispatch()
        try:
            tenant, loaded = await self._load(r, name, dispatch, set(jobs), all_jobs)
            try:
                yield tenant
            finally:
                await self._save(r, tenant, loaded)
        finally:
            keeper.cancel()
            await r.eval(_UNLOCK, 1, lock, token)
        if dispatch.orders:
            async with r.pipeline(transaction=False) as pipe:
                for tenant_name, job_id, order in dispatch.orders:
                    pipe.xadd(RENDERS, {"t": tenant_name, "j": job_id, "o": pickled(order) or ""})
                await pipe.execute()

    async def _peek(self, r: aioredis.Redis, name: str, ids: list[str]) -> Tenant:
        """A read-only tenant in one round trip: the snapshot and the named jobs, no lock."""
        async with r.pipeline(transaction=False) as pipe:
            pipe.get(tenant_key("s", name))
            if ids:
                pipe.hmget(tenant_key("j", name), ids)
            answers = await pipe.execute()
        records = {job_id: as_bytes(raw) for job_id, raw in zip(ids, answers[1] if ids else [], strict=True) if raw}
        tenant = self._build(name, Dispatch(), records, json.loads(answers[0]) if answers[0] else None)
        tenant.read_only = True
        return tenant

    def _build(self, name: str, dispatch: Dispatch, records: dict[str, bytes],
               snapshot: dict[str, Any] | None) -> Tenant:  # fmt: skip
        tenant = Tenant(name, self.settings, dispatch, self.store, self.hooks)
        loop = asyncio.get_running_loop()
        for job_id, raw in records.items():
            record = json.loads(raw)
            job = job_from_record(record, self.store.root)
            if record["fmp4"]:
                job.fragments = FragmentLog(self.store.root / record["fmp4"], loop)
            tenant.jobs[job_id] = job
        if snapshot is not None:
            apply_snapshot(tenant, snapshot)
        return tenant

    async def _acquire(self, r: aioredis.Redis, lock: str, token: str) -> None:
        delay = 0.001
        deadline = time.monotonic() + LOCK_TTL_MS / 1000 * 2
        while not await r.set(lock, token, nx=True, px=LOCK_TTL_MS):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the tenant lock {lock} was held too long")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.02)

    async def _keep(self, r: aioredis.Redis, lock: str, token: str) -> None:
        while True:
            await asyncio.sleep(LOCK_TTL_MS / 3000)
            await r.eval(_RENEW, 1, lock, token, LOCK_TTL_MS)

    async def _load(self, r: aioredis.Redis, name: str, dispatch: Dispatch, named: set[str],
                    all_jobs: bool) -> tuple[Tenant, dict[str, bytes]]:  # fmt: skip
        raw_snapshot = await r.get(tenant_key("s", name))
        snapshot = json.loads(raw_snapshot) if raw_snapshot else None
        wanted = [*pooled_jobs(snapshot or {}), *named]
        records: dict[str, bytes] = {}
        if all_jobs:
            records = decoded(await r.hgetall(tenant_key("j", name)))
        elif wanted:
            ids = list(dict.fromkeys(wanted))
            for job_id, value in zip(ids, await r.hmget(tenant_key("j", name), ids), strict=True):
                if value is not None:
                    records[job_id] = as_bytes(value)
        tenant = self._build(name, dispatch, records, snapshot)
        for pool in tenant.pools.values():
            pool.await_compute = lambda job, wait: self._await_compute(r, job, wait)
        await self._merge_renders(r, tenant, [job for job in tenant.jobs.values() if not job.compute.done
                                              and job.status is JobStatus.RUNNING])
        return tenant, records

    async def _merge_renders(self, r: aioredis.Redis, tenant: Tenant, running: list[Job]) -> None:
        """Bring what render workers reported into the running jobs; settle the ones that ended."""
        if not running:
            return
        async with r.pipeline(transaction=False) as pipe:
            for job in running:
                pipe.hgetall(job_key("c", tenant.name, job.id))
            reports = await pipe.execute()
        for job, raw in zip(running, reports, strict=True):
            report = decoded(raw)
            merge_report(job, report)
            silence = self.settings.worker_silence_s
            # After a Redis outage, workers had no way to beat: judge them again once they could.
            judged = time.monotonic() - self._outage_at > silence + 2
            if not job.compute.done and judged and _silent(report, silence):
                job.compute.done = True
                job.compute.error = ("the render failed: its render worker stopped answering "
                                     f"for {silence:g} s (it died?); create the video again")
                await r.hset(job_key("c", tenant.name, job.id), mapping={"done": "1", "error": job.compute.error})
            if job.compute.done and not job.compute.settled:
                self.hooks.settled(tenant, job)

    async def _await_compute(self, r: aioredis.Redis, job: Job, wait: float) -> None:
        deadline = time.monotonic() + wait
        while not job.compute.done and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            merge_report(job, decoded(await r.hgetall(job_key("c", job.tenant, job.id))))

    async def _save(self, r: aioredis.Redis, tenant: Tenant, loaded: dict[str, bytes]) -> None:
        snapshot = tenant_snapshot(tenant)
        changed: dict[Any, Any] = {}
        for job_id, job in tenant.jobs.items():
            raw = json.dumps(job_record(job, self.store.root), default=str).encode()
            if loaded.get(job_id) != raw:
                changed[job_id] = raw
        active = any(pool.active for pool in tenant.pools.values())
        async with r.pipeline(transaction=False) as pipe:
            pipe.set(tenant_key("s", tenant.name), json.dumps(snapshot, default=str))
            pipe.set(tenant_key("k", tenant.name), json.dumps({"clock": snapshot["clock"], "pace": snapshot["pace"]}))
            if changed:
                pipe.hset(tenant_key("j", tenant.name), mapping=changed)
            pipe.sadd(PREFIX + "tenants", tenant.name)
            (pipe.sadd if active else pipe.srem)(PREFIX + "active", tenant.name)
            await pipe.execute()

    # --- the rest of the interface ----------------------------------------------------------------

    async def names(self) -> list[str]:
        with self.reachable():
            return sorted(text(name) for name in await (await self.client()).smembers(PREFIX + "tenants"))

    async def exists(self, name: str) -> bool:
        with self.reachable():
            return bool(await (await self.client()).sismember(PREFIX + "tenants", name))

    async def drop(self, name: str) -> None:
        with self.reachable():
            await self._drop(name)

    async def _drop(self, name: str) -> None:
        r = await self.client()
        job_ids = [text(key) for key in await r.hkeys(tenant_key("j", name))]
        keys = [tenant_key(kind, name) for kind in ("s", "k", "j")]
        keys += [job_key(kind, name, job_id) for job_id in job_ids for kind in ("c", "f")]
        keys += [f"{PREFIX}{kind}:{name}:{log_kind}" for kind in ("log", "seq") for log_kind in ("journal", "failures")]
        for (tenant, _), log_ in list(self._logs.items()):
            if tenant == name:
                await log_.flush()
        async with r.pipeline(transaction=False) as pipe:
            for start in range(0, len(keys), 500):
                pipe.delete(*keys[start : start + 500])
            pipe.srem(PREFIX + "tenants", name)
            pipe.srem(PREFIX + "active", name)
            await pipe.execute()
        self.store.drop_tenant(name)

    async def refresh_all(self) -> None:
        """The tick: one front-end (the leader of the moment) refreshes the tenants with work."""
        r = await self.client()
        with self.reachable():
            if not await r.eval(_LEAD, 1, PREFIX + "leader", self._me, LEADER_TTL_MS):
                return
            active = await r.smembers(PREFIX + "active")
        for raw in active:
            async with self.session(text(raw)) as tenant:
                tenant.refresh()

    async def clock_of(self, name: str) -> tuple[Clock, Pacing]:
        with self.reachable():
            raw = await (await self.client()).get(tenant_key("k", name))
        if raw is None:
            return Clock(), Pacing(self.settings.pace)
        data = json.loads(raw)
        return Clock.from_record(data["clock"]), Pacing(data["pace"])

    async def sleep_until(self, name: str, when: float) -> None:
        while True:
            clock, _ = await self.clock_of(name)
            wait = clock.seconds_until(when)
            if wait == 0.0:
                return
            await asyncio.sleep(0.25 if wait is None else min(wait, 0.25))

    def log(self, name: str, kind: str, limit: int) -> RecordLog:
        key = (name, kind)
        if key not in self._logs:
            self._logs[key] = RedisLog(self, f"{PREFIX}log:{name}:{kind}", f"{PREFIX}seq:{name}:{kind}", limit)
        return self._logs[key]

    def write_log(self, target: RedisLog, text: str) -> asyncio.Future[None]:
        """Queue one record for the writer (appends go out in the order they were made)."""
        if self._writes is None:
            self._writes = asyncio.Queue()
            self._writer = asyncio.ensure_future(self._write_logs(self._writes))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._writes.put_nowait((target, text, done))
        return done

    async def _write_logs(self, queue: asyncio.Queue[tuple[RedisLog, str, asyncio.Future[None]]]) -> None:
        """Append queued records in order, as many as are waiting in one round trip."""
        r = await self.client()
        while True:
            batch = [await queue.get()]
            while not queue.empty() and len(batch) < LOG_BATCH:
                batch.append(queue.get_nowait())
            try:
                async with r.pipeline(transaction=False) as pipe:
                    for target, record, _ in batch:
                        pipe.eval(_APPEND, 2, target.key, target.seq_key, record, target.limit)
                    await pipe.execute()
            except Exception as exc:  # a lost log record must not stop the others
                log.warning("could not write %d log record(s): %s", len(batch), exc)
            for _, _, done in batch:
                if not done.done():
                    done.set_result(None)

    def live(self, tenant: Tenant, job_id: str) -> LiveJob:
        live = RedisLive(self, tenant.name, job_id)
        live._pacing = tenant.pacing
        return live

    async def aclose(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def merge_report(job: Job, report: dict[str, bytes]) -> None:
    """Apply a render worker's report (the `c:T:J` hash) to its job."""
    if not report:
        return
    compute = job.compute
    if "progress" in report:
        compute.progress = max(compute.progress, float(report["progress"]))
    if "media_seconds" in report:
        job.media_seconds = float(report["media_seconds"])
    if "notes" in report:
        job.log = json.loads(report["notes"])
    if report.get("done") == b"1":
        compute.done = True
        compute.error = report["error"].decode() if report.get("error") else None
        compute.details = json.loads(report["details"]) if report.get("details") else None
        compute.result = unpickled(report["result"].decode()) if report.get("result") else None
        if compute.error is None:
            compute.progress = 1.0


def _silent(report: dict[str, bytes], silence: float) -> bool:
    """Whether the worker that took a render stopped reporting (a render nobody took yet waits)."""
    beat = report.get("beat")
    return beat is not None and time.time() - float(beat) > silence
