"""Tenants and jobs as JSON-able records, for a state store other processes share.

A render order and a render's result are pickled (base64): the store is the emulator's own, and
they hold provider task functions and their dataclasses.
"""

from __future__ import annotations

import base64
import contextlib
import pickle
from collections import deque
from pathlib import Path
from typing import Any

from ..clock import Clock
from ..jobs import Job, JobStatus
from ..pacing import Pacing
from ..seeds import SeededCatalog
from ..tenants import Tenant, TenantSlot


def pickled(value: Any) -> str | None:
    return None if value is None else base64.b64encode(pickle.dumps(value)).decode("ascii")


def unpickled(text: str | None) -> Any:
    return None if text is None else pickle.loads(base64.b64decode(text))  # the emulator's own data, not a user's


def _relative(path: Path, root: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(root))
    return str(path)


def job_record(job: Job, root: Path) -> dict[str, Any]:
    """Everything about a job but its live objects (events, fragment log); paths relative to `root`."""
    compute = job.compute
    return {
        "id": job.id, "tenant": job.tenant, "provider": job.provider, "created_at": job.created_at,
        "params": job.params, "status": job.status.value, "started_at": job.started_at,
        "finished_at": job.finished_at, "media_seconds": job.media_seconds, "progress": job.progress,
        "error": job.error, "forced_error": job.forced_error, "polls_to_complete": job.polls_to_complete,
        "status_reads": job.status_reads, "log": job.log,
        "files": {name: _relative(path, root) for name, path in job.files.items()},
        "fmp4": None if job.fragments is None else _relative(job.fragments.path, root),
        "order": pickled(job.order),
        "compute": {"progress": compute.progress, "done": compute.done, "error": compute.error,
                    "details": compute.details, "result": pickled(compute.result), "settled": compute.settled},
    }  # fmt: skip


def job_from_record(record: dict[str, Any], root: Path) -> Job:
    """The job a record describes; its `fmp4` path stays in the record for the store to attach."""
    job = Job(
        id=record["id"], tenant=record["tenant"], provider=record["provider"], created_at=record["created_at"],
        params=dict(record["params"]), status=JobStatus(record["status"]), started_at=record["started_at"],
        finished_at=record["finished_at"], media_seconds=record["media_seconds"], progress=record["progress"],
        error=record["error"], forced_error=record["forced_error"], polls_to_complete=record["polls_to_complete"],
        status_reads=record["status_reads"], log=list(record["log"]),
        files={name: root / path for name, path in record["files"].items()},
        order=unpickled(record["order"]),
    )  # fmt: skip
    compute = record["compute"]
    job.compute.progress, job.compute.done, job.compute.error = compute["progress"], compute["done"], compute["error"]
    job.compute.details, job.compute.settled = compute["details"], compute["settled"]
    job.compute.result = unpickled(compute["result"])
    if job.status is not JobStatus.QUEUED:
        job.started.set()
    if job.status.terminal:
        job.finished.set()
    return job


def tenant_snapshot(tenant: Tenant) -> dict[str, Any]:
    """A tenant's own state (its jobs apart): clock, pace, progression, ids, seeded catalogs, pools
    (which jobs wait and run) and the slots of the providers and the control plane."""
    return {
        "clock": tenant.clock.record(),
        "pace": tenant.pacing.pace,
        "polls": tenant.polls_to_complete,
        "ids_made": tenant.ids_made,
        "seeded": tenant.seeded.record(),
        "pools": {name: {"concurrency": pool.concurrency, "queue_limit": pool.queue_limit,
                         "queued": [job.id for job in pool.queued], "running": [job.id for job in pool.running]}
                  for name, pool in tenant.pools.items()},
        "slots": {slot.name: slot.dump(value) for slot, value in tenant.slots.items() if slot.dump is not None},
    }  # fmt: skip


def pooled_jobs(snapshot: dict[str, Any]) -> list[str]:
    """The ids of the jobs that wait or run in a snapshot's pools."""
    return [job_id for pool in snapshot.get("pools", {}).values() for job_id in (*pool["queued"], *pool["running"])]


def apply_snapshot(tenant: Tenant, snapshot: dict[str, Any]) -> None:
    """Give a fresh tenant (whose jobs are loaded) the state of a snapshot."""
    tenant.clock = Clock.from_record(snapshot["clock"])
    tenant.pacing = Pacing(snapshot["pace"])
    tenant.polls_to_complete = snapshot["polls"]
    tenant.ids_made = snapshot["ids_made"]
    tenant.seeded = SeededCatalog.from_record(snapshot["seeded"])
    for name, data in snapshot["pools"].items():
        pool = tenant.pool(name, concurrency=data["concurrency"], queue_limit=data["queue_limit"])
        pool.queued = deque(tenant.jobs[job_id] for job_id in data["queued"] if job_id in tenant.jobs)
        pool.running = [tenant.jobs[job_id] for job_id in data["running"] if job_id in tenant.jobs]
    for name, data in snapshot["slots"].items():
        slot = TenantSlot.registry.get(name)
        if slot is not None and slot.load is not None:
            tenant.slots[slot] = slot.load(tenant, data)
