"""`make bench-scale`: the Redis scale-out measured side by side in one run, on loopback.

- GET /v1/videos/{id} requests/s against one front-end, then against two (each loaded by its own
  load-generator process, so the generator is not the limit);
- render throughput: eight 20 s videos created at once, finished by one render worker, then by two;
- status latency with Redis state beside embedded state, at the same offered load (100 clients
  polling every 0.25 s, as `make load` does).

It needs Debian's redis-server (`apt-get install -y redis-server`) and writes bench/scale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from .bench import HOST, _free_port, png_b64, portrait, render_through_api, speech, wait_until_serving, wav_b64
from .loadgen import run_load

AUTH = {"Authorization": "Bearer bench-scale"}
RENDERS = 8
CLIP_S = 20.0


def start_redis(folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("bench-scale needs Debian's redis-server: apt-get install -y redis-server")
    port = _free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", HOST, "--dir", str(folder), "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), 0.2).close()
            return proc, f"redis://{HOST}:{port}/0"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("redis-server did not start")


def start_frontend(*args: str) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    cmd = [sys.executable, "-m", "mockserver.cli", "serve", "--host", HOST, "--port", str(port), "--log-level",
           "warning", "--queue", "64", *args]  # fmt: skip
    return wait_until_serving(subprocess.Popen(cmd, stdout=subprocess.DEVNULL), port), port


def start_worker(redis_url: str, data_dir: Path, name: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "mockserver.cli", "worker", "--state", redis_url, "--data-dir", str(data_dir),
           "--concurrency", "1", "--name", name]  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL)


def body(seconds: float) -> dict[str, str]:
    return {"ref_image": png_b64(portrait()), "input": wav_b64(speech(seconds))}


def completed_job(port: int) -> str:
    with httpx.Client(base_url=f"http://{HOST}:{port}", headers=AUTH, timeout=120) as client:
        video_id = str(client.post("/v1/videos", json=body(1.0)).json()["id"])
        while client.get(f"/v1/videos/{video_id}").json()["status"] not in ("completed", "failed"):
            time.sleep(0.05)
    return video_id


def _load_process(port: int, path: str, seconds: float, connections: int, interval: float, out: Any) -> None:
    result = asyncio.run(run_load(HOST, port, path, seconds=seconds, connections=connections, headers=AUTH,
                                  interval=interval))  # fmt: skip
    out.put(
        {
            "requests": result.requests,
            "seconds": result.seconds,
            "rps": result.rps,
            "p50_ms": result.percentile(0.5) * 1000,
            "p99_ms": result.percentile(0.99) * 1000,
            "errors": sum(result.errors.values()),
            "non_200": sum(n for s, n in result.statuses.items() if s != 200),
        }
    )


def load(ports: list[int], path: str, seconds: float, connections: int, interval: float = 0.0) -> dict[str, Any]:
    """Load every port at once, each from its own process; the figures summed (latencies: the worst)."""
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    procs = [context.Process(target=_load_process, args=(port, path, seconds, connections, interval, out))
             for port in ports]  # fmt: skip
    for proc in procs:
        proc.start()
    parts = [out.get(timeout=seconds + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    return {
        "rps": sum(p["rps"] for p in parts),
        "p50_ms": max(p["p50_ms"] for p in parts),
        "p99_ms": max(p["p99_ms"] for p in parts),
        "errors": sum(p["errors"] + p["non_200"] for p in parts),
    }


def render_throughput(port: int, videos: int = RENDERS, clip: float = CLIP_S) -> float:
    """Seconds from creating `videos` clips at once to all of them completed (polled every 0.1 s, so
    the polls take little of the CPU the renders need)."""
    with httpx.Client(base_url=f"http://{HOST}:{port}", headers=AUTH, timeout=300) as client:
        return render_through_api(client, body(clip), videos, poll=0.1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m mockserver.tools.bench_scale",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each load run")
    parser.add_argument("--connections", type=int, default=32, help="connections per front-end")
    parser.add_argument("--out", type=Path, default=Path("bench/scale.json"))
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = Path(tmp)
        redis_proc, url = start_redis(folder)
        procs: list[subprocess.Popen[bytes]] = [redis_proc]
        try:
            shared = ("--state", url, "--data-dir", str(folder / "data"), "--replicas", "8")
            fe1, port1 = start_frontend(*shared)
            procs.append(fe1)
            procs.append(start_worker(url, folder / "data", "w1"))
            path = f"/v1/videos/{completed_job(port1)}"
            one = [load([port1], path, args.seconds, args.connections) for _ in range(2)]
            fe2, port2 = start_frontend(*shared)
            procs.append(fe2)
            two = [load([port1, port2], path, args.seconds, args.connections) for _ in range(2)]
            results["status"] = {
                "one_front_end_rps": statistics.median(r["rps"] for r in one),
                "two_front_ends_rps": statistics.median(r["rps"] for r in two),
                "errors": sum(r["errors"] for r in (*one, *two)),
            }
            results["status"]["speedup"] = (
                results["status"]["two_front_ends_rps"] / results["status"]["one_front_end_rps"]
            )
            one_worker = render_throughput(port1)
            procs.append(start_worker(url, folder / "data", "w2"))
            time.sleep(2)  # the second worker has started its processes
            two_workers = render_throughput(port1)
            results["renders"] = {
                "videos": RENDERS,
                "clip_seconds": CLIP_S,
                "one_worker_s": one_worker,
                "two_workers_s": two_workers,
                "speedup": one_worker / two_workers,
            }
            redis_latency = load([port1], path, args.seconds, 100, interval=0.25)
            embedded, port3 = start_frontend()
            procs.append(embedded)
            embedded_path = f"/v1/videos/{completed_job(port3)}"
            embedded_latency = load([port3], embedded_path, args.seconds, 100, interval=0.25)
            results["latency"] = {
                "clients": 100,
                "interval_s": 0.25,
                "redis": redis_latency,
                "embedded": embedded_latency,
            }
        finally:  # the emulator's processes first, Redis last
            for group in (procs[1:], procs[:1]):
                for proc in group:
                    proc.terminate()
                for proc in group:
                    try:
                        proc.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        proc.kill()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    s, r, lat = results["status"], results["renders"], results["latency"]
    print(
        f"GET /v1/videos/{{id}} with Redis state: 1 front-end {s['one_front_end_rps']:.0f} req/s, 2 front-ends "
        f"{s['two_front_ends_rps']:.0f} req/s: {s['speedup']:.2f}x ({s['errors']} errors)"
    )
    print(
        f"{r['videos']} x {r['clip_seconds']:g} s renders: 1 worker {r['one_worker_s']:.1f} s, "
        f"2 workers {r['two_workers_s']:.1f} s: {r['speedup']:.2f}x"
    )
    print(
        f"status latency, 100 clients every 0.25 s: Redis p50 {lat['redis']['p50_ms']:.1f} ms p99 "
        f"{lat['redis']['p99_ms']:.1f} ms; embedded p50 {lat['embedded']['p50_ms']:.1f} ms p99 "
        f"{lat['embedded']['p99_ms']:.1f} ms"
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
