"""Per-tenant HeyGen state: videos, uploaded assets, webhook endpoints and deliveries, quota.

Reach it with `state_of(tenant)` (the `HEYGEN_STATE` tenant slot); tests and the control plane may
read `deliveries` to see every webhook attempt.
"""

from __future__ import annotations

import base64
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ...core.jobs import Job, JobStatus
from ...core.tenants import Tenant, TenantSlot

INITIAL_QUOTA_SECONDS = 36_000
"""Assumed: every tenant starts with 10 hours (600 credits at 60 quota units each)."""

STATUS = {
    JobStatus.QUEUED: "pending",
    JobStatus.RUNNING: "processing",
    JobStatus.SUCCEEDED: "completed",
    JobStatus.FAILED: "failed",
}


@dataclass
class VideoError:
    code: int
    message: str
    detail: str

    def json(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


@dataclass
class Video:
    """One generated video: its job plus what HeyGen reports about it."""

    job: Job
    created_at: int
    base_url: str
    title: str | None = None
    callback_id: str | None = None
    callback_url: str | None = None
    test: bool = False
    caption_file: bool = False
    caption_video: bool = False
    failure: VideoError | None = None
    duration: float | None = None
    files: dict[str, Path] = field(default_factory=dict)
    legacy: bool = False

    @property
    def id(self) -> str:
        return self.job.id

    @property
    def submitted(self) -> bool:
        """Its inputs are fetched and it is in the pool (kept in `job.params`, so it is saved with the job)."""
        return bool(self.job.params.get("submitted"))

    @submitted.setter
    def submitted(self, value: bool) -> None:
        self.job.params["submitted"] = value

    @property
    def notified(self) -> bool:
        """Its end was charged and its webhooks sent (kept in `job.params`)."""
        return bool(self.job.params.get("notified"))

    @notified.setter
    def notified(self, value: bool) -> None:
        self.job.params["notified"] = value

    @property
    def status(self) -> str:
        if self.failure is not None and (not self.submitted or self.job.status.terminal):
            return "failed"
        if not self.submitted:
            return "waiting"
        return STATUS[self.job.status]

    def error(self) -> VideoError | None:
        if self.status != "failed":
            return None
        if self.failure is not None:
            return self.failure
        return VideoError(400, "Video render failed", self.job.error or "the render failed")


@dataclass
class Asset:
    id: str
    kind: str  # image | video | audio
    mime: str
    path: Path
    created_ts: int
    name: str


@dataclass
class Endpoint:
    endpoint_id: str
    url: str
    secret: str
    events: list[str] | None
    created_at: int
    status: str = "enabled"

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events

    def json(self) -> dict[str, Any]:
        return {
            "endpoint_id": self.endpoint_id,
            "url": self.url,
            "secret": self.secret,
            "status": self.status,
            "events": self.events,
            "username": "emulator",
            "created_at": self.created_at,
        }


@dataclass
class Delivery:
    """One webhook POST attempt and its outcome."""

    target: str  # an endpoint_id, or "callback_url"
    url: str
    event_type: str
    video_id: str
    attempt: int
    at: float
    status_code: int | None
    error: str | None
    signed: bool

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass
class HeyGenState:
    tenant: Tenant
    videos: dict[str, Video] = field(default_factory=dict)
    assets: dict[str, Asset] = field(default_factory=dict)
    endpoints: dict[str, Endpoint] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    remaining_quota: int = INITIAL_QUOTA_SECONDS


VIDEO_FIELDS = ("created_at", "base_url", "title", "callback_id", "callback_url", "test", "caption_file",
                "caption_video", "legacy")  # fmt: skip
"""What a Video knows beyond its Job, kept in `job.params` (submitted and notified are kept there too)."""
DELIVERIES_KEPT = 500


def video_of(job: Job) -> Video:
    """The Video a job's params describe (how a session that loads the job rebuilds it)."""
    fields = {name: job.params[name] for name in VIDEO_FIELDS if name in job.params}
    video = Video(job=job, **fields)
    if "failure" in job.params:
        video.failure = VideoError(**job.params["failure"])
    video.duration = job.media_seconds if job.status is JobStatus.SUCCEEDED else None
    video.files = job.files
    return video


def _dump(state: HeyGenState) -> dict[str, Any]:
    """Everything but the videos (they are rebuilt from their jobs), for a shared state store."""
    root = state.tenant.store.root
    return {
        "assets": {a.id: {"kind": a.kind, "mime": a.mime, "path": str(a.path.relative_to(root)),
                          "created_ts": a.created_ts, "name": a.name} for a in state.assets.values()},
        "endpoints": {e.endpoint_id: asdict(e) for e in state.endpoints.values()},
        "deliveries": [asdict(d) for d in state.deliveries[-DELIVERIES_KEPT:]],
        "quota": state.remaining_quota,
    }  # fmt: skip


def _load(tenant: Tenant, data: dict[str, Any]) -> HeyGenState:
    root = tenant.store.root
    return HeyGenState(
        tenant,
        videos={job.id: video_of(job) for job in tenant.jobs.values() if job.provider == "heygen"},
        assets={key: Asset(key, a["kind"], a["mime"], root / a["path"], a["created_ts"], a["name"])
                for key, a in data["assets"].items()},
        endpoints={key: Endpoint(**e) for key, e in data["endpoints"].items()},
        deliveries=[Delivery(**d) for d in data["deliveries"]],
        remaining_quota=int(data["quota"]),
    )  # fmt: skip


HEYGEN_STATE: TenantSlot[HeyGenState] = TenantSlot("heygen", HeyGenState, dump=_dump, load=_load)
"""Each tenant's HeyGen videos, assets, webhook endpoints, deliveries and quota."""


def state_of(tenant: Tenant) -> HeyGenState:
    return HEYGEN_STATE.of(tenant)


def tenant_token(name: str) -> str:
    """A URL-path-safe form of a tenant name (used in media links clients fetch without headers)."""
    return base64.urlsafe_b64encode(name.encode()).decode().rstrip("=") or "_"


def tenant_name(token: str) -> str | None:
    if token == "_":
        return ""
    try:
        return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
