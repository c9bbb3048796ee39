"""A growing fragmented-MP4 file that many readers can follow while a job writes it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .jobs import Job
    from .tenants import Tenant


@dataclass(frozen=True)
class FragmentMark:
    end_offset: int
    """Bytes of the file that are complete once this fragment is written."""
    media_end: float
    """Seconds of video covered once this fragment is written (0 for the init segment)."""


class FragmentLog:
    """Fragment boundaries of a file being written by a worker thread.

    The writer calls `append` (from any thread) after each fragment is flushed to disk and
    `close` at the end; readers `follow` the file fragment by fragment.
    """

    def __init__(self, path: Path, loop: asyncio.AbstractEventLoop) -> None:
        self.path = path
        self.marks: list[FragmentMark] = []
        self.closed = False
        self.complete = False
        self._loop = loop
        self._changed = asyncio.Event()

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()

    def append(self, end_offset: int, media_end: float) -> None:
        self.marks.append(FragmentMark(end_offset, media_end))
        self._loop.call_soon_threadsafe(self._notify)

    def close(self, *, complete: bool) -> None:
        self.closed = True
        self.complete = complete
        self._loop.call_soon_threadsafe(self._notify)

    async def wait_for(self, count: int) -> bool:
        """Wait until more than `count` fragments exist; False if the log closed first."""
        while len(self.marks) <= count:
            if self.closed:
                return False
            await self._changed.wait()
        return True

    async def follow(self, chunk: int = 256 * 1024) -> AsyncGenerator[tuple[int, FragmentMark, bytes], None]:
        """Yield (index, mark, bytes) for each fragment as soon as it is on disk."""
        index = 0
        offset = 0
        with self.path.open("rb") as handle:
            while await self.wait_for(index):
                mark = self.marks[index]
                handle.seek(offset)
                data = handle.read(mark.end_offset - offset)
                offset = mark.end_offset
                yield index, mark, data
                index += 1


async def released_fragments(job: Job, tenant: Tenant) -> AsyncIterator[bytes]:
    """The job's fMP4 as a live stream: the init segment at once, then each fragment when it exists
    both on disk and in emulated time (the job's start plus the tenant's pace for its media end)."""
    fragments = job.fragments
    assert fragments is not None
    await job.started.wait()
    # aclosing: when the client goes away mid-stream, the fragment reader's file is closed at once.
    async with contextlib.aclosing(fragments.follow()) as frames:
        async for index, mark, data in frames:
            if index > 0 and job.started_at is not None:
                await tenant.clock.sleep_until(job.started_at + tenant.pacing.media_time_at(mark.media_end))
            yield data
