"""`avatar-emulator bench`: figures measured side by side in one run, written as JSON and a table.

- render+encode frames/s of a 60 s clip at each Boson size, beside plain libx264 (ultrafast) on the
  very same frames;
- time to the first byte and to the first complete `moof`+`mdat` of POST /v1/videos/stream (fast pace,
  idle server);
- GET /v1/videos/{id} requests/s beside a bare starlette JSON route in the same server process, with
  the control plane on, and again in a server with it off;
- one 60 s video through the API on an idle `--replicas 1` server (a render may use every core)
  at each size, beside plain libx264 on the frames the server renders;
- two 10 s renders through the API at once (`--replicas 2`) beside the same two one after the other.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from PIL import Image, ImageDraw

from reference_engine import FPS, SAMPLE_RATE, mp4box
from reference_engine.audio import decode_audio
from reference_engine.audio_formats import encode_audio
from reference_engine.image import decode_image
from reference_engine.render import RenderJob, iter_yuv_frames, render_fmp4
from reference_engine.tts import synthesize
from reference_engine.video import encode_yuv_frames_plain

from .loadgen import run_load

SIZES = ((640, 640), (640, 480), (480, 640))
HOST = "127.0.0.1"


def portrait(width: int = 512, height: int = 512, seed: int = 7) -> np.ndarray:
    """A photo-like portrait: textured background, shaded face, sensor grain (deterministic).

    Real users send photos; a flat cartoon would make plain x264 unrealistically fast.
    """
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 200, (height // 32 + 1, width // 32 + 1, 3), dtype=np.uint8)
    img = Image.fromarray(coarse).resize((width, height), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(img)
    cx, cy, fw = width // 2, int(height * 0.45), int(width * 0.4)
    draw.ellipse((cx - fw // 2, cy - int(fw * 0.65), cx + fw // 2, cy + int(fw * 0.65)), fill=(224, 180, 150))
    for ex in (cx - fw // 5, cx + fw // 5):
        draw.ellipse((ex - fw // 14, cy - fw // 6, ex + fw // 14, cy - fw // 12), fill=(40, 30, 30))
    draw.ellipse((cx - fw // 6, cy + fw // 4, cx + fw // 6, cy + fw // 3), fill=(150, 60, 60))
    grain = rng.normal(0, 9, (height, width, 1))
    return np.clip(np.asarray(img, dtype=np.float32) + grain, 0, 255).astype(np.uint8)


def speech(seconds: float) -> np.ndarray:
    text = "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs! " * 20
    audio = synthesize(text)
    need = int(seconds * SAMPLE_RATE)
    while audio.shape[0] < need:
        audio = np.concatenate([audio, audio])
    return audio[:need]


def wav_b64(audio: np.ndarray) -> str:
    return base64.b64encode(encode_audio(audio, "wav")).decode()


def png_b64(rgb: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


def _render_fps(job: RenderJob) -> float:
    started = time.perf_counter()
    for _ in render_fmp4(job):
        pass
    return job.n_frames / (time.perf_counter() - started)


def _plain_fps(frames: list[np.ndarray], width: int, height: int) -> float:
    started = time.perf_counter()
    encoded = encode_yuv_frames_plain(frames, width, height)
    return encoded / (time.perf_counter() - started)


def interleaved(
    measure: Callable[[], float], baseline: Callable[[], float], runs: int
) -> tuple[list[float], list[float]]:
    """`runs` back-to-back pairs of (measure(), baseline()): `measure` first in even runs, `baseline`
    first in odd ones, so neither gains from going first."""
    measured, base = [], []
    for run in range(runs):
        if run % 2:
            base.append(baseline())
        measured.append(measure())
        if not run % 2:
            base.append(baseline())
    return measured, base


def bench_render(seconds: float, runs: int = 5) -> list[dict[str, Any]]:
    """Per size: render+encode beside bare libx264 on the same frames, `runs` times interleaved
    (this machine is noisy). Each run's ratio compares the two halves of one pair, run back to back
    (render first in even runs, bare x264 first in odd ones, so neither gains from going first);
    the ratio reported is their median (fps are medians too), with every run's ratio."""
    audio = speech(seconds)
    image = portrait()
    rows = []
    for width, height in SIZES:
        job = RenderJob(image=image, audio=audio, width=width, height=height)
        frames = list(iter_yuv_frames(job))
        render_fps, plain_fps = interleaved(partial(_render_fps, job), partial(_plain_fps, frames, width, height), runs)
        del frames
        render, plain = statistics.median(render_fps), statistics.median(plain_fps)
        ratios = [r / q for r, q in zip(render_fps, plain_fps, strict=True)]
        rows.append(
            {
                "size": f"{width}x{height}",
                "frames": job.n_frames,
                "runs": runs,
                "render_encode_fps": render,
                "plain_x264_ultrafast_fps": plain,
                "ratio": statistics.median(ratios),
                "ratios": ratios,
                "x_realtime": render / FPS,
            }
        )
    return rows


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def start_server(port: int, *, control: bool = True, replicas: int = 2) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn\n"
        "from starlette.responses import JSONResponse\n"
        "from starlette.routing import Route\n"
        "from mockserver import Settings, create_app\n"
        f"app = create_app(Settings(replicas={replicas}, queue=64, control={control}, start_all_workers=True))\n"
        "async def bare(request):\n"
        "    return JSONResponse({'id': 'video_0123456789abcdef01234567', 'object': 'video', 'model': 'higgs-avatar',"
        " 'status': 'completed', 'progress': 100, 'size': '640x640', 'created_at': 1760000000, 'error': None})\n"
        "app.router.routes.insert(0, Route('/bare', bare))\n"
        "from mockserver.cli import tune_server_process\n"
        "tune_server_process()  # as `avatar-emulator serve` does\n"
        f"uvicorn.run(app, host='{HOST}', port={port}, log_level='warning', access_log=False)\n"
    )
    return wait_until_serving(subprocess.Popen([sys.executable, "-c", code]), port)


