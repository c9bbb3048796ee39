"""HeyGen session fixtures: the catalog ids, and the few videos the suite creates, polled once and shared."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from contracts.client import Client
from contracts.heygen import (
    GENERATE_PATH,
    STATUS_PATH,
    TERMINAL,
    Catalog,
    avatar,
    body,
    discover,
    json_of,
    main_body,
)
from contracts.receiver import closed_port_url
from contracts.runs import RunCache
from contracts.target import Target

REMOTE_WAIT_S = 1800.0
"""HeyGen renders take 5-15 minutes, sometimes more than 20 (heygen-contract §4, §8.5)."""
REMOTE_POLL_S = 5.0
MISSING_AUDIO_REMOTE = "https://example.invalid/avatar-emulator-conformance/missing.mp3"


@dataclass
class Read:
    """One video_status.get answer."""

    t: float
    status: int
    body: Any

    @property
    def data(self) -> dict[str, Any] | None:
        data = self.body.get("data") if isinstance(self.body, dict) else None
        return data if isinstance(data, dict) else None


@dataclass
class HgRun:
    """One created video and everything seen about it."""

    request: dict[str, Any]
    create: httpx.Response | None = None
    created_t: float = 0.0
    """Wall-clock time (Unix seconds) when generate answered."""
    video_id: str | None = None
    reads: list[Read] = field(default_factory=list)
    quota_before: Any = None
    quota_after: Any = None
    mp4: httpx.Response | None = None

    @property
    def datas(self) -> list[dict[str, Any]]:
        return [d for d in (r.data for r in self.reads) if d is not None]

    @property
    def final(self) -> dict[str, Any] | None:
        return self.datas[-1] if self.datas else None

    @property
    def status(self) -> str | None:
        final = self.final
        return str(final.get("status")) if final else None


def quota(client: Client) -> Any:
    """data.remaining_quota, or None when it cannot be read."""
    answer = json_of(client.get("/v2/user/remaining_quota"))
    try:
        return answer["data"]["remaining_quota"]
    except (KeyError, TypeError):
        return None


class HgJobs:
    """Creates the suite's HeyGen videos lazily, once per session; caches results (or the error)."""

    def __init__(self, client: Client, target: Target, timeout: float | None) -> None:
        self.client = client
        self.target = target
        self.wait = timeout or (30.0 if target.loopback else REMOTE_WAIT_S)
        self.interval = 0.05 if target.loopback else REMOTE_POLL_S
        self.callback_id = f"conformance-{secrets.token_hex(6)}"
        self._catalog: Catalog | None = None
        self._runs: RunCache[HgRun] = RunCache()

    @property
    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = discover(self.client)
        return self._catalog

    def cached(self, key: str, make: Callable[[], HgRun]) -> HgRun:
        """The run made once under `key` (or the error making it raised)."""
        return self._runs.get(key, make)

    def main(self) -> HgRun:
        """Two silence scenes (1 s + 1.5 s) with the first avatar on magenta, test mode, 256x144; polled and
        downloaded; remaining_quota read before and after."""
        return self.cached("main", self._make_main)

    def failed(self) -> HgRun:
        """One scene whose audio_url cannot be fetched: the video should end failed."""
        return self.cached("failed", self._make_failed)

    def start(self, request: dict[str, Any], path: str = GENERATE_PATH, headers: dict[str, str] | None = None) -> HgRun:
        """Create a video through the budget; raise AssertionError unless the answer carries a video id."""
        run = HgRun(request)
        run.create = self.client.create(path, json=request, headers=headers)
        run.created_t = time.time()
        answer = json_of(run.create)
        data = answer.get("data") if isinstance(answer, dict) else None
        run.video_id = data.get("video_id") if isinstance(data, dict) else None
        if run.create.status_code != 200 or not isinstance(run.video_id, str):
            raise AssertionError(f"generate answered {run.create.status_code}: {run.create.text[:200]}")
        return run

    def _make_main(self) -> HgRun:
        self.target.require_budget(1)
        request = main_body(self.catalog, self.callback_id)
        before = quota(self.client)
        run = self.start(request)
        run.quota_before = before
        self.poll(run)
        run.quota_after = quota(self.client)
        final = run.final or {}
        if final.get("status") == "completed" and isinstance(final.get("video_url"), str):
            run.mp4 = self.client.get(final["video_url"], auth=False)
        return run

    def _make_failed(self) -> HgRun:
        self.target.require_budget(1)
        url = closed_port_url("/missing.mp3") if self.target.loopback else MISSING_AUDIO_REMOTE
        scene = {"character": avatar(self.catalog), "voice": {"type": "audio", "audio_url": url}}
        run = self.start(body(self.catalog, scene, callback_id=self.callback_id + "-fail"))
        self.poll(run)
        return run

    def poll(self, run: HgRun, headers: dict[str, str] | None = None) -> None:
        """Read video_status.get until terminal, then twice more (a terminal state must stay put)."""
        deadline = time.monotonic() + self.wait
        t0 = time.monotonic()
        extra = 0
        while True:
            r = self.client.get(STATUS_PATH, params={"video_id": run.video_id}, headers=headers)
            read = Read(time.monotonic() - t0, r.status_code, json_of(r))
            run.reads.append(read)
            status = read.data.get("status") if read.data else None
            if status in TERMINAL:
                extra += 1
                if extra > 2:
                    return
            elif time.monotonic() > deadline:
                raise AssertionError(f"video {run.video_id} not terminal after {self.wait:.0f} s (last: {read.body})")
            time.sleep(self.interval if status not in TERMINAL else min(self.interval, 0.2))


@pytest.fixture(scope="session")
def hg_jobs(client: Client, target: Target, pytestconfig: pytest.Config) -> HgJobs:
    """The session's shared HeyGen videos."""
    return HgJobs(client, target, pytestconfig.getoption("--video-timeout"))


@pytest.fixture(scope="session")
def hg_catalog(hg_jobs: HgJobs) -> Catalog:
    """Avatar, voice and talking-photo ids listed by the target."""
    return hg_jobs.catalog
