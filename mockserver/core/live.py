"""A job's fragmented MP4 as a live stream, paced by its tenant's clock (streams and the dashboard)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from .jobs import Job
from .tenants import Tenant


class InitSegmentMismatch(Exception):
    """The render wrote another init segment than the one sent ahead of it (an engine bug)."""


async def released_fragments(job: Job, tenant: Tenant, *, sent_init: bytes | None = None) -> AsyncIterator[bytes]:
    """The job's fMP4 as a live stream: the init segment at once, then each fragment when it exists
    both on disk and in emulated time (the job's start plus the tenant's pace for its media end).

    `sent_init`: the init segment was already sent (it depends on the output size only); the one
    the render writes is checked against it instead of being sent again.
    """
    fragments = job.fragments
    assert fragments is not None
    if sent_init is not None:
        yield sent_init
    await job.started.wait()
    # aclosing: when the client goes away mid-stream, the fragment reader's file is closed at once.
    async with contextlib.aclosing(fragments.follow()) as frames:
        async for index, mark, data in frames:
            if index == 0 and sent_init is not None:
                if data != sent_init:
                    raise InitSegmentMismatch(f"job {job.id} wrote another init segment than the one sent")
                continue
            if index > 0 and job.started_at is not None:
                await tenant.clock.sleep_until(job.started_at + tenant.pacing.media_time_at(mark.media_end))
            yield data
