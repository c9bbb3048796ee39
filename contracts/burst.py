"""A burst of HeyGen videos read round-robin, and the most of them certainly processing at once."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from contracts.heygen import STATUS_PATH, TERMINAL, body, json_of, silence_scene
from contracts.heygen_jobs import HgJobs, HgRun


@dataclass
class Burst:
    runs: list[HgRun]
    reads: dict[str, list[tuple[float, float, str | None]]] = field(default_factory=dict)
    """video id -> (sent, answered, status) of every read, on time.monotonic()."""


def burst(hg_jobs: HgJobs, size: int) -> Burst:
    """Generate `size` one-second videos back to back, then read their statuses round-robin until all end."""
    catalog = hg_jobs.catalog
    hg_jobs.target.require_budget(size)
    made = Burst([hg_jobs.start(body(catalog, silence_scene(catalog, 1.0))) for _ in range(size)])
    client = hg_jobs.client
    deadline = time.monotonic() + hg_jobs.wait
    pending = {r.video_id: r for r in made.runs if r.video_id}
    while pending and time.monotonic() < deadline:
        for vid in list(pending):
            sent = time.monotonic()
            answer = json_of(client.get(STATUS_PATH, params={"video_id": vid}))
            data = answer.get("data") if isinstance(answer, dict) else None
            status = data.get("status") if isinstance(data, dict) else None
            made.reads.setdefault(vid, []).append((sent, time.monotonic(), status))
            if status in TERMINAL:
                del pending[vid]
        time.sleep(hg_jobs.interval / 2)
    return made


def max_certainly_concurrent(reads: dict[str, list[tuple[float, float, str | None]]]) -> int:
    """The most videos whose processing certainly overlapped.

    A video was processing at least from the answer to its first read that said so until the sending of its last
    one (status only moves forward, so it cannot have left processing in between). Overlaps of these inner
    intervals are certain, whatever happened between reads.
    """
    intervals = []
    for seen in reads.values():
        processing = [(sent, answered) for sent, answered, status in seen if status == "processing"]
        if len(processing) >= 2 and processing[0][1] < processing[-1][0]:
            intervals.append((processing[0][1], processing[-1][0]))
    events = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals], key=lambda e: (e[0], e[1]))
    best = current = 0
    for _, step in events:
        current += step
        best = max(best, current)
    return best
