"""A job's fragmented MP4 as a live stream, paced by its tenant's clock (streams and the dashboard)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from .state import LiveJob


class InitSegmentMismatch(Exception):
    """The render wrote another init segment than the one sent ahead of it (an engine bug)."""


async def released_fragments(live: LiveJob, *, sent_init: bytes | None = None) -> AsyncIterator[bytes]:
    """A job's fMP4 as a live stream: the init segment at once, then each fragment when it exists
    both where the render writes it and in emulated time (the job's start plus the tenant's pace for
    its media end).

    `sent_init`: the init segment was already sent (it depends on the output size only); the one
    the render writes is checked against it instead of being sent again.
    """
    if sent_init is not None:
        yield sent_init
    started_at = await live.wait_started()
    # aclosing: when the client goes away mid-stream, the fragment reader closes what it holds at once.
    async with contextlib.aclosing(live.follow()) as frames:
        async for index, media_end, data in frames:
            if index == 0 and sent_init is not None:
                if data != sent_init:
                    raise InitSegmentMismatch("the render wrote another init segment than the one sent")
                continue
            if index > 0:
                await live.sleep_until(started_at + live.media_time_at(media_end))
            yield data
