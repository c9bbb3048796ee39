"""Media retention (`--retain-seconds`, `--max-media-bytes`): the oldest finished media go first.

Only the files of finished jobs are removed; the job itself stays, so its status still answers and
a download says the content is no longer stored (a 404 in the provider's envelope, never a 500).
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .jobs import Job

if TYPE_CHECKING:
    from .state import EmbeddedTenants

log = logging.getLogger("avatar_emulator")

SWEEP_INTERVAL_S = 1.0
UNLINK_GRACE_S = 30.0
"""Evicted files are unlinked this long after the eviction: new downloads answer 404 at once, and a
download that had already passed its check still finds the file it is about to open."""
EVICTED_KEY = "evicted"
"""Set in `job.params` once a job's media were removed by the retention policy."""


@dataclass
class _Held:
    job: Job
    finished: float
    """Machine time (time.time()) when the sweep first saw the job finished."""
    size: int


def _size(job: Job) -> int:
    total = 0
    for path in job.files.values():
        with contextlib.suppress(OSError):
            total += path.stat().st_size
    return total


class Retention:
    """Evicts finished jobs' media older than `retain_seconds` or beyond `max_bytes` in total."""

    def __init__(self, tenants: EmbeddedTenants, *, retain_seconds: float | None, max_bytes: int | None) -> None:
        self.tenants = tenants
        self.retain_seconds = retain_seconds
        self.max_bytes = max_bytes
        self.evicted = 0
        self._held: dict[tuple[str, str], _Held] = {}
        self._doomed: list[tuple[float, list[Path]]] = []
        self._last = 0.0

    @property
    def enabled(self) -> bool:
        return self.retain_seconds is not None or self.max_bytes is not None

    def held_bytes(self) -> int:
        return sum(held.size for held in self._held.values())

    def maybe_sweep(self) -> None:
        """Sweep at most once per SWEEP_INTERVAL_S (called from the emulator's tick)."""
        now = time.monotonic()
        if self.enabled and now - self._last >= SWEEP_INTERVAL_S:
            self._last = now
            try:
                self.sweep()
            except Exception:  # retention must never take the emulator down
                log.exception("media retention sweep failed")

    def sweep(self, now: float | None = None) -> int:
        """Evict what the policy says must go; return how many jobs lost their media."""
        self.unlink_due()
        now = time.time() if now is None else now
        live: set[tuple[str, str]] = set()
        for name in self.tenants.tenant_names():
            for job in list(self.tenants.get(name).jobs.values()):
                if not job.status.terminal or not job.files or job.params.get(EVICTED_KEY):
                    continue
                key = (job.tenant, job.id)
                live.add(key)
                if key not in self._held:
                    self._held[key] = _Held(job, now, _size(job))
        for key in set(self._held) - live:  # dropped tenants, evicted jobs
            del self._held[key]
        order = sorted(self._held.values(), key=lambda held: held.finished)
        evicted = 0
        total = sum(held.size for held in order)
        for held in order:
            too_old = self.retain_seconds is not None and now - held.finished > self.retain_seconds
            too_big = self.max_bytes is not None and total > self.max_bytes
            if not (too_old or too_big):
                continue
            self._evict(held.job)
            total -= held.size
            del self._held[(held.job.tenant, held.job.id)]
            evicted += 1
        self.evicted += evicted
        return evicted

    def _evict(self, job: Job) -> None:
        job.params[EVICTED_KEY] = True
        self._doomed.append((time.monotonic() + UNLINK_GRACE_S, list(job.files.values())))
        self.unlink_due()

    def unlink_due(self, *, force: bool = False) -> None:
        now = time.monotonic()
        keep = []
        for due, paths in self._doomed:
            if not force and due > now:
                keep.append((due, paths))
                continue
            for path in paths:
                with contextlib.suppress(OSError):
                    path.unlink()
        self._doomed = keep
