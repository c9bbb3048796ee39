"""--retain-seconds / --max-media-bytes: the oldest finished media go; their downloads answer 404."""

from __future__ import annotations

import argparse
import time

import httpx

from mockserver.cli import _serve_parser, settings_from_args
from mockserver.core.retention import EVICTED_KEY, Retention
from mockserver.core.settings import Settings
from mockserver.http.app import create_app
from tests.servers import serve

from .helpers import KEY, video_body, wait_status


def _render(client: httpx.Client, seconds: float = 0.2) -> str:
    video_id = client.post("/v1/videos", json=video_body(seconds)).json()["id"]
    assert wait_status(client, video_id, {"completed", "failed"})["status"] == "completed"
    return str(video_id)


def _wait_gone(client: httpx.Client, video_id: str, timeout: float = 10) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(f"/v1/videos/{video_id}/content")
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.1)


def test_max_media_bytes_evicts_the_oldest_first() -> None:
    app = create_app(Settings(max_media_bytes=1))  # anything finished is over the cap
    with serve(app) as url, httpx.Client(base_url=url, headers=KEY, timeout=30) as client:
        first = _render(client)
        gone = _wait_gone(client, first)
        assert gone.status_code == 404
        assert gone.json()["error"]["message"] == f"The content of video '{first}' is no longer stored."
        # the job itself is still there
        assert client.get(f"/v1/videos/{first}").json()["status"] == "completed"
        assert app.state.emulator.retention.evicted >= 1


def test_sweep_orders_by_age_and_respects_the_cap() -> None:
    app = create_app(Settings())
    with serve(app) as url, httpx.Client(base_url=url, headers=KEY, timeout=30) as client:
        ids = [_render(client) for _ in range(3)]
        emulator = app.state.emulator
        retention = Retention(emulator.tenants, retain_seconds=None, max_bytes=None)
        retention.sweep(now=100.0)
        sizes = retention.held_bytes()
        assert sizes > 0
        jobs = emulator.tenants.get(None).jobs
        retention._held[("default", ids[0])].finished = 50.0  # oldest
        retention.max_bytes = sizes - 1
        assert retention.sweep(now=101.0) == 1
        assert jobs[ids[0]].params.get(EVICTED_KEY) and not jobs[ids[1]].params.get(EVICTED_KEY)
        assert client.get(f"/v1/videos/{ids[0]}/content").status_code == 404
        assert client.get(f"/v1/videos/{ids[1]}/content").status_code == 200
        retention.max_bytes, retention.retain_seconds = None, 10.0
        assert retention.sweep(now=200.0) == 2
        assert client.get(f"/v1/videos/{ids[2]}/content").status_code == 404


def test_retention_and_control_flags_reach_the_settings() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    _serve_parser(sub)
    args = parser.parse_args(["serve", "--retain-seconds", "30", "--max-media-bytes", "1000", "--control-token", "t"])
    settings = settings_from_args(args)
    assert (settings.retain_seconds, settings.max_media_bytes, settings.control_token) == (30.0, 1000, "t")
