"""Decode a request's media in a worker process, never in the server: the bytes go to a scratch
file, a probe worker checks the headers and decodes them to a `.npy` the render reads later.

Whatever goes wrong (the decoder refuses the file, crashes, or runs out of memory) comes back
as `MediaRejected`, which each provider turns into a 400 in its own envelope.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.workers import CrashPlan, TaskFailed, WorkerDied
from .routing import Call


class MediaRejected(Exception):
    """The media cannot be used; `message` says why, `reason` classifies it (e.g. "too_long")."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


def crash_plan(call: Call, stage: str) -> CrashPlan | None:
    """The CrashPlan a `worker_crash` fault rule asked for at `stage` ("probe" or "render")."""
    wanted = call.notes.worker_crash
    if wanted != stage:
        return None
    return CrashPlan("probe") if stage == "probe" else CrashPlan("fragment", 2)


async def decode_in_worker(
    call: Call, task: Callable[..., Any], data: bytes, what: str, *args: Any
) -> tuple[Path, Any]:
    """Run `task(ctx, source, target, *args)` on a probe worker; returns (target .npy path, result).

    `what` names the media for messages ("image", "audio").
    """
    store, tenant = call.emulator.store, call.tenant.name
    source, target = store.scratch(tenant, ".bin"), store.scratch(tenant, ".npy")
    source.write_bytes(data)
    try:
        result = await call.emulator.workers.probe.run(task, str(source), str(target), *args,
                                                       crash=crash_plan(call, "probe"))
    except TaskFailed as failed:
        target.unlink(missing_ok=True)
        if failed.kind == "error":
            raise
        reason = "memory" if failed.kind == "memory" else str(failed.details.get("reason", "undecodable"))
        message = f"the {what} needs more memory to decode than allowed" if failed.kind == "memory" else failed.message
        raise MediaRejected(message, reason) from None
    except WorkerDied:
        target.unlink(missing_ok=True)
        raise MediaRejected(f"the {what} could not be decoded: the decoder crashed on it", "crashed") from None
    finally:
        with contextlib.suppress(OSError):
            source.unlink()
    return target, result
