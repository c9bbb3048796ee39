"""Scale-out on a real redis-server: front-ends A and B and two render workers, separate processes.

One cluster serves the module: `--replicas 2 --queue 4`, `--worker-silence 2`, key KEY.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from tests.contracts.harness import KEY, run_suite
from tests.hardening.helpers import audio_uri, face_uri, wait_status
from tests.heygen.helpers import SMALL, Receiver, silence_scene
from tests.media import inspect_mp4
from tests.servers import serve

from .cluster import Process, RedisServer, round_robin, start_frontend, start_worker

AUTH = {"Authorization": f"Bearer {KEY}"}


@dataclass
class Cluster:
    redis: RedisServer
    a: Process
    b: Process
    workers: list[Process]
    data_dir: Path

    def client(self, frontend: Process, tenant: str, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=frontend.url, timeout=60, headers={**AUTH, "X-Emulator-Tenant": tenant, **headers})

    def report(self, tenant: str, job_id: str) -> dict[str, str]:
        r = redis.Redis.from_url(self.redis.url, decode_responses=True)
        try:
            return dict(r.hgetall(f"ae:c:{tenant}:{job_id}"))  # type: ignore[arg-type]
        finally:
            r.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    folder = tmp_path_factory.mktemp("cluster")
    server = RedisServer(folder)
    server.start()
    data = folder / "data"
    started: list[Process] = []
    workers: list[Process] = []
    try:
        args = ("--api-key", KEY, "--worker-silence", "2")
        started += [start_frontend(server.url, data, *args), start_frontend(server.url, data, *args)]
        workers += [start_worker(server.url, data, f"worker-{i}") for i in range(2)]
        yield Cluster(server, started[0], started[1], workers, data)
    finally:
        for process in [*started, *workers]:  # the workers a test started too
            process.kill()
        server.stop()


def body(seconds: float = 1.0) -> dict[str, str]:
    return {"ref_image": face_uri(), "input": audio_uri(seconds), "size": "640x480"}


def test_a_job_created_on_a_is_polled_and_downloaded_on_b(cluster: Cluster) -> None:
    with cluster.client(cluster.a, "cross") as a, cluster.client(cluster.b, "cross") as b:
        video = a.post("/v1/videos", json=body()).json()
        done = wait_status(b, video["id"], {"completed", "failed"})
        assert done["status"] == "completed", done
        content = b.get(f"/v1/videos/{video['id']}/content")
        assert content.status_code == 200 and inspect_mp4(content.content).n_frames == 25
        assert cluster.report("cross", video["id"])["worker"] in {"worker-0", "worker-1"}
        entries = b.get("/_emulator/journal").json()["entries"]  # one journal, whoever served the calls
        assert [e["operation_id"] for e in entries][:1] == ["createVideo"]
        assert {e["operation_id"] for e in entries} >= {"createVideo", "getVideo", "downloadVideoContent"}


def test_a_stream_from_a_carries_a_job_rendered_by_a_worker(cluster: Cluster) -> None:
    with cluster.client(cluster.a, "stream") as a:
        data = b""
        with a.stream("POST", "/v1/videos/stream", json=body(2.0)) as response:
            assert response.status_code == 200 and response.headers["content-type"] == "video/mp4"
            video_id = response.headers["x-video-id"]
            for chunk in response.iter_raw():
                data += chunk
    facts = inspect_mp4(data)
    assert facts.n_frames == 50 and facts.audio_codec == "aac"
    assert cluster.report("stream", video_id)["worker"] in {"worker-0", "worker-1"}


def test_capacity_429_holds_across_front_ends(cluster: Cluster) -> None:
    with cluster.client(cluster.a, "busy") as a, cluster.client(cluster.b, "busy") as b:
        a.post("/_emulator/clock", json={"mode": "frozen", "pace": "realtime"})  # nothing finishes
        statuses = [(a if i % 2 else b).post("/v1/videos", json=body()).status_code for i in range(6)]
        assert statuses == [200] * 6  # 2 replicas + 4 queued, created through both
        for client in (a, b):
            refused = client.post("/v1/videos", json=body())
            assert refused.status_code == 429 and refused.json()["error"]["type"] == "all_replicas_busy"
            assert int(refused.headers["retry-after"]) >= 1


def test_a_fault_rule_set_through_a_fires_on_b(cluster: Cluster) -> None:
    with cluster.client(cluster.a, "faulty") as a, cluster.client(cluster.b, "faulty") as b:
        rule = a.post("/_emulator/faults", json={"operation_id": "listVoices", "error": 503, "times": 1}).json()
        answer = b.get("/v1/audio/voices")
        assert answer.status_code == 503 and answer.headers["x-emulator-fault"] == rule["rules"][0]["id"]
        assert a.get("/v1/audio/voices").status_code == 200  # fired once, counted once, wherever
        assert a.get("/_emulator/faults").json()["rules"][0]["fired"] == 1


def test_a_fault_on_polls_of_a_finished_job_fires_once_on_b(cluster: Cluster) -> None:
    """Polls of finished jobs read Redis without the tenant's lock, unless a rule must count them."""
    with cluster.client(cluster.a, "poll-fault") as a, cluster.client(cluster.b, "poll-fault") as b:
        video = a.post("/v1/videos", json=body()).json()
        assert wait_status(a, video["id"], {"completed", "failed"})["status"] == "completed"
        a.post("/_emulator/faults", json={"operation_id": "getVideo", "error": 503, "times": 1})
        assert b.get(f"/v1/videos/{video['id']}").status_code == 503
        polls = [b.get(f"/v1/videos/{video['id']}") for _ in range(3)]
        assert [(p.status_code, p.json()["status"]) for p in polls] == [(200, "completed")] * 3
        assert a.get("/_emulator/faults").json()["rules"][0]["fired"] == 1


