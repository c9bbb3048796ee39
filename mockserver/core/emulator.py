"""The runtime state one emulator process shares across requests: no provider and no HTTP here."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .jobs import ComputeRunner
from .persistence import Persistence, Restorer
from .retention import Retention
from .settings import Settings
from .storage import MediaStore
from .tenants import Tenant, TenantRegistry
from .workers import Workers

TICK_SECONDS = 0.05


@dataclass
class Failure:
    """An unexpected exception inside the emulator, kept for the test harness to re-raise."""

    tenant: str
    where: str
    traceback: str


class Emulator:
    """Settings, the media store, the tenants, the worker processes, persistence and retention, and
    the failures seen. `worker_modules` are imported once by the workers' fork server (the modules
    that hold the tasks the providers send)."""

    def __init__(self, settings: Settings, *, worker_modules: Sequence[str] = ()) -> None:
        self.settings = settings
        self.workers = Workers(settings, worker_modules)
        self.store = MediaStore(settings.data_dir)
        self.tenants = TenantRegistry(settings, self.store, ComputeRunner(self.workers.render))
        self.failures: list[Failure] = []
        self.persistence = Persistence(settings.data_dir) if settings.data_dir is not None else None
        self.retention = Retention(
            self.tenants, retain_seconds=settings.retain_seconds, max_bytes=settings.max_media_bytes
        )

    def restore(self, restorers: Mapping[str, Restorer]) -> int:
        """With a data dir: read the stored jobs back (each provider's restorer rebuilds what it keeps
        beyond the job) and persist every later change. Returns how many jobs came back."""
        if self.persistence is None:
            return 0
        return self.persistence.attach(self.tenants, restorers)

    def tenant(self, name: str | None) -> Tenant:
        return self.tenants.get(name)

    def record_failure(self, tenant: str, where: str, traceback: str) -> None:
        self.failures.append(Failure(tenant, where, traceback))

    async def tick(self) -> None:
        """Advance every tenant's jobs to its clock and sweep retention, forever (a background task)."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            self.tenants.refresh_all()
            self.retention.maybe_sweep()

    def close(self) -> None:
        self.tenants.close()
        self.workers.close()
        self.retention.unlink_due(force=True)
        self.store.close()
        if self.persistence is not None:
            self.persistence.close()