@contextmanager
def served(*, control: bool = True, replicas: int = 2) -> Iterator[tuple[str, int, subprocess.Popen[bytes]]]:
    """A bench server (`start_server`) for the block: its base URL, port and process."""
    port = _free_port()
    server = start_server(port, control=control, replicas=replicas)
    try:
        yield f"http://{HOST}:{port}", port, server
    finally:
        server.terminate()
        server.wait(timeout=10)


def wait_until_serving(proc: subprocess.Popen[bytes], port: int, timeout: float = 30) -> subprocess.Popen[bytes]:
    """Return `proc` once the emulator in it answers on `port`; kill it if it never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"http://{HOST}:{port}/openapi/boson.json", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the emulator on port {port} did not start")


def first_moof_end(data: bytes) -> int | None:
    """Offset just past the first moof's mdat, once both are fully in `data`."""
    seen_moof = False
    for box in mp4box.complete_prefix(data)[0]:
        seen_moof = seen_moof or box.type == "moof"
        if seen_moof and box.type == "mdat":
            return box.end
    return None


def bench_stream(base: str, runs: int) -> dict[str, Any]:
    body = {"ref_image": png_b64(portrait()), "input": wav_b64(speech(10.0))}
    ttfb, first_fragment = [], []
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer bench"}, timeout=60) as client:
        for i in range(runs + 1):
            data = b""
            started = time.perf_counter()
            got_first = got_moof = None
            with client.stream("POST", "/v1/videos/stream", json=body) as response:
                for chunk in response.iter_raw():
                    now = time.perf_counter() - started
                    if got_first is None:
                        got_first = now
                    data += chunk
                    if got_moof is None and first_moof_end(data):
                        got_moof = now
            if i == 0:
                continue  # warm-up: first import of codecs and caches
            assert got_first is not None and got_moof is not None
            ttfb.append(got_first * 1000)
            first_fragment.append(got_moof * 1000)
    return {
        "runs": runs,
        "ttfb_ms_median": statistics.median(ttfb),
        "first_fragment_ms_median": statistics.median(first_fragment),
        "ttfb_ms": ttfb,
        "first_fragment_ms": first_fragment,
    }


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_status(base: str, port: int, seconds: float, pairs: int = 8, server_pid: int | None = None) -> dict[str, Any]:
    """GET /v1/videos/{id} of a finished video beside the bare route: `pairs` pairs of load runs of
    `seconds` each, back to back (this machine is noisy); the ratio is the median of the pairs'
    ratios. With `server_pid` (Linux), also the server's CPU time per request of each route."""
    headers = {"Authorization": "Bearer bench"}
    body = {"ref_image": png_b64(portrait()), "input": wav_b64(speech(1.0))}
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        video_id = client.post("/v1/videos", json=body).json()["id"]
        while client.get(f"/v1/videos/{video_id}").json()["status"] not in ("completed", "failed"):
            time.sleep(0.05)
    cpu_pid = server_pid if server_pid is not None and Path(f"/proc/{server_pid}/stat").exists() else None
    rps: dict[str, list[float]] = {"status": [], "bare": []}
    p99: dict[str, list[float]] = {"status": [], "bare": []}
    cpu_us: dict[str, list[float]] = {"status": [], "bare": []}
    for _ in range(pairs):
        for name, path in (("status", f"/v1/videos/{video_id}"), ("bare", "/bare")):
            cpu_before = _cpu_seconds(cpu_pid) if cpu_pid is not None else 0.0
            result = asyncio.run(run_load(HOST, port, path, seconds=seconds, connections=50, headers=headers))
            if result.errors or set(result.statuses) != {200}:
                raise RuntimeError(f"load on {path} saw {dict(result.statuses)} {dict(result.errors)}")
            if cpu_pid is not None:
                cpu_us[name].append((_cpu_seconds(cpu_pid) - cpu_before) / result.requests * 1e6)
            rps[name].append(result.rps)
            p99[name].append(result.percentile(0.99) * 1000)
    ratios = [s / b for s, b in zip(rps["status"], rps["bare"], strict=True)]
    out: dict[str, Any] = {
        "status_rps": statistics.median(rps["status"]),
        "bare_rps": statistics.median(rps["bare"]),
        "ratio": statistics.median(ratios),
        "ratios": ratios,
        "status_p99_ms": statistics.median(p99["status"]),
        "bare_p99_ms": statistics.median(p99["bare"]),
        "connections": 50,
        "seconds_per_run": seconds,
        "pairs": pairs,
    }
    if cpu_pid is not None:
        out["status_server_us"] = statistics.median(cpu_us["status"])
        out["bare_server_us"] = statistics.median(cpu_us["bare"])
    return out