def test_a_clock_advanced_on_a_applies_on_b(cluster: Cluster) -> None:
    with cluster.client(cluster.a, "clock") as a, cluster.client(cluster.b, "clock") as b:
        a.post("/_emulator/clock", json={"mode": "frozen", "pace": "realtime"})
        video = b.post("/v1/videos", json=body(2.0)).json()
        time.sleep(1.0)  # the render itself ends; the emulated one waits for the clock
        assert b.get(f"/v1/videos/{video['id']}").json()["status"] != "completed"
        before = b.get("/_emulator/clock").json()["now"]
        assert a.post("/_emulator/clock", json={"advance": 60}).json()["now"] == pytest.approx(before + 60)
        assert wait_status(b, video["id"], {"completed", "failed"})["status"] == "completed"


def test_a_webhook_is_delivered_exactly_once(cluster: Cluster) -> None:
    receiver = Receiver()
    with serve(receiver.app()) as url, \
            cluster.client(cluster.a, "hooks", **{"X-Api-Key": KEY}) as a, \
            cluster.client(cluster.b, "hooks", **{"X-Api-Key": KEY}) as b:
        receiver.url = url
        created = a.post("/v2/video/generate", json={"video_inputs": [silence_scene(1.0)], "dimension": SMALL,
                                                     "test": True, "callback_url": f"{url}/hook"})
        video_id = created.json()["data"]["video_id"]
        for _ in range(400):
            data = b.get("/v1/video_status.get", params={"video_id": video_id}).json()["data"]
            if data["status"] in ("completed", "failed"):
                break
            time.sleep(0.05)
        assert data["status"] == "completed"
        posts = receiver.wait_posts(1)
        time.sleep(1.5)  # both front-ends keep ticking: no second delivery may come
        assert len(receiver.posts()) == 1
        event = json.loads(posts[0].body)
        assert (event["event_type"], event["event_data"]["video_id"]) == ("avatar_video.success", video_id)
        deliveries = a.get("/_emulator/webhooks").json()["deliveries"]
        assert [(d["target"], len(d["attempts"]), d["delivered"]) for d in deliveries] == [("callback_url", 1, True)]


def test_kill_9_of_a_worker_mid_render_leaves_no_stuck_job(cluster: Cluster) -> None:
    with cluster.client(cluster.a, "dead-worker") as a:
        video = a.post("/v1/videos", json={**body(55.0), "size": "640x640"}).json()
        deadline = time.monotonic() + 30
        while "worker" not in (report := cluster.report("dead-worker", video["id"])):
            assert time.monotonic() < deadline, "no worker took the render"
            time.sleep(0.01)
        assert "done" not in report
        victim = next(w for w in cluster.workers if w.name == report["worker"])
        victim.kill()
        failed = wait_status(a, video["id"], {"completed", "failed"}, timeout=20)
        assert failed["status"] == "failed" and "render worker stopped answering" in str(failed["error"])
        survivor = a.post("/v1/videos", json=body()).json()  # the other worker carries on
        assert wait_status(a, survivor["id"], {"completed", "failed"})["status"] == "completed"
        cluster.workers.remove(victim)
        cluster.workers.append(start_worker(cluster.redis.url, cluster.data_dir, victim.name + "-again"))


@pytest.mark.parametrize("provider", ["boson", "heygen"])
def test_the_conformance_suite_passes_against_a_round_robin_of_a_and_b(cluster: Cluster, provider: str) -> None:
    with serve(round_robin([cluster.a.url, cluster.b.url])) as url:
        report = run_suite(url, "--provider", provider, "--tier", "core", timeout=600)
    failed = {c["id"]: c["reason"] for c in report["clauses"] if c["status"] == "FAIL"}
    assert failed == {}
    assert report["exit_code"] == 0


def test_a_front_end_that_dies_and_a_redis_restart_lose_no_completed_video(cluster: Cluster) -> None:
    with cluster.client(cluster.a, "durable") as a:
        video = a.post("/v1/videos", json=body()).json()
        assert wait_status(a, video["id"], {"completed", "failed"})["status"] == "completed"
    cluster.a.kill()  # kill -9 of the front-end that made it
    cluster.redis.stop()  # and Redis restarts from its append-only file
    with cluster.client(cluster.b, "durable") as b:
        down = b.get(f"/v1/videos/{video['id']}")  # meanwhile: a clear, retryable 503 (after ~8 s of retries)
        assert down.status_code == 503 and down.headers["retry-after"] == "1", down.text
        assert down.json()["error"]["type"] == "service_unavailable"
        assert "shared state is unavailable" in down.json()["error"]["message"]
        cluster.redis.start()
        again = b.get(f"/v1/videos/{video['id']}")
        assert again.status_code == 200 and again.json()["status"] == "completed", again.text
        content = b.get(f"/v1/videos/{video['id']}/content")
        assert content.status_code == 200 and inspect_mp4(content.content).n_frames == 25
        after = b.post("/v1/videos", json=body()).json()  # the render workers waited out the outage
        assert wait_status(b, after["id"], {"completed", "failed"})["status"] == "completed"
    assert all(worker.proc.poll() is None for worker in cluster.workers)
