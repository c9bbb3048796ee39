"""`avatar-emulator serve | worker | render | conformance | bench | record | drift | report`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .core.settings import DEFAULT_WEBHOOK_BACKOFF, Settings, parse_pace, settings_to_json
from .http.serving import listening_socket, tune_server_process


def _seconds_list(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds separated by commas, got {text!r}") from None
    if any(value < 0 for value in values):
        raise argparse.ArgumentTypeError("seconds must be >= 0")
    return values


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="serve the emulated APIs (Boson, HeyGen) over HTTP")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--replicas", type=int, default=2, help="Boson jobs that render at once (default 2)")
    p.add_argument("--render-cores", type=int, default=0,
                   help="CPU cores one Boson render uses (default 0: this machine's cores / --replicas)")
    p.add_argument("--queue", type=int, default=4, help="Boson jobs that may wait in 'queued' (default 4)")
    p.add_argument("--heygen-concurrency", type=int, default=3, help="HeyGen jobs processed at once (default 3)")
    p.add_argument("--heygen-webhook-backoff", type=_seconds_list, default=DEFAULT_WEBHOOK_BACKOFF,
                   metavar="S,S,...", help="seconds before each retry of a failed HeyGen webhook (default 1,5,25,125)")
    p.add_argument("--pace", default="fast", help="fast (default), realtime, or a number N meaning N x real time")
    p.add_argument("--seed", type=int, default=0, help="seed for ids and rendered media (default 0)")
    p.add_argument("--api-key", action="append", default=[], help="accept only this key (repeatable)")
    p.add_argument("--data-dir", type=Path, default=None,
                   help="keep jobs (SQLite) and media here, across restarts (default: memory and a temporary folder)")
    p.add_argument("--retain-seconds", type=float, default=None, help="remove finished media after this many seconds")
    p.add_argument("--max-media-bytes", type=int, default=None,
                   help="remove the oldest finished media beyond this many bytes")
    p.add_argument("--control-token", default=None,
                   help="let non-loopback clients use /_emulator when they send this token (Bearer)")
    p.add_argument("--graceful-shutdown", type=float, default=10.0,
                   help="on SIGTERM, seconds that responses in flight may take to finish (default 10)")
    p.add_argument("--fetch", choices=["off", "local", "any"], default="local", help="which URL inputs are fetched")
    p.add_argument("--fetch-deadline", type=float, default=5.0,
                   help="seconds one URL input may take in all: connect, headers and body (default 5)")
    p.add_argument("--probe-workers", type=int, default=2,
                   help="worker processes that decode and check media at create time (default 2)")
    p.add_argument("--worker-memory-mb", type=int, default=2048,
                   help="memory each worker process may add, in MiB (RLIMIT_AS; 0: no limit; default 2048)")
    p.add_argument("--lazy-workers", action="store_true",
                   help="start one worker process per pool at startup and the others on demand (default: all)")
    p.add_argument("--worker-cpu-seconds", type=float, default=300.0,
                   help="CPU seconds one render may use before its worker is stopped (0: no limit; default 300)")
    p.add_argument("--no-control", action="store_true", help="switch off the /_emulator control plane")
    p.add_argument("--control-any-host", action="store_true",
                   help="let non-loopback clients use /_emulator (e.g. a CI service container)")
    p.add_argument("--public-url", default=None, help="base URL used in links the emulator hands out")
    p.add_argument("--replay", type=Path, default=None, metavar="DIR",
                   help="answer the requests recorded in DIR (avatar-emulator record) from their cassettes")
    p.add_argument("--replay-miss", choices=["emulate", "404"], default="emulate",
                   help="requests the cassettes do not hold: the emulator answers (default), or 404")
    p.add_argument("--replay-speed", type=float, default=1.0,
                   help="replay recorded streams N times faster than recorded (default 1; 0: no waiting)")
    p.add_argument("--state", default=None, metavar="redis://HOST:PORT/DB",
                   help="keep tenants in Redis, shared by several front-ends and render workers "
                        "(needs --data-dir on a volume they all mount; default: this process's memory)")
    p.add_argument("--render-workers", type=int, default=0,
                   help="with --state redis://: render processes this front-end runs itself (default 0: "
                        "`avatar-emulator worker`s render)")
    p.add_argument("--worker-silence", type=float, default=10.0,
                   help="with --state redis://: fail a render whose worker stops reporting this many seconds")
    p.add_argument("--workers", type=int, default=1,
                   help="front-end processes serving the port (more than 1 needs --state redis://)")
    p.add_argument("--log-level", default="info")


def _check_state(args: argparse.Namespace) -> None:
    if args.state is None:
        if args.workers > 1:
            raise SystemExit("avatar-emulator: --workers N needs --state redis://HOST:PORT/DB: processes share "
                             "tenants through Redis (without it each would have its own jobs, clocks and faults)")
        if args.render_workers:
            raise SystemExit("avatar-emulator: --render-workers needs --state redis://...: without it, every "
                             "render already runs in this server's worker processes")
        return
    if not args.state.startswith(("redis://", "rediss://", "unix://")):
        raise SystemExit(f"avatar-emulator: --state must be a Redis URL (redis://HOST:PORT/DB), not {args.state!r}")
    if args.data_dir is None:
        raise SystemExit("avatar-emulator: --state redis:// needs --data-dir DIR: a volume every front-end and "
                         "render worker mounts at the same path (rendered media live there)")
    if args.retain_seconds is not None or args.max_media_bytes is not None:
        raise SystemExit("avatar-emulator: --retain-seconds and --max-media-bytes work with embedded state only")
    if args.workers < 1 or args.render_workers < 0:
        raise SystemExit("avatar-emulator: --workers must be >= 1 and --render-workers >= 0")


def settings_from_args(args: argparse.Namespace) -> Settings:
    for name in ("replicas", "queue", "heygen_concurrency", "probe_workers"):
        if getattr(args, name) < (1 if name != "queue" else 0):
            raise SystemExit(f"avatar-emulator: --{name.replace('_', '-')} is too small")
    if args.render_cores < 0:
        raise SystemExit("avatar-emulator: --render-cores must be >= 0 (0: this machine's cores / --replicas)")
    if args.fetch_deadline <= 0:
        raise SystemExit("avatar-emulator: --fetch-deadline must be a positive number of seconds")
    try:
        pace = parse_pace(args.pace)
    except ValueError as exc:
        raise SystemExit(f"avatar-emulator: --pace: {exc}") from None
    if args.replay is not None and not (args.replay / "cassettes.json").is_file():
        raise SystemExit(f"avatar-emulator: --replay: {args.replay} holds no cassettes (no cassettes.json in it)")
    if args.replay_speed < 0:
        raise SystemExit("avatar-emulator: --replay-speed must be >= 0 (0: no waiting)")
    _check_state(args)
    return Settings(
        api_keys=tuple(args.api_key),
        replicas=args.replicas,
        render_cores=args.render_cores,
        queue=args.queue,
        heygen_concurrency=args.heygen_concurrency,
        pace=pace,
        seed=args.seed,
        data_dir=args.data_dir,
        control=not args.no_control,
        public_url=args.public_url,
        retain_seconds=args.retain_seconds,
        max_media_bytes=args.max_media_bytes,
        control_token=args.control_token,
        control_any_host=args.control_any_host,
        graceful_shutdown_s=args.graceful_shutdown,
        fetch=args.fetch,
        fetch_deadline_s=args.fetch_deadline,
        probe_workers=args.probe_workers,
        worker_memory_mb=max(0, args.worker_memory_mb),
        worker_cpu_seconds=max(0.0, args.worker_cpu_seconds),
        heygen_webhook_backoff=args.heygen_webhook_backoff,
        start_all_workers=not args.lazy_workers,
        state=args.state,
        render_workers=args.render_workers,
        worker_silence_s=args.worker_silence,
        replay_dir=args.replay,
        replay_miss=args.replay_miss,
        replay_speed=args.replay_speed,
    )


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from .http.app import SETTINGS_ENV, create_app

    settings = settings_from_args(args)
    base = f"http://{args.host}:{args.port}"
    state = f"state={settings.state}" if settings.state else "state=embedded"
    print(
        f"avatar-emulator: Boson at {base}/v1 (Bearer auth), HeyGen at {base} (x-api-key); "
        f"pace={settings.pace}, replicas={settings.replicas}, queue={settings.queue}, {state}",
        flush=True,
    )
    sock = listening_socket(args.host, args.port)
    graceful = max(1, round(settings.graceful_shutdown_s))
    if args.workers > 1:
        from uvicorn.supervisors import Multiprocess

        os.environ[SETTINGS_ENV] = settings_to_json(settings)
        config = uvicorn.Config("mockserver.http.app:app_from_environment", factory=True, workers=args.workers,
                                log_level=args.log_level, access_log=False, timeout_graceful_shutdown=graceful)
        Multiprocess(config, sockets=[sock]).run()
        return 0
    app = create_app(settings)
    tune_server_process()
    config = uvicorn.Config(app, log_level=args.log_level, access_log=False, timeout_graceful_shutdown=graceful)
    uvicorn.Server(config).run(sockets=[sock])
    return 0


def _worker_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("worker", help="render videos for front-ends that share --state redis://")
    p.add_argument("--state", required=True, metavar="redis://HOST:PORT/DB", help="the Redis the front-ends use")
    p.add_argument("--data-dir", type=Path, required=True,
                   help="the media volume, mounted at the same path as on the front-ends")
    p.add_argument("--concurrency", type=int, default=2, help="renders at once, one process each (default 2)")
    p.add_argument("--worker-memory-mb", type=int, default=2048)
    p.add_argument("--worker-cpu-seconds", type=float, default=300.0)
    p.add_argument("--name", default=None, help="this worker's name in the consumer group (default host-pid)")


def worker(args: argparse.Namespace) -> int:
    """Take render orders from Redis until SIGTERM/SIGINT."""
    import asyncio
    import signal

    from .core.state.render_service import RenderService
    from .core.workers import ENGINE_MODULES, WorkerLimits, WorkerPool

    if args.concurrency < 1:
        raise SystemExit("avatar-emulator worker: --concurrency must be >= 1")
    if not args.state.startswith(("redis://", "rediss://", "unix://")):
        raise SystemExit(f"avatar-emulator worker: --state must be a Redis URL, not {args.state!r}")
    limits = WorkerLimits(memory_bytes=args.worker_memory_mb * 1024 * 1024 if args.worker_memory_mb else None,
                          cpu_seconds=args.worker_cpu_seconds or None)
    modules = (*ENGINE_MODULES, "mockserver.providers.boson.tasks", "mockserver.providers.heygen.tasks")

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        pool = WorkerPool("render", args.concurrency, limits=limits, preload=modules)
        await asyncio.to_thread(pool.prewarm, args.concurrency)
        service = RenderService(args.state, pool, name=args.name)
        print(f"avatar-emulator worker {service.name}: rendering for {args.state} with {args.concurrency} "
              f"process(es), media in {args.data_dir}", flush=True)
        try:
            await service.run(stop)
        finally:
            pool.close()

    asyncio.run(run())
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The `avatar-emulator` parser: `serve` and `worker` in full; the other commands parse their own flags."""
    parser = argparse.ArgumentParser(prog="avatar-emulator", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    _worker_parser(sub)
    sub.add_parser("render", help="render a talking-head MP4 from an image and audio", add_help=False)
    sub.add_parser("conformance", help="run the conformance suite against a deployment", add_help=False)
    sub.add_parser("bench", help="run the benchmarks, write bench/results.json, print a table", add_help=False)
    sub.add_parser("record", help="record a session against the real API through a proxy", add_help=False)
    sub.add_parser("drift", help="replay recorded requests against the emulator and report differences",
                   add_help=False)
    sub.add_parser("report", help="open a conformance report in the dashboard", add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] in ("record", "drift"):
        from .tools import drift, record

        return (record.main if argv[0] == "record" else drift.main)(argv[1:])
    if argv and argv[0] in ("render", "conformance", "bench", "report"):
        command, rest = argv[0], argv[1:]
        if command == "render":
            from reference_engine.cli import main as render_main

            return render_main(rest)
        if command == "conformance":
            from contracts.cli import main as conformance_main

            return conformance_main(rest)
        if command == "report":
            from .tools.report import main as report_main

            return report_main(rest)
        from .tools.bench import main as bench_main

        return bench_main(rest)
    args = parser.parse_args(argv)
    return worker(args) if args.command == "worker" else serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
