"""Per-tenant clocks: real, frozen or scaled, with `advance`. Every emulated timer reads one."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any, Literal

ClockMode = Literal["real", "frozen", "scaled"]


class Clock:
    """Emulated wall time in Unix seconds.

    `real` follows the machine; `frozen` stands still until advanced; `scaled` runs `scale` times
    faster than the machine. `advance(s)` jumps forward in any mode. Time never goes backwards.
    """

    def __init__(self, mode: ClockMode = "real", *, scale: float = 1.0, start: float | None = None) -> None:
        self._mode: ClockMode = mode
        self._scale = scale if mode == "scaled" else 1.0
        self._anchor_virtual = time.time() if start is None else start
        self._anchor_wall = time.time()
        """Anchored on wall time, not a monotonic clock: a clock saved in one process reads the same in
        another (several front-ends share tenants through Redis)."""
        self._changed = asyncio.Event()

    @property
    def mode(self) -> ClockMode:
        return self._mode

    @property
    def scale(self) -> float:
        return self._scale

    def now(self) -> float:
        if self._mode == "frozen":
            return self._anchor_virtual
        return self._anchor_virtual + max(0.0, time.time() - self._anchor_wall) * self._scale

    def _reanchor(self, virtual: float) -> None:
        self._anchor_virtual = virtual
        self._anchor_wall = time.time()
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def set_mode(self, mode: ClockMode, *, scale: float = 1.0) -> None:
        if mode == "scaled" and scale <= 0:
            raise ValueError("scale must be positive")
        now = self.now()
        self._mode = mode
        self._scale = scale if mode == "scaled" else 1.0
        self._reanchor(now)

    def advance(self, seconds: float) -> float:
        """Move the clock forward by `seconds`; return the new time."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._reanchor(self.now() + seconds)
        return self.now()

    def seconds_until(self, when: float) -> float | None:
        """Machine seconds until the clock reads `when`; None if only `advance` can get it there."""
        remaining = when - self.now()
        if remaining <= 0:
            return 0.0
        if self._mode == "frozen":
            return None
        return remaining / self._scale

    async def sleep_until(self, when: float) -> None:
        """Wait until the clock reads `when` (woken early by `advance` and mode changes)."""
        while True:
            wait = self.seconds_until(when)
            if wait == 0.0:
                return
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=wait)

    def describe(self) -> dict[str, object]:
        return {"mode": self._mode, "scale": self._scale, "now": self.now()}

    def record(self) -> dict[str, Any]:
        """What it takes to rebuild this clock elsewhere (see `from_record`)."""
        return {"mode": self._mode, "scale": self._scale, "virtual": self._anchor_virtual, "wall": self._anchor_wall}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Clock:
        clock = cls(record["mode"], scale=record["scale"], start=record["virtual"])
        clock._anchor_wall = record["wall"]
        return clock
