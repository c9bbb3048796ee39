"""The emulator's configuration, shared by the CLI, the app factory and the pytest plugin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Pace = Literal["fast", "realtime"] | float


def parse_pace(value: str | float) -> Pace:
    """`fast`, `realtime`, or a number N meaning N x real time."""
    if isinstance(value, int | float):
        if value <= 0:
            raise ValueError("pace must be a positive number")
        return float(value)
    if value in ("fast", "realtime"):
        return value  # type: ignore[return-value]
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"pace must be 'fast', 'realtime' or a positive number, not {value!r}") from None
    if number <= 0:
        raise ValueError("pace must be a positive number")
    return number


@dataclass(frozen=True)
class Settings:
    """Everything `avatar-emulator serve` can be told."""

    api_keys: tuple[str, ...] = ()
    """Accepted keys; empty means any non-empty key."""
    replicas: int = 2
    queue: int = 4
    heygen_concurrency: int = 3
    pace: Pace = "fast"
    seed: int = 0
    data_dir: Path | None = None
    control: bool = True
    public_url: str | None = None
    """Base URL used in links the emulator hands out (HeyGen video_url...); default: the request's own."""
    retain_seconds: float | None = None
    """Remove finished jobs' media this long after they finish (None: keep them)."""
    max_media_bytes: int | None = None
    """Remove the oldest finished media once all media take more than this (None: no cap)."""
    control_token: str | None = None
    """Lets non-loopback clients use /_emulator when they send it (Bearer or X-Emulator-Control-Token)."""
    graceful_shutdown_s: float = 10.0
    """On SIGTERM, how long responses in flight (streams included) may take to finish."""
    replay_dir: Path | None = None
    """Answer the requests recorded here (by `avatar-emulator record`) from their cassettes."""
    replay_miss: Literal["emulate", "404"] = "emulate"
    """What a request the cassettes do not hold gets: the emulator's answer, or a 404 in the provider's envelope."""
    replay_speed: float = 1.0
    """Recorded streams are replayed this many times faster than recorded (0: no waiting)."""
    extra: dict[str, object] = field(default_factory=dict)
