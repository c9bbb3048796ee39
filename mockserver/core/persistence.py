"""Jobs kept on disk with `--data-dir`: one SQLite table, written on create and on every transition.

On startup the table is read back: finished jobs come back as they were (their media still on
disk), and a job that was queued or rendering when the process died comes back `failed`, with
`RESTART_ERROR`, so no client ever polls a job that can no longer finish.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .jobs import Job, JobStatus

if TYPE_CHECKING:
    from .state import EmbeddedTenants
    from .tenants import Tenant

log = logging.getLogger("avatar_emulator")

RESTART_ERROR = "the emulator restarted while this job was rendering; create it again"
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    tenant TEXT NOT NULL,
    id TEXT NOT NULL,
    provider TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    progress INTEGER NOT NULL,
    error TEXT,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    media_seconds REAL,
    files TEXT NOT NULL,
    updated REAL NOT NULL,
    PRIMARY KEY (tenant, id)
)
"""

Restorer = Callable[["Tenant", Job], None]
"""A provider's hook, run for each of its jobs read back at startup (after it is in `tenant.jobs`),
for providers that keep more state than the Job itself (e.g. HeyGen's `Video`)."""


class JobTable(dict[str, Job]):
    """`tenant.jobs` with persistence: every job stored into it is written to the database."""

    def __init__(self, on_store: Callable[[Job], None]) -> None:
        super().__init__()
        self._on_store = on_store

    def __setitem__(self, key: str, job: Job) -> None:
        super().__setitem__(key, job)
        self._on_store(job)

    def restore(self, job: Job) -> None:
        """Put a job read back from disk, without writing it again."""
        super().__setitem__(job.id, job)


class Persistence:
    """The job table of one data dir (WAL mode; every write is one small committed upsert)."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.data_dir / "jobs.sqlite3"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(SCHEMA)
        self.writes = 0

    # --- writing -------------------------------------------------------------------------------

    def _relative(self, path: Path) -> str:
        with contextlib.suppress(ValueError):
            return str(Path(path).resolve().relative_to(self.data_dir.resolve()))
        return str(path)

    def save(self, job: Job) -> None:
        """Upsert `job` as it is now."""
        files = {name: self._relative(path) for name, path in job.files.items()}
        row = (
            job.tenant, job.id, job.provider, json.dumps(job.params, default=str), job.status.value, job.progress,
            job.error, job.created_at, job.started_at, job.finished_at, job.media_seconds, json.dumps(files),
            time.time(),
        )  # fmt: skip
        try:
            self._db.execute("INSERT OR REPLACE INTO jobs VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", row)
        except sqlite3.Error:
            log.exception("could not persist job %s/%s", job.tenant, job.id)
            return
        self.writes += 1

    def drop_tenant(self, tenant: str) -> None:
        self._db.execute("DELETE FROM jobs WHERE tenant = ?", (tenant,))

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    # --- reading back --------------------------------------------------------------------------

    def _job(self, row: sqlite3.Row) -> Job:
        files = {name: self._absolute(path) for name, path in json.loads(row["files"]).items()}
        job = Job(
            id=row["id"],
            tenant=row["tenant"],
            provider=row["provider"],
            created_at=row["created_at"],
            params=json.loads(row["params"]),
            status=JobStatus(row["status"]),
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            media_seconds=row["media_seconds"],
            progress=row["progress"],
            error=row["error"],
            files=files,
        )
        job.compute.done = True
        job.compute.progress = job.progress / 100
        return job

    def _absolute(self, path: str) -> Path:
        candidate = Path(path)
        return candidate if candidate.is_absolute() else self.data_dir / candidate

    def load(self) -> list[Job]:
        """Every stored job; the ones that were not finished are turned `failed` (and saved so)."""
        self._db.row_factory = sqlite3.Row
        rows = self._db.execute("SELECT * FROM jobs ORDER BY created_at, id").fetchall()
        self._db.row_factory = None
        jobs = []
        now = time.time()
        for row in rows:
            try:
                job = self._job(row)
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("skipping unreadable stored job %s/%s: %s", row["tenant"], row["id"], exc)
                continue
            if not job.status.terminal:
                job.status = JobStatus.FAILED
                job.error = RESTART_ERROR
                job.finished_at = now
                job.started_at = job.started_at or now
                for path in job.files.values():  # partial renders are of no use to anyone
                    with contextlib.suppress(OSError):
                        path.unlink()
                self.save(job)
            job.started.set()
            job.finished.set()
            jobs.append(job)
        return jobs

    # --- wiring --------------------------------------------------------------------------------

    def attach(self, tenants: EmbeddedTenants, restorers: Mapping[str, Restorer]) -> int:
        """Restore the stored jobs into `tenants` and persist every later create and transition.

        `restorers` maps a provider's name to its restorer. Returns how many jobs were restored.
        """
        tenants.on_new_tenant.append(self._watch)
        tenants.on_drop.append(self.drop_tenant)
        restored = self.load()
        for job in restored:
            tenant = tenants.get(job.tenant)
            table = tenant.jobs
            if isinstance(table, JobTable):
                table.restore(job)
            else:
                table[job.id] = job
            hook = restorers.get(job.provider)
            if hook is not None:
                try:
                    hook(tenant, job)
                except Exception:
                    log.exception("restoring %s job %s failed", job.provider, job.id)
        return len(restored)

    def _watch(self, tenant: Tenant) -> None:
        table = JobTable(self.save)
        for job in tenant.jobs.values():
            table.restore(job)
        tenant.jobs = table
        tenant.pool_listeners.append(self._on_transition)

    def _on_transition(self, job: Job) -> None:
        self.save(job)


def stored_jobs(data_dir: Path) -> list[dict[str, Any]]:
    """The raw rows of a data dir's job table (for tests and inspection)."""
    path = Path(data_dir) / "jobs.sqlite3"
    if not path.exists():
        return []
    with contextlib.closing(sqlite3.connect(path)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM jobs ORDER BY created_at, id")]
