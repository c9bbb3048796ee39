"""Inspect and seed a tenant's jobs, avatars and voices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..core.jobs import Job, JobStatus
from ..core.seeds import CATALOG_KINDS
from ..core.tenants import Tenant
from ..http.routing import Provider
from .bodies import RuleError

STATUS_ALIASES = {
    "pending": JobStatus.QUEUED,
    "waiting": JobStatus.QUEUED,
    "in_progress": JobStatus.RUNNING,
    "processing": JobStatus.RUNNING,
    "completed": JobStatus.SUCCEEDED,
}


def job_json(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "provider": job.provider,
        "status": job.status.value,
        "progress": job.progress,
        "error": job.error,
        "forced_error": job.forced_error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "media_seconds": job.media_seconds,
        "status_reads": job.status_reads,
        "polls_to_complete": job.polls_to_complete,
        "log": list(job.log),
        "compute": {"done": job.compute.done, "progress": round(job.compute.progress, 4), "error": job.compute.error},
        "params": {k: v for k, v in job.params.items() if isinstance(v, str | int | float | bool) or v is None},
    }


def describe(tenant: Tenant) -> dict[str, Any]:
    jobs = [job_json(job) for job in tenant.jobs.values()]
    return {"tenant": tenant.name, "jobs": jobs, **tenant.seeded.describe()}


def _status(value: str) -> JobStatus:
    if value in STATUS_ALIASES:
        return STATUS_ALIASES[value]
    try:
        return JobStatus(value)
    except ValueError:
        names = ", ".join([*JobStatus, *STATUS_ALIASES])
        raise RuleError(f"'jobs[].status' must be one of {names}; got {value!r}.") from None


def _provider(name: object, providers: Mapping[str, Provider], what: str) -> Provider:
    if name not in providers:
        raise RuleError(f"'{what}.provider' must be one of {', '.join(providers)}; got {name!r}.")
    return providers[str(name)]


def seed_job(tenant: Tenant, raw: Mapping[str, Any], providers: Mapping[str, Provider]) -> Job:
    """A job record in the given state; it is in no pool, so it stays as seeded."""
    provider = _provider(raw.get("provider"), providers, "jobs[]")
    status = _status(raw.get("status", "succeeded"))
    job_id = str(raw.get("id") or tenant.new_id(provider.id_prefix))
    if job_id in tenant.jobs:
        raise RuleError(f"a job with id {job_id!r} exists already in tenant {tenant.name!r}.")
    now = tenant.clock.now()
    params = {**provider.job_defaults, **dict(raw.get("params") or {})}
    job = Job(id=job_id, tenant=tenant.name, provider=provider.name, created_at=now, params=params, status=status)
    job.media_seconds = raw.get("media_seconds")
    job.compute.done = True
    job.compute.progress = 1.0
    if status is not JobStatus.QUEUED:
        job.started_at = now
        job.started.set()
    job.progress = int(raw.get("progress", 100 if status is JobStatus.SUCCEEDED else 0))
    if status.terminal:
        job.finished_at = now
        job.finished.set()
    if status is JobStatus.FAILED:
        job.error = str(raw.get("error") or "seeded failure")
    job.files = {ext: tenant.store.path(tenant.name, job_id, f".{ext}") for ext in ("mp4", "fmp4")}
    for path in job.files.values():
        path.unlink(missing_ok=True)
    tenant.jobs[job_id] = job
    return job


def seed(tenant: Tenant, body: Mapping[str, Any], providers: Mapping[str, Provider]) -> dict[str, Any]:
    """Apply POST /_emulator/state ({jobs, avatars, voices}, already checked against `Seed`)."""
    for kind in CATALOG_KINDS:
        for item in body.get(kind) or []:
            _provider(item.get("provider"), providers, kind)
    created = [job_json(seed_job(tenant, raw, providers)) for raw in body.get("jobs") or []]
    for kind in CATALOG_KINDS:
        for item in body.get(kind) or []:
            tenant.seeded.add(str(item["provider"]), kind, {k: v for k, v in item.items() if k != "provider"})
    return {"jobs": created}
