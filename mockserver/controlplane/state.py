"""Inspect and seed a tenant's jobs, avatars and voices."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..jobs import Job, JobStatus
from ..tenants import Tenant
from .faults import RuleError

STATUS_ALIASES = {
    "pending": JobStatus.QUEUED,
    "waiting": JobStatus.QUEUED,
    "in_progress": JobStatus.RUNNING,
    "processing": JobStatus.RUNNING,
    "completed": JobStatus.SUCCEEDED,
}
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {"boson": {"model": "higgs-avatar", "size": "640x640"}}
CATALOG_KINDS = ("avatars", "voices")


class Catalog:
    """Seeded avatars and voices per provider; providers list them beside their built-in ones."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], list[dict[str, Any]]] = {}

    def add(self, provider: str, kind: str, item: dict[str, Any]) -> None:
        self.items.setdefault((provider, kind), []).append(item)

    def describe(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in CATALOG_KINDS}
        for (provider, kind), items in self.items.items():
            out[kind].extend({"provider": provider, **item} for item in items)
        return out


def catalog(tenant: Tenant) -> Catalog:
    return tenant.extension("catalog", lambda _: Catalog())


def seeded(tenant: Tenant, provider: str, kind: str) -> list[dict[str, Any]]:
    """Avatars or voices seeded for `provider` through POST /_emulator/state (providers call this)."""
    return list(catalog(tenant).items.get((provider, kind), []))


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
    return {"tenant": tenant.name, "jobs": jobs, **catalog(tenant).describe()}


def _status(value: object) -> JobStatus:
    if isinstance(value, str):
        if value in STATUS_ALIASES:
            return STATUS_ALIASES[value]
        try:
            return JobStatus(value)
        except ValueError:
            pass
    names = ", ".join([*JobStatus, *STATUS_ALIASES])
    raise RuleError(f"'jobs[].status' must be one of {names}; got {value!r}.")


def seed_job(tenant: Tenant, raw: Mapping[str, Any], providers: list[str]) -> Job:
    """A job record in the given state; it is in no pool, so it stays as seeded."""
    if not isinstance(raw, Mapping):
        raise RuleError("each of 'jobs' must be an object {provider, status, ...}.")
    provider = raw.get("provider")
    if provider not in providers:
        raise RuleError(f"'jobs[].provider' must be one of {', '.join(providers)}; got {provider!r}.")
    status = _status(raw.get("status", "succeeded"))
    job_id = str(raw.get("id") or tenant.new_id("video_" if provider == "boson" else ""))
    if job_id in tenant.jobs:
        raise RuleError(f"a job with id {job_id!r} exists already in tenant {tenant.name!r}.")
    now = tenant.clock.now()
    params = {**DEFAULT_PARAMS.get(str(provider), {}), **dict(raw.get("params") or {})}
    job = Job(id=job_id, tenant=tenant.name, provider=str(provider), created_at=now, params=params, status=status)
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


def seed(tenant: Tenant, body: Mapping[str, Any], providers: list[str]) -> dict[str, Any]:
    """Apply POST /_emulator/state: {jobs: [...], avatars: [...], voices: [...]}."""
    unknown = sorted(set(body) - {"jobs", *CATALOG_KINDS})
    if unknown:
        raise RuleError(f"unknown field(s) {', '.join(map(repr, unknown))}; use jobs, avatars, voices.")
    for kind in CATALOG_KINDS:
        for item in body.get(kind) or []:
            if not isinstance(item, Mapping) or item.get("provider") not in providers:
                raise RuleError(f"each of '{kind}' needs a 'provider' (one of {', '.join(providers)}).")
    created = [job_json(seed_job(tenant, raw, providers)) for raw in body.get("jobs") or []]
    for kind in CATALOG_KINDS:
        for item in body.get(kind) or []:
            rest = {k: v for k, v in item.items() if k != "provider"}
            catalog(tenant).add(str(item["provider"]), kind, rest)
    return {"jobs": created}
