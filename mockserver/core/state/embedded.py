"""Embedded state: every tenant lives in this process's memory (jobs also in SQLite with --data-dir)."""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from ..jobs import Job
from ..tenants import Tenant
from .base import DEFAULT_TENANT, LiveJob, RecordLog, Tenants


class MemoryLog(RecordLog):
    def __init__(self, limit: int) -> None:
        self.records: deque[dict[str, Any]] = deque(maxlen=max(1, limit))
        self._seq = itertools.count(1)

    def append(self, record: dict[str, Any]) -> None:
        self.records.append({**record, "seq": next(self._seq)})

    async def items(self) -> list[dict[str, Any]]:
        return list(self.records)

    async def clear(self) -> None:
        self.records.clear()


class EmbeddedLive(LiveJob):
    def __init__(self, tenant: Tenant, job: Job) -> None:
        self.tenant, self.job = tenant, job

    async def wait_started(self) -> float:
        await self.job.started.wait()
        assert self.job.started_at is not None
        return self.job.started_at

    async def follow(self) -> AsyncGenerator[tuple[int, float, bytes], None]:
        fragments = self.job.fragments
        assert fragments is not None
        async for index, mark, data in fragments.follow():
            yield index, mark.media_end, data

    async def sleep_until(self, when: float) -> None:
        await self.tenant.clock.sleep_until(when)

    def media_time_at(self, media_seconds: float) -> float:
        return self.tenant.pacing.media_time_at(media_seconds)


class EmbeddedTenants(Tenants):
    """Tenants as live objects in this process; sessions hand them out as they are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._tenants: dict[str, Tenant] = {}
        self._logs: dict[tuple[str, str], MemoryLog] = {}
        self.on_new_tenant: list[Callable[[Tenant], None]] = []
        self.on_drop: list[Callable[[str], None]] = []

    def get(self, name: str | None) -> Tenant:
        """The tenant `name` (made on first use), outside any session: embedded state only."""
        name = name or DEFAULT_TENANT
        tenant = self._tenants.get(name)
        if tenant is None:
            tenant = self._tenants[name] = Tenant(name, self.settings, self.runner, self.store, self.hooks)
            for hook in self.on_new_tenant:
                hook(tenant)
        return tenant

    def at_hand(self, name: str | None) -> Tenant:
        return self.get(name)

    @asynccontextmanager
    async def session(self, name: str | None, *, jobs: Iterable[str] = (), all_jobs: bool = False,
                      read_only: bool = False) -> AsyncIterator[Tenant]:  # fmt: skip
        yield self.get(name)

    def tenant_names(self) -> list[str]:
        return list(self._tenants)

    async def names(self) -> list[str]:
        return self.tenant_names()

    async def exists(self, name: str) -> bool:
        return name in self._tenants

    async def drop(self, name: str) -> None:
        tenant = self._tenants.pop(name, None)
        if tenant is not None:
            tenant.close()
            self.store.drop_tenant(name)
        for key in [key for key in self._logs if key[0] == name]:
            del self._logs[key]
        for hook in self.on_drop:
            hook(name)

    async def refresh_all(self) -> None:
        for tenant in list(self._tenants.values()):
            tenant.refresh()

    async def sleep_until(self, name: str, when: float) -> None:
        await self.get(name).clock.sleep_until(when)

    def log(self, name: str, kind: str, limit: int) -> RecordLog:
        key = (name, kind)
        if key not in self._logs:
            self._logs[key] = MemoryLog(limit)
        return self._logs[key]

    def live(self, tenant: Tenant, job_id: str) -> LiveJob:
        return EmbeddedLive(tenant, tenant.jobs[job_id])

    def close(self) -> None:
        for tenant in self._tenants.values():
            tenant.close()
        super().close()