def render_through_api(client: httpx.Client, body: dict[str, str], count: int, poll: float = 0.01) -> float:
    """Seconds from creating `count` videos at once to all of them completed (polled every `poll` s)."""
    started = time.perf_counter()
    ids = [client.post("/v1/videos", json=body).json()["id"] for _ in range(count)]
    pending = set(ids)
    while pending:
        for video_id in list(pending):
            status = client.get(f"/v1/videos/{video_id}").json()["status"]
            if status == "failed":
                raise RuntimeError(f"{video_id} failed")
            if status == "completed":
                pending.discard(video_id)
        time.sleep(poll)
    return time.perf_counter() - started


def create_video(client: httpx.Client, body: bytes, headers: dict[str, str]) -> str:
    """POST /v1/videos with `body` (the request's JSON, encoded once); the new video's id."""
    response = client.post("/v1/videos", content=body, headers={**headers, "Content-Type": "application/json"})
    response.raise_for_status()
    return str(response.json()["id"])


def timed_tenant(client: httpx.Client) -> dict[str, str]:
    """The header of a fresh tenant (its job list holds the bench's jobs only), once its clock is
    checked: the job log's times are wall-clock moments only on a real-time clock in fast pace."""
    tenant = {"X-Emulator-Tenant": f"bench-{uuid.uuid4().hex[:12]}"}
    clock = client.get("/_emulator/clock", headers=tenant).json()
    if (clock["mode"], clock["scale"], clock["pace"]) != ("real", 1.0, "fast"):
        raise RuntimeError(f"the bench needs a real-time clock in fast pace, not {clock}")
    return tenant


