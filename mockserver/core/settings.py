"""The emulator's configuration, shared by the CLI, the app factory and the pytest plugin."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

Pace = Literal["fast", "realtime"] | float
FetchPolicy = Literal["off", "local", "any"]
"""Which URL inputs are fetched: none, loopback only, or any host but link-local/metadata ones."""

DEFAULT_WEBHOOK_BACKOFF: tuple[float, ...] = (1.0, 5.0, 25.0, 125.0)


def parse_pace(value: str | float) -> Pace:
    """`fast`, `realtime`, or a number N meaning N x real time."""
    if value == "fast":
        return "fast"
    if value == "realtime":
        return "realtime"
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"pace must be 'fast', 'realtime' or a positive number, not {value!r}") from None
    if value <= 0:
        raise ValueError("pace must be a positive number")
    return float(value)


@dataclass(frozen=True)
class Settings:
    """Everything `avatar-emulator serve` can be told. Frozen: nothing changes it once the app is built."""

    api_keys: tuple[str, ...] = ()
    """Accepted keys; empty means any non-empty key."""
    replicas: int = 2
    """Boson jobs that render at once."""
    render_cores: int = 0
    """CPU cores one Boson render uses: 1 draws and encodes its frames in turn; 2 or more draw them on
    a thread of their own beside x264 (same bytes). 0: this machine's cores shared out among the
    replicas (`boson.render.render_cores`)."""
    queue: int = 4
    """Boson jobs that may wait in `queued`; past replicas + queue, creates answer 429."""
    heygen_concurrency: int = 3
    """HeyGen jobs processed at once; the others wait `pending`."""
    heygen_webhook_backoff: tuple[float, ...] = DEFAULT_WEBHOOK_BACKOFF
    """Seconds (on the tenant's clock) before each retry of a failed HeyGen webhook delivery."""
    pace: Pace = "fast"
    seed: int = 0
    data_dir: Path | None = None
    fetch: FetchPolicy = "local"
    fetch_deadline_s: float = 5.0
    """One URL input may take this long in all: connecting, headers and body together."""
    public_url: str | None = None
    """Base URL used in links the emulator hands out (HeyGen video_url...); default: the request's own."""
    retain_seconds: float | None = None
    """Remove finished jobs' media this long after they finish (None: keep them)."""
    max_media_bytes: int | None = None
    """Remove the oldest finished media once all media take more than this (None: no cap)."""
    control: bool = True
    """Serve the /_emulator control plane (faults, clock, journal, state)."""
    control_token: str | None = None
    """Lets non-loopback clients use /_emulator when they send it (Bearer or X-Emulator-Control-Token)."""
    control_any_host: bool = False
    """Lets any client use /_emulator (e.g. an emulator in a CI service container)."""
    journal_size: int = 1000
    """Requests each tenant's journal keeps (the oldest go first)."""
    probe_workers: int = 2
    """Worker processes that decode and check media at create time (and encode speech)."""
    worker_memory_mb: int = 2048
    """Memory each worker process may add (RLIMIT_AS); 0: no limit."""
    worker_cpu_seconds: float = 300.0
    """CPU time one render may use before its worker is stopped; 0: no limit."""
    start_all_workers: bool = False
    """Start every worker process at startup (`serve` does), not one per pool and the rest on demand."""
    graceful_shutdown_s: float = 10.0
    """On SIGTERM, how long responses in flight (streams included) may take to finish."""
    state: str | None = None
    """Where tenants live: None for this process's memory (and --data-dir SQLite), or a Redis URL
    (`redis://HOST:PORT/DB`) shared by several front-ends and render workers."""
    render_workers: int = 0
    """With Redis state: render processes this front-end runs itself (0: `avatar-emulator worker`s render)."""
    worker_silence_s: float = 10.0
    """With Redis state: a render whose worker stops reporting for this long fails (its worker died)."""
    replay_dir: Path | None = None
    """Answer the requests recorded here (by `avatar-emulator record`) from their cassettes."""
    replay_miss: Literal["emulate", "404"] = "emulate"
    """What a request the cassettes do not hold gets: the emulator's answer, or a 404 in the provider's envelope."""
    replay_speed: float = 1.0
    """Recorded streams are replayed this many times faster than recorded (0: no waiting)."""
    report_file: Path | None = None
    """A conformance report (JSON) that the dashboard shows at GET /_emulator/report."""



def settings_to_json(settings: Settings) -> str:
    """The settings as JSON (how `serve --workers N` hands them to its worker processes)."""
    data = {key: str(value) if isinstance(value, Path) else value for key, value in asdict(settings).items()}
    return json.dumps(data)


def settings_from_json(text: str) -> Settings:
    data = json.loads(text)
    for key in ("data_dir", "replay_dir", "report_file"):
        if data.get(key) is not None:
            data[key] = Path(data[key])
    for key in ("api_keys", "heygen_webhook_backoff"):
        data[key] = tuple(data[key])
    return Settings(**data)
