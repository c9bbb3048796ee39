"""Tenants: each gets its own jobs, clock, ids and provider state inside one emulator process.

A request names its tenant with the `X-Emulator-Tenant` header; without it, it uses `default`.
State that only a provider or the control plane knows lives in a `TenantSlot` they own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, ClassVar, Generic, Protocol, TypeVar, cast

from .clock import Clock
from .jobs import Job, JobPool, Listener, Runner
from .pacing import Pacing
from .seeds import SeededCatalog
from .settings import Settings
from .storage import MediaStore

T = TypeVar("T")


class TenantSlot(Generic[T]):
    """A typed place for one kind of per-tenant state, made by `factory` on first use.

    Its owner declares it once (`FAULTS = TenantSlot("faults", FaultBook.for_tenant)`) and reads
    it with `FAULTS.of(tenant)`. A shared state store saves it with `dump` (to JSON-able data) and
    rebuilds it with `load(tenant, data)` (the session's jobs are loaded by then).
    """

    registry: ClassVar[dict[str, TenantSlot[Any]]] = {}
    """Every slot by name (a shared store saves and rebuilds them by name)."""

    def __init__(self, name: str, factory: Callable[[Tenant], T], *, dump: Callable[[T], Any] | None = None,
                 load: Callable[[Tenant, Any], T] | None = None) -> None:  # fmt: skip
        self.name = name
        self._factory = factory
        self.dump = dump
        self.load = load
        TenantSlot.registry[name] = self

    def of(self, tenant: Tenant) -> T:
        slots = tenant.slots
        if self not in slots:
            slots[self] = self._factory(tenant)
        return cast(T, slots[self])

    def __repr__(self) -> str:
        return f"TenantSlot({self.name!r})"


class JobHooks(Protocol):
    """What the layer above (the providers, through the router) does when a job moves."""

    def transitioned(self, tenant: Tenant, job: Job) -> None:
        """`job` changed status (started, finished)."""

    def settled(self, tenant: Tenant, job: Job) -> None:
        """`job`'s render ended (its outcome is on `job.compute`): apply what the provider keeps."""


class NoHooks:
    def transitioned(self, tenant: Tenant, job: Job) -> None:
        pass

    def settled(self, tenant: Tenant, job: Job) -> None:
        pass


class Tenant:
    def __init__(self, name: str, settings: Settings, runner: Runner, store: MediaStore,
                 hooks: JobHooks | None = None) -> None:  # fmt: skip
        self.name = name
        self.settings = settings
        self.store = store
        self.clock = Clock()
        self.pacing = Pacing(settings.pace)
        self.polls_to_complete: int | None = None
        self.jobs: dict[str, Job] = {}
        self.pools: dict[str, JobPool] = {}
        self.pool_listeners: list[Listener] = []
        """Added to every pool this tenant makes (persistence, retention)."""
        self.hooks: JobHooks = hooks or NoHooks()
        self._runner = runner
        self.seeded = SeededCatalog()
        self.slots: dict[TenantSlot[Any], object] = {}
        """Per-tenant state of providers and the control plane (see `TenantSlot`)."""
        self.ids_made = 0
        self.read_only = False
        """A read-only session of a shared store made it: it will not be saved (see `ReadOnly`)."""

    def new_id(self, prefix: str, hex_chars: int = 24) -> str:
        """A new id, the same for the same seed, tenant and position in the sequence."""
        while True:
            self.ids_made += 1
            seed = f"{self.settings.seed}:{self.name}:{self.ids_made}".encode()
            candidate = prefix + hashlib.blake2b(seed, digest_size=(hex_chars + 1) // 2).hexdigest()[:hex_chars]
            if candidate not in self.jobs:
                return candidate

    def pool(self, name: str, *, concurrency: int, queue_limit: int) -> JobPool:
        if name not in self.pools:
            self.pools[name] = JobPool(
                concurrency=concurrency,
                queue_limit=queue_limit,
                clock=self.clock,
                pacing=self.pacing,
                runner=self._runner,
                settle=lambda job: self.hooks.settled(self, job),
            )
            self.pools[name].polls_to_complete = self.polls_to_complete
            self.pools[name].listeners.append(lambda job: self.hooks.transitioned(self, job))
            self.pools[name].listeners.extend(self.pool_listeners)
        return self.pools[name]

    def set_pacing(self, pacing: Pacing) -> None:
        self.pacing = pacing
        for pool in self.pools.values():
            pool.pacing = pacing

    def set_progression(self, polls: int | None) -> None:
        """polls(n): new jobs complete on their n-th status read; None: they follow the clock."""
        self.polls_to_complete = polls
        for pool in self.pools.values():
            pool.polls_to_complete = polls

    def refresh(self) -> None:
        for pool in self.pools.values():
            if pool.active:
                pool.refresh()

    def close(self) -> None:
        for pool in self.pools.values():
            pool.cancel_all()