def finished_jobs(client: httpx.Client, tenant: dict[str, str], ids: list[str], poll: float) -> list[dict[str, Any]]:
    """The job log's entries of the videos `ids`, once all have ended (looked at every `poll` s);
    raises if one failed."""
    jobs: list[dict[str, Any]] = []
    while len(jobs) < len(ids):
        time.sleep(poll)
        listed = client.get("/_emulator/jobs", headers=tenant).json()["jobs"]
        jobs = [job for job in listed if job["id"] in ids and job["status"] in ("succeeded", "failed")]
    if failed := [job for job in jobs if job["status"] == "failed"]:
        raise RuntimeError(f"{failed} failed")
    return jobs


def renders_at_once(client: httpx.Client, body: bytes, count: int) -> float:
    """Seconds from creating `count` videos at once (a client thread each) to the last of them
    finished, as the emulator's job log times it: in fast pace on a real-time clock a job's
    `finished_at` is the wall-clock moment its MP4 was stored. The client looks every 50 ms, which
    takes next to nothing from the renders (polls every few ms, or following the live fMP4, took
    0.05-0.1 CPU-s of the two cores the renders share)."""
    tenant = timed_tenant(client)
    started = time.time()
    with ThreadPoolExecutor(count) as pool:
        ids = list(pool.map(lambda _: create_video(client, body, tenant), range(count)))
    return max(float(job["finished_at"]) for job in finished_jobs(client, tenant, ids, poll=0.05)) - started


def job_render_seconds(client: httpx.Client, body: bytes, poll: float = 0.25) -> float:
    """Create one video and wait for it; seconds from its render starting to its MP4 stored, as the
    job log times them (`started_at`, `finished_at`: wall-clock moments on a real-time clock in fast
    pace). That takes in handing the job to a worker, loading its inputs, the render and the remux.
    The client looks every `poll` s: the times come from the job log, so looking more often would only
    take CPU from the render."""
    tenant = timed_tenant(client)
    (job,) = finished_jobs(client, tenant, [create_video(client, body, tenant)], poll=poll)
    return float(job["finished_at"]) - float(job["started_at"])


def _job_fps(client: httpx.Client, body: bytes, frames: int) -> float:
    return frames / job_render_seconds(client, body)


def bench_single_job(base: str, seconds: float, runs: int = 5) -> list[dict[str, Any]]:
    """Per size: one `seconds` video through the API on an idle server, beside plain libx264 on the
    frames that server renders (the same image and audio, decoded as it decodes them); `runs`
    back-to-back pairs, alternating which half goes first; the ratio is the median of the pairs'."""
    png, wav = png_b64(portrait()), encode_audio(speech(seconds), "wav")
    image, audio = decode_image(base64.b64decode(png)), decode_audio(wav)
    rows = []
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer bench"}, timeout=120) as client:
        for width, height in SIZES:
            body = json.dumps({"ref_image": png, "input": base64.b64encode(wav).decode(),
                               "size": f"{width}x{height}"}).encode()
            job = RenderJob(image=image, audio=audio, width=width, height=height)
            frames = list(iter_yuv_frames(job))
            job_render_seconds(client, body)  # warm-up: the worker has rendered this size once
            server_fps, plain_fps = interleaved(partial(_job_fps, client, body, job.n_frames),
                                                partial(_plain_fps, frames, width, height), runs)
            del frames
            ratios = [r / q for r, q in zip(server_fps, plain_fps, strict=True)]
            rows.append({"size": f"{width}x{height}", "frames": job.n_frames, "runs": runs,
                         "server_render_fps": statistics.median(server_fps),
                         "plain_x264_ultrafast_fps": statistics.median(plain_fps),
                         "ratio": statistics.median(ratios), "ratios": ratios})
    return rows


