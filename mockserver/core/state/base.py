"""The state interface: where tenants live between requests. Two implementations: `embedded`
(this process's memory, optionally --data-dir SQLite) and `redis` (shared by many front-ends and
render workers).

Everything that reads or changes a tenant does it inside a session:

    async with emulator.tenants.session(name, jobs=[video_id]) as tenant:
        ...  # the tenant's clock, pools, jobs, seeded catalogs and slots, as plain objects

Embedded sessions hand out the live objects. Redis sessions hold the tenant's lock, load what the
session needs, and save it back when the block ends, so sessions of one tenant run one after the
other on every front-end (per-tenant ordering).
"""

from __future__ import annotations

import abc
from collections.abc import AsyncGenerator, Iterable
from contextlib import AbstractAsyncContextManager
from typing import Any

from ..jobs import Runner
from ..settings import Settings
from ..storage import MediaStore
from ..tenants import JobHooks, NoHooks, Tenant

DEFAULT_TENANT = "default"


class ReadOnly(Exception):
    """Raised in a read-only session by code that finds it must change the tenant after all: the
    caller runs it again in a full session."""


class StateUnavailable(Exception):
    """The shared state store cannot be reached (Redis down, restarting or loading its data): the
    request answers 503 with Retry-After, and nothing is lost."""


class RecordLog(abc.ABC):
    """A tenant's bounded, append-only list of JSON-able records (journal entries, failures)."""

    @abc.abstractmethod
    def append(self, record: dict[str, Any]) -> None:
        """Add a record, numbered `seq` (1, 2...) in the order of appending. It never waits: a shared
        store writes it in the background, in order."""

    @abc.abstractmethod
    async def items(self) -> list[dict[str, Any]]:
        """The records, oldest first."""

    @abc.abstractmethod
    async def clear(self) -> None: ...


class LiveJob(abc.ABC):
    """A job as a live stream follows it, wherever it renders."""

    @abc.abstractmethod
    async def wait_started(self) -> float:
        """Wait until the job runs; its start on the tenant's clock."""

    @abc.abstractmethod
    def follow(self) -> AsyncGenerator[tuple[int, float, bytes], None]:
        """(index, media seconds covered, bytes) of each fMP4 fragment as it is made (0: the init segment)."""

    @abc.abstractmethod
    async def sleep_until(self, when: float) -> None:
        """Wait until the tenant's clock reads `when`."""

    @abc.abstractmethod
    def media_time_at(self, media_seconds: float) -> float:
        """Emulated seconds after the start at which `media_seconds` of video exist (the tenant's pace)."""


class Tenants(abc.ABC):
    """Where the tenants live. `hooks` (set by the app) hears about job transitions and results."""

    shared: bool = False
    """Whether other processes share this state (then nothing may be kept across sessions)."""

    def __init__(self, settings: Settings, store: MediaStore, runner: Runner) -> None:
        self.settings = settings
        self.store = store
        self.runner = runner
        self.hooks: JobHooks = NoHooks()

    @abc.abstractmethod
    def session(self, name: str | None, *, jobs: Iterable[str] = (), all_jobs: bool = False,
                read_only: bool = False) -> AbstractAsyncContextManager[Tenant]:  # fmt: skip
        """The tenant `name` (made on first use) with its running and queued jobs, the jobs named in
        `jobs` that exist, and every job when `all_jobs`.

        `read_only`: a shared store takes no lock and saves nothing; `tenant.read_only` is then True,
        and code that must change the tenant raises `ReadOnly` (its caller tries again in a full
        session). Only a shared store makes such sessions; others ignore the flag."""

    def at_hand(self, name: str | None) -> Tenant | None:
        """The tenant itself where a session would only hand it over (state in this process's memory),
        else None. Status polls, the hot path, then skip the session's context manager."""
        return None

    @abc.abstractmethod
    async def names(self) -> list[str]: ...

    @abc.abstractmethod
    async def exists(self, name: str) -> bool: ...

    @abc.abstractmethod
    async def drop(self, name: str) -> None:
        """Forget a tenant: its jobs, clock, faults, journal, seeded state and media."""

    @abc.abstractmethod
    async def refresh_all(self) -> None:
        """Bring every tenant with running or queued jobs up to its clock (the emulator's tick)."""

    @abc.abstractmethod
    async def sleep_until(self, name: str, when: float) -> None:
        """Wait until the tenant's clock reads `when` (also when another process moves the clock)."""

    @abc.abstractmethod
    def log(self, name: str, kind: str, limit: int) -> RecordLog:
        """The tenant's `kind` log ("journal", "failures"), keeping the last `limit` records."""

    @abc.abstractmethod
    def live(self, tenant: Tenant, job_id: str) -> LiveJob:
        """A job of `tenant` (from a session) as a live stream follows it after the session."""

    def close(self) -> None:
        self.runner.shutdown()

    async def aclose(self) -> None:  # noqa: B027 - most stores hold nothing open
        """Let go of what the store holds open (connections): on the loop, before `close`."""
