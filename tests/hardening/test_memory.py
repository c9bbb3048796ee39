"""1,000 completed jobs in memory mode hold < 300 MB of RSS: their media live on disk, not in memory."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from .helpers import KEY, ServerProcess, running, video_body

JOBS = 1000
RSS_LIMIT_MB = 300


async def _create_and_finish(server: ServerProcess, jobs: int) -> dict[str, int]:
    body = video_body(0.05)  # two video frames: the cheapest job that renders for real
    statuses: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=server.url, headers=KEY, timeout=60) as client:
        gate = asyncio.Semaphore(8)

        async def create() -> str:
            async with gate:
                response = await client.post("/v1/videos", json=body)
                assert response.status_code == 200, response.text
                return str(response.json()["id"])

        ids = await asyncio.gather(*(create() for _ in range(jobs)))
        for video_id in ids:  # they finish roughly in order: poll one at a time, not all of them
            while True:
                status = (await client.get(f"/v1/videos/{video_id}")).json()["status"]
                if status in ("completed", "failed"):
                    statuses[status] = statuses.get(status, 0) + 1
                    break
                await asyncio.sleep(0.05)
        last = await client.get(f"/v1/videos/{ids[0]}/content")
        assert last.status_code == 200 and last.content[4:8] == b"ftyp"
    return statuses


@pytest.mark.slow
def test_a_thousand_completed_jobs_stay_under_300_mb() -> None:
    with running("--queue", str(JOBS), "--replicas", "2", "--no-control") as server:
        idle = server.status_kb("VmRSS") / 1024
        statuses = asyncio.run(_create_and_finish(server, JOBS))
        rss, peak, fds = server.status_kb("VmRSS") / 1024, server.status_kb("VmHWM") / 1024, server.open_fds()
    print(f"\n{JOBS} completed jobs (memory mode): RSS idle {idle:.0f} MB, after {rss:.0f} MB, "
          f"peak {peak:.0f} MB, open fds {fds}, statuses {statuses}")
    assert statuses == {"completed": JOBS}
    assert rss < RSS_LIMIT_MB
    assert fds < 64  # no descriptor per job is kept open