def bench_parallel(base: str, clip_seconds: float = 10.0, runs: int = 7) -> dict[str, Any]:
    """Two renders at once (the server has 2 replicas, each render in its own worker process) beside
    the same two renders one after the other; interleaved, medians reported with every pair's ratio.
    The 1.6 MB request body is encoded once, so the client's own work takes little of the CPU."""
    body = json.dumps({"ref_image": png_b64(portrait()), "input": wav_b64(speech(clip_seconds))}).encode()
    together, apart = [], []
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer bench"}, timeout=120) as client:
        renders_at_once(client, body, 2)  # warm-up: both workers have rendered once
        for _ in range(runs):
            apart.append(renders_at_once(client, body, 1) + renders_at_once(client, body, 1))
            together.append(renders_at_once(client, body, 2))
    return {"clip_seconds": clip_seconds, "runs": runs, "one_after_the_other_s": statistics.median(apart),
            "at_once_s": statistics.median(together),
            "speedup": statistics.median(apart) / statistics.median(together),
            "speedups": [a / t for a, t in zip(apart, together, strict=True)]}


def print_table(results: dict[str, Any]) -> None:
    print("\nrender + encode vs plain libx264 ultrafast on the same frames (interleaved runs; ratio: their median)")
    print(f"{'size':>9} {'frames':>7} {'render fps':>11} {'plain fps':>10} {'ratio':>6} {'x realtime':>11}  runs")
    for row in results["render"]:
        print(
            f"{row['size']:>9} {row['frames']:>7} {row['render_encode_fps']:>11.0f} "
            f"{row['plain_x264_ultrafast_fps']:>10.0f} {row['ratio']:>6.2f} {row['x_realtime']:>11.1f}  "
            + " ".join(f"{ratio:.2f}" for ratio in row["ratios"])
        )
    print("\none video via the API (idle, --replicas 1) vs plain libx264 on its frames (ratio: median of pairs)")
    print(f"{'size':>9} {'frames':>7} {'server fps':>11} {'plain fps':>10} {'ratio':>6}  runs")
    for row in results["single_job"]:
        print(f"{row['size']:>9} {row['frames']:>7} {row['server_render_fps']:>11.0f} "
              f"{row['plain_x264_ultrafast_fps']:>10.0f} {row['ratio']:>6.2f}  "
              + " ".join(f"{ratio:.2f}" for ratio in row["ratios"]))
    s = results["stream"]
    print(f"\nstream (fast pace, median of {s['runs']}): first byte {s['ttfb_ms_median']:.1f} ms, "
          f"first fragment {s['first_fragment_ms_median']:.1f} ms")
    for key, label in (("status", "control plane on"), ("status_no_control", "--no-control")):
        h = results[key]
        print(f"GET /v1/videos/{{id}} ({label}): {h['status_rps']:.0f} req/s (p99 {h['status_p99_ms']:.1f} ms) vs "
              f"bare route {h['bare_rps']:.0f} req/s (p99 {h['bare_p99_ms']:.1f} ms): ratio {h['ratio']:.2f}  "
              + " ".join(f"{ratio:.2f}" for ratio in h["ratios"]))
        if "status_server_us" in h:
            print(f"  server CPU per request: status {h['status_server_us']:.1f} us, bare {h['bare_server_us']:.1f} us")
    par = results["parallel"]
    print(f"two {par['clip_seconds']:g} s renders (--replicas 2): at once {par['at_once_s']:.2f} s, one after the "
          f"other {par['one_after_the_other_s']:.2f} s: {par['speedup']:.2f}x faster  "
          + " ".join(f"{speedup:.2f}" for speedup in par["speedups"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="avatar-emulator bench", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("bench/results.json"))
    parser.add_argument("--seconds", type=float, default=60.0, help="clip length for the render benchmark")
    parser.add_argument("--load-seconds", type=float, default=1.5, help="length of each HTTP load run")
    parser.add_argument("--stream-runs", type=int, default=5)
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "render": bench_render(args.seconds),
    }
    with served(replicas=1) as (base, _, _):
        results["single_job"] = bench_single_job(base, args.seconds)
    for control in (True, False):
        with served(control=control) as (base, port, server):
            if control:
                results["stream"] = bench_stream(base, args.stream_runs)
                results["parallel"] = bench_parallel(base)
            results["status" if control else "status_no_control"] = bench_status(
                base, port, args.load_seconds, server_pid=server.pid)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    print_table(results)
    print(f"\nwrote {args.out}")
    return 0
