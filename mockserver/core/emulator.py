"""The runtime state one emulator process shares across requests: no provider and no HTTP here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

from .jobs import ComputeRunner
from .persistence import Persistence, Restorer
from .retention import Retention
from .settings import Settings
from .state import EmbeddedTenants, StateUnavailable, Tenants
from .storage import MediaStore
from .workers import Workers

log = logging.getLogger("avatar_emulator")

TICK_SECONDS = 0.05
FAILURES_KEPT = 100


class Emulator:
    """Settings, the media store, the tenants (embedded, or shared through Redis), the worker
    processes, persistence and retention, and the failures seen. `worker_modules` are imported
    once by the workers' fork server (the modules that hold the tasks the providers send)."""

    def __init__(self, settings: Settings, *, worker_modules: Sequence[str] = ()) -> None:
        self.settings = settings
        self.workers = Workers(settings, worker_modules)
        self.store = MediaStore(settings.data_dir)
        self.tenants: Tenants
        self.persistence: Persistence | None = None
        if settings.state:
            from .state.redis_store import RedisTenants

            self.tenants = RedisTenants(settings, self.store, settings.state)
        else:
            self.tenants = EmbeddedTenants(settings, self.store, ComputeRunner(self.workers.render,
                                                                                on_bug=self.record_failure))
            if settings.data_dir is not None:
                self.persistence = Persistence(settings.data_dir)
        self.retention: Retention | None = None
        self._background: set[asyncio.Task[Any]] = set()
        if isinstance(self.tenants, EmbeddedTenants):
            self.retention = Retention(
                self.tenants, retain_seconds=settings.retain_seconds, max_bytes=settings.max_media_bytes
            )

    def restore(self, restorers: Mapping[str, Restorer]) -> int:
        """With a data dir: read the stored jobs back (each provider's restorer rebuilds what it keeps
        beyond the job) and persist every later change. Returns how many jobs came back."""
        if self.persistence is None or not isinstance(self.tenants, EmbeddedTenants):
            return 0
        return self.persistence.attach(self.tenants, restorers)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` in the background (webhook deliveries, input downloads), keeping a reference."""
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def record_failure(self, tenant: str, where: str, traceback: str) -> None:
        """An unexpected exception inside the emulator: kept for the test harness to re-raise."""
        self.tenants.log(tenant, "failures", FAILURES_KEPT).append({"where": where, "traceback": traceback})

    async def tick(self) -> None:
        """Advance every tenant's jobs to its clock and sweep retention, forever (a background task)."""
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                await self.tenants.refresh_all()
            except StateUnavailable as exc:  # Redis restarting: the next tick catches up
                log.warning("the tick skipped: %s", exc)
            except Exception:  # the tick must outlive any one failure
                log.exception("refreshing the tenants failed")
            if self.retention is not None:
                self.retention.maybe_sweep()

    def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        self.tenants.close()
        self.workers.close()
        if self.retention is not None:
            self.retention.unlink_due(force=True)
        self.store.close()
        if self.persistence is not None:
            self.persistence.close()

    def describe(self) -> dict[str, Any]:
        return {"state": "redis" if self.tenants.shared else "embedded", "workers": self.workers.stats()}
