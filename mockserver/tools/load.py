"""`make load`: a bounded load scenario against an emulator subprocess on loopback, with figures.

The server runs `serve --pace realtime --replicas 20`. One round has three phases of `--seconds` each:
- `--pollers` clients (default 100) poll GET /v1/videos/{id} every `--poll-interval` s (0.25), over
  keep-alive connections (raw sockets: mockserver.tools.loadgen): alone, then during 2 live streams,
  then during `--streams` (default 20) live streams;
- each stream client (one tenant each) loops POST /v1/videos/stream at realtime pace; its first-byte
  time is measured;
- `--creators` clients (default 0) may also POST /v1/videos on one tenant as fast as they can (their
  429s are expected and counted apart from errors).
It prints requests/s, p50/p99 latency, errors by type, 429s, the server's RSS and open descriptors,
and the worker processes' RSS (every render and decode runs there, never in the server).
`--soak-minutes N` repeats rounds for N minutes and prints the RSS/descriptor drift (not for CI).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from ..http.names import CONTROL_PREFIX, TENANT_HEADER
from .loadgen import run_load

HOST = "127.0.0.1"
KEY = {"Authorization": "Bearer load"}
TERMINAL = ("completed", "failed")


def _proc_mb(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def start_server(port: int, extra: list[str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "mockserver.cli", "serve", "--host", HOST, "--port", str(port),
           "--pace", "realtime", "--log-level", "warning", *extra]  # fmt: skip
    from .bench import wait_until_serving

    return wait_until_serving(subprocess.Popen(cmd, stdout=subprocess.DEVNULL), port)


def _bodies(clip_seconds: float) -> dict[str, Any]:
    from .bench import png_b64, portrait, speech, wav_b64

    return {"ref_image": "data:image/png;base64," + png_b64(portrait(320, 320)),
            "input": "data:audio/wav;base64," + wav_b64(speech(clip_seconds)), "size": "640x480"}  # fmt: skip


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- writers: streams and creates, in a child process so they do not skew the pollers' clock ------


async def _stream_client(base: str, tenant: str, body: dict[str, Any], deadline: float, out: dict[str, Any]) -> None:
    headers = {**KEY, TENANT_HEADER: tenant}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=120) as client:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                async with client.stream("POST", "/v1/videos/stream", json=body) as response:
                    if response.status_code != 200:
                        out["statuses"][response.status_code] += 1
                        await asyncio.sleep(0.2)
                        continue
                    first = None
                    async for chunk in response.aiter_raw():
                        if first is None:
                            first = time.perf_counter() - started
                        out["bytes"] += len(chunk)
                out["statuses"][200] += 1
                out["completed"] += 1
                out["ttfb"].append(first or 0.0)
            except httpx.HTTPError as exc:
                out["errors"][type(exc).__name__] += 1


async def _creator(client: httpx.AsyncClient, body: dict[str, Any], deadline: float, out: dict[str, Any]) -> None:
    while time.monotonic() < deadline:
        started = time.perf_counter()
        try:
            response = await client.post("/v1/videos", json=body)
        except httpx.HTTPError as exc:
            out["errors"][type(exc).__name__] += 1
            continue
        out["latencies"].append(time.perf_counter() - started)
        out["statuses"][response.status_code] += 1
        if response.status_code == 429:  # a well-behaved client waits as told (capped: stay saturated)
            await asyncio.sleep(min(1.0, float(response.headers.get("retry-after", "1"))))


async def _writers(base: str, seconds: float, streams: int, creators: int, ready: Any) -> dict[str, Any]:
    stream_body, create_body = _bodies(3.0), _bodies(2.0)
    ready.set()
    deadline = time.monotonic() + seconds
    stream_out: dict[str, Any] = {"statuses": Counter(), "errors": Counter(), "ttfb": [], "completed": 0, "bytes": 0}
    create_out: dict[str, Any] = {"statuses": Counter(), "errors": Counter(), "latencies": []}
    headers = {**KEY, TENANT_HEADER: "load-create"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as client:
        await asyncio.gather(
            *(_stream_client(base, f"load-stream-{i}", stream_body, deadline, stream_out) for i in range(streams)),
            *(_creator(client, create_body, deadline, create_out) for _ in range(creators)),
        )
    return {
        "streams": {"clients": streams, "completed": stream_out["completed"], "mb": stream_out["bytes"] / 2**20,
                    "ttfb_p50_ms": _pct(stream_out["ttfb"], 0.5), "ttfb_p99_ms": _pct(stream_out["ttfb"], 0.99),
                    "statuses": dict(stream_out["statuses"]), "errors": dict(stream_out["errors"])},
        "creates": {"clients": creators, "requests": sum(create_out["statuses"].values()),
                    "p50_ms": _pct(create_out["latencies"], 0.5), "p99_ms": _pct(create_out["latencies"], 0.99),
                    "statuses": dict(create_out["statuses"]), "errors": dict(create_out["errors"])},
    }  # fmt: skip


def _writers_main(base: str, seconds: float, streams: int, creators: int, queue: Any, ready: Any) -> None:
    queue.put(asyncio.run(_writers(base, seconds, streams, creators, ready)))


# --- one round ------------------------------------------------------------------------------------


def _seed_poll_target(base: str) -> str:
    """A job that stays `in_progress` for the whole round without rendering anything: seeded through
    the control plane (the renders under test are the creators' and the streams'); a real 60 s job
    when the control plane is off."""
    with httpx.Client(base_url=base, headers={**KEY, TENANT_HEADER: "load-poll"}, timeout=60) as client:
        seeded = client.post(CONTROL_PREFIX + "/state", json={"jobs": [{"provider": "boson", "status": "running",
                                                                  "progress": 40}]})  # fmt: skip
        if seeded.status_code == 200:
            return str(seeded.json()["jobs"][0]["id"])
        return str(client.post("/v1/videos", json=_bodies(60.0)).json()["id"])


def _poll(port: int, video_id: str, seconds: float, args: argparse.Namespace) -> dict[str, Any]:
    polled = asyncio.run(run_load(
        HOST, port, f"/v1/videos/{video_id}", seconds=seconds, connections=args.pollers,
        headers={**KEY, TENANT_HEADER: "load-poll"}, interval=args.poll_interval,
    ))  # fmt: skip
    non_2xx = {str(k): v for k, v in polled.statuses.items() if k != 200}
    return {"clients": args.pollers, "requests": polled.requests, "rps": polled.rps,
            "p50_ms": polled.percentile(0.5) * 1000, "p99_ms": polled.percentile(0.99) * 1000,
            "non_200": non_2xx, "errors": dict(polled.errors)}  # fmt: skip


def _phase(port: int, video_id: str, args: argparse.Namespace, streams: int) -> dict[str, Any]:
    base = f"http://{HOST}:{port}"
    context = multiprocessing.get_context("spawn")
    queue, ready = context.Queue(), context.Event()
    writers = context.Process(target=_writers_main,
                              args=(base, args.seconds, streams, args.creators, queue, ready))  # fmt: skip
    writers.start()
    ready.wait(timeout=120)  # the writer process has imported and built its bodies
    time.sleep(1.0)  # let the renders (and streams) get going before measuring the pollers
    status = _poll(port, video_id, args.seconds - 1.0, args)
    written = queue.get(timeout=args.seconds + 180)
    writers.join(timeout=30)
    return {"status": status, **written}


def workers_rss(port: int) -> dict[str, Any]:
    """The worker processes' RSS (each counts the pages it shares with the others and the fork
    server) and PSS (shared pages divided among their users: the sum is what they really take)."""
    health = httpx.get(f"http://{HOST}:{port}{CONTROL_PREFIX}/health", timeout=30).json()
    pids = [pid for pool in health.get("workers", []) for pid in pool["pids"]]
    rss = [_proc_mb(pid, "VmRSS") for pid in pids]
    pss = [_pss_mb(pid) for pid in pids]
    return {"count": len(pids), "rss_mb_max": max(rss, default=0.0), "rss_mb_sum": sum(rss),
            "pss_mb_sum": sum(pss)}  # fmt: skip


def _pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def run_round(port: int, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    """Pollers alone, then during 2 live streams, then during `--streams` live streams."""
    video_id = _seed_poll_target(f"http://{HOST}:{port}")
    phases = {f"{streams} streams": _phase(port, video_id, args, streams=streams)
              for streams in dict.fromkeys((0, 2, args.streams))}
    return {"phases": phases, "rss_mb": _proc_mb(pid, "VmRSS"), "fds": _fds(pid), "workers": workers_rss(port)}


def _errors(counter: dict[Any, int], *, skip: tuple[Any, ...] = ()) -> str:
    items = {str(k): v for k, v in counter.items() if k not in skip}
    return ", ".join(f"{k}: {v}" for k, v in sorted(items.items())) or "none"


def print_phase(figures: dict[str, Any]) -> None:
    s, st, c = figures["status"], figures["streams"], figures["creates"]
    print(f"    status polls : {s['clients']} clients, {s['requests']} requests, {s['rps']:.0f} req/s, "
          f"p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms; non-200: {_errors(s['non_200'])}; "
          f"errors: {_errors(s['errors'])}")
    if st["clients"]:
        print(f"    streams      : {st['clients']} clients, {st['completed']} completed ({st['mb']:.1f} MB), "
              f"first byte p50 {st['ttfb_p50_ms']:.0f} ms, p99 {st['ttfb_p99_ms']:.0f} ms; "
              f"429s: {st['statuses'].get(429, 0)}; errors: {_errors(st['errors'])}; "
              f"other statuses: {_errors(st['statuses'], skip=(200, 429))}")
    if not c["clients"]:
        return
    print(f"    creates      : {c['clients']} clients, {c['requests']} requests, p50 {c['p50_ms']:.1f} ms, "
          f"p99 {c['p99_ms']:.1f} ms; 200s: {c['statuses'].get(200, 0)}, 429s (expected): "
          f"{c['statuses'].get(429, 0)}; errors: {_errors(c['errors'])}; "
          f"other statuses: {_errors(c['statuses'], skip=(200, 429))}")


def print_round(figures: dict[str, Any]) -> None:
    for name, phase in figures["phases"].items():
        print(f"  status polls during {name}:")
        print_phase(phase)
    w = figures["workers"]
    print(f"  server: RSS {figures['rss_mb']:.0f} MB, open fds {figures['fds']}; {w['count']} worker processes: "
          f"RSS max {w['rss_mb_max']:.0f} MB each, PSS {w['pss_mb_sum']:.0f} MB in all")


def main(argv: list[str] | None = None) -> int:
    from .bench import _free_port

    parser = argparse.ArgumentParser(prog="python -m mockserver.tools.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of one round (default 10)")
    parser.add_argument("--pollers", type=int, default=100)
    parser.add_argument("--poll-interval", type=float, default=0.25, help="seconds between one client's polls")
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--creators", type=int, default=0)
    parser.add_argument("--soak-minutes", type=float, default=0.0, help="repeat rounds for this long (not for CI)")
    parser.add_argument("--out", type=Path, default=None, help="also write the figures as JSON here")
    parser.add_argument("server_args", nargs="*", help="extra `serve` flags, after --")
    args = parser.parse_args(argv)
    port = _free_port()
    server = start_server(port, ["--replicas", "20", "--queue", "4", *args.server_args])
    try:
        start = {"rss_mb": _proc_mb(server.pid, "VmRSS"), "fds": _fds(server.pid)}
        print(f"avatar-emulator load on {HOST}:{port} (pid {server.pid}): RSS {start['rss_mb']:.0f} MB, "
              f"open fds {start['fds']} at start")
        rounds = []
        ends = time.monotonic() + args.soak_minutes * 60
        while True:
            figures = run_round(port, server.pid, args)
            rounds.append(figures)
            print(f"round {len(rounds)} ({args.seconds:g} s):")
            print_round(figures)
            if time.monotonic() >= ends:
                break
        end = {"rss_mb": _proc_mb(server.pid, "VmRSS"), "peak_rss_mb": _proc_mb(server.pid, "VmHWM"),
               "fds": _fds(server.pid)}  # fmt: skip
        print(f"server at end: RSS {end['rss_mb']:.0f} MB (start {start['rss_mb']:.0f}, peak "
              f"{end['peak_rss_mb']:.0f}), open fds {end['fds']} (start {start['fds']})")
        if len(rounds) > 2:
            rss = [r["rss_mb"] for r in rounds]
            print(f"soak: {len(rounds)} rounds, RSS first/median/last {rss[0]:.0f}/{statistics.median(rss):.0f}/"
                  f"{rss[-1]:.0f} MB, fds first/last {rounds[0]['fds']}/{rounds[-1]['fds']}")
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"start": start, "end": end, "rounds": rounds}, indent=2, default=str))
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
