"""--data-dir: jobs survive a kill -9; without it, nothing outlives the process."""

from __future__ import annotations

import signal
from pathlib import Path

from mockserver.core.persistence import RESTART_ERROR, stored_jobs
from mockserver.core.settings import Settings
from mockserver.http.app import Emulator
from tests.media import inspect_mp4

from .helpers import running, start_server, stop, video_body, wait_status


def test_kill_9_mid_render_then_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    server = start_server("--data-dir", str(data), "--pace", "realtime", "--replicas", "2")
    try:
        with server.client() as client:
            done = client.post("/v1/videos", json=video_body(0.4)).json()["id"]
            assert wait_status(client, done, {"completed", "failed"})["status"] == "completed"
            before = client.get(f"/v1/videos/{done}/content").content
            cut = client.post("/v1/videos", json=video_body(8.0)).json()["id"]
            assert wait_status(client, cut, {"in_progress"})["status"] == "in_progress"
            waiting = [client.post("/v1/videos", json=video_body(8.0)).json()["id"] for _ in range(2)]
            statuses = {row["id"]: row["status"] for row in stored_jobs(data)}
            assert statuses[cut] == "running" and statuses[done] == "succeeded"
            assert {statuses[w] for w in waiting} <= {"queued", "running"}
    finally:
        assert stop(server, signal.SIGKILL) == -signal.SIGKILL

    with running("--data-dir", str(data), "--pace", "realtime") as again, again.client() as client:
        finished = client.get(f"/v1/videos/{done}").json()
        assert finished["status"] == "completed" and finished["progress"] == 100
        content = client.get(f"/v1/videos/{done}/content")
        assert content.status_code == 200 and content.content == before
        assert inspect_mp4(content.content).frames
        for job_id in [cut, *waiting]:
            video = client.get(f"/v1/videos/{job_id}").json()
            assert video["status"] == "failed", video
            assert video["error"] == RESTART_ERROR
            gone = client.get(f"/v1/videos/{job_id}/content")
            assert gone.status_code == 404 and "failed" in gone.json()["error"]["message"]
        # a new job after the restart gets a fresh id and renders as usual
        fresh = client.post("/v1/videos", json=video_body(0.2)).json()["id"]
        assert fresh not in {done, cut, *waiting}
        assert wait_status(client, fresh, {"completed", "failed"})["status"] == "completed"


def test_sigterm_with_data_dir_keeps_every_created_job(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with running("--data-dir", str(data), "--queue", "16") as server, server.client() as client:
        created = [client.post("/v1/videos", json=video_body(0.2)).json()["id"] for _ in range(6)]
    rows = {row["id"] for row in stored_jobs(data)}
    assert set(created) <= rows
    with running("--data-dir", str(data)) as again, again.client() as client:
        for job_id in created:
            assert client.get(f"/v1/videos/{job_id}").json()["status"] in ("completed", "failed")


def test_memory_mode_removes_its_temporary_folder() -> None:
    emulator = Emulator(Settings())
    root = emulator.store.root
    assert root.exists() and emulator.persistence is None
    emulator.close()
    assert not root.exists()


def test_data_dir_keeps_media_after_close(tmp_path: Path) -> None:
    emulator = Emulator(Settings(data_dir=tmp_path))
    path = emulator.store.path("default", "video_x", ".mp4")
    path.write_bytes(b"x")
    emulator.close()
    assert path.exists() and (tmp_path / "jobs.sqlite3").exists()
