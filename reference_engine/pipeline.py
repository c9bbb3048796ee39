"""The render pipeline's threads: frames drawn on one, x264 on another, muxing on the caller's.

x264 is the slowest stage and the only one that cannot be split, so everything else runs beside it:
the drawing thread stays a few frames ahead, and the caller muxes the packets of earlier frames
(and does whatever it does with the fragments) while the next frame encodes. PyAV and OpenCV drop
the GIL in their C work, so the stages overlap on separate cores.

The hand-offs are C-level `queue.SimpleQueue`s, a few microseconds each; a `queue.Queue` (Python
locks) cost the encoder's thread ~17 µs a frame. Each hand-off is bounded by tokens that flow back.

The faster stages get their work in batches, so that they sleep and wake once in several frames
rather than once a frame: the muxer gets a fragment's packets at a time, the drawing thread a third
of its ring's buffers. Waking a sleeping thread costs the thread that wakes it (x264) a futex call,
on a virtual machine an interrupt to the other core, and then a race for the GIL. x264's thread used
7-10% more CPU when it handed each frame's packets to a waiting thread than when it kept them; in
6 alternating pairs of 60 s renders at 640x480, render+encode ÷ bare x264 went from 0.85 to 0.90.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import av
import numpy as np

from . import FPS
from .animate import FaceAnimator
from .video import FRAG_DURATION_US, FragmentedMP4Writer, yield_to_encoder

RING = 24
"""Frames the drawing thread may run ahead of the encoder. The first frames of speech each need a
mouth level, an eyelid level or a head offset that is not cached yet (2-3 ms to build, against
under 1 ms of x264 a frame), so a deep ring lets the drawing thread catch up before x264 waits:
with 8, x264 waited 30-50 ms in the first 100 frames of a 640x480 clip; with 24, 9-16 ms."""
RING_BYTES = 16 << 20  # ... but no more memory than this, at any size (at least MIN_RING frames)
MIN_RING = 4
FREE_BATCH = 8  # used buffers handed back to the drawing thread at a time (at most a third of the ring)
FRAGMENT_FRAMES = FPS * FRAG_DURATION_US // 1_000_000  # frames whose packets the muxer gets at a time
PACKETS_AHEAD = 16  # frames the encoder may run ahead of the muxer (rounded up to whole fragments)


def ring_size(frame_bytes: int) -> int:
    """How many buffers of `frame_bytes` the drawing thread gets."""
    return max(MIN_RING, min(RING, RING_BYTES // max(1, frame_bytes)))


AGAIN = -1
"""Handed on instead of a buffer: this frame is the one before it again (the same state), not drawn."""


class DrawnFrames:
    """The animator's frames, drawn on a thread of their own into a ring of `ring_size` buffers.

    `next()` returns the next frame (None at the end); the frame it returned before may be
    overwritten from then on, unless it is returned again: a frame like the one before it (a
    still mouth and head, about a quarter of a speech's frames) is neither drawn nor written.
    Used buffers go back to the drawing thread a batch at a time, sooner only when it has none
    left; `handoffs` counts the batches it has been given.
    """

    def __init__(self, animator: FaceAnimator) -> None:
        self._buffers = [np.empty_like(animator.base) for _ in range(ring_size(animator.base.nbytes))]
        self._batch = max(1, min(FREE_BATCH, len(self._buffers) // 3))
        self._free: queue.SimpleQueue[list[int] | None] = queue.SimpleQueue()
        self._filled: queue.SimpleQueue[int | BaseException | None] = queue.SimpleQueue()
        self._held: int | None = None  # the buffer the consumer has now
        self._used: list[int] = []  # buffers the consumer is done with, not handed back yet
        self._lent = len(self._buffers)  # buffers the drawing thread has that it has not filled
        self.handoffs = 1
        self._free.put(list(range(len(self._buffers))))
        self._thread = threading.Thread(target=self._draw, args=(animator,), name="draw", daemon=True)
        self._thread.start()

    def _draw(self, animator: FaceAnimator) -> None:
        yield_to_encoder()
        try:
            drawn = 0
            free: list[int] = []  # in the order handed back: each buffer is used fresh once before reuse
            for i in range(animator.n_frames):
                if animator.repeats(i):
                    self._filled.put(AGAIN)
                    continue
                if not free:
                    batch = self._free.get()
                    if batch is None:  # closed
                        return
                    free = batch
                index = free.pop(0)
                animator.render_into(i, self._buffers[index], reused=drawn >= len(self._buffers))
                drawn += 1
                self._filled.put(index)
            self._filled.put(None)
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self._filled.put(exc)

    def next(self) -> np.ndarray | None:
        if self._used and (len(self._used) >= self._batch or not self._lent):
            self._free.put(self._used)
            self._lent += len(self._used)
            self._used = []
            self.handoffs += 1
        item = self._filled.get()
        if item == AGAIN and self._held is not None:
            return self._buffers[self._held]
        if self._held is not None:
            self._used.append(self._held)
            self._held = None
        if isinstance(item, BaseException):
            raise item
        if item is None:
            return None
        self._held = item
        self._lent -= 1
        return self._buffers[item]

    def close(self) -> None:
        """Stop drawing (at most a ring's worth more frames are drawn) and wait for the thread."""
        self._free.put(None)
        self._thread.join()


class EncodedFrames:
    """x264 on a thread of its own: yields each frame's packets, in order, for the caller to mux.

    The caller gets the first frame's packets at once (a live stream waits on them), then a
    fragment's frames at a time; `handoffs` counts the batches.
    """

    def __init__(self, animator: FaceAnimator, writer: FragmentedMP4Writer) -> None:
        self._frames = DrawnFrames(animator)
        self._out: queue.SimpleQueue[list[list[av.Packet]] | BaseException | None] = queue.SimpleQueue()
        self._credits: queue.SimpleQueue[bool] = queue.SimpleQueue()
        for _ in range(-(-PACKETS_AHEAD // FRAGMENT_FRAMES)):
            self._credits.put(True)
        self._stop = False
        self.handoffs = 0
        self._thread = threading.Thread(target=self._encode, args=(writer,), name="x264", daemon=True)
        self._thread.start()

    def _encode(self, writer: FragmentedMP4Writer) -> None:
        try:
            batch: list[list[av.Packet]] = []
            while (frame := self._frames.next()) is not None:
                batch.append(writer.encode(frame))
                if len(batch) >= FRAGMENT_FRAMES or writer.frames_in == 1:
                    if not self._credits.get() or self._stop:
                        return
                    self._out.put(batch)
                    self.handoffs += 1
                    batch = []
            if batch:
                self._out.put(batch)
                self.handoffs += 1
            self._out.put(None)
        except BaseException as exc:
            self._out.put(exc)

    def __iter__(self) -> Iterator[list[av.Packet]]:
        while True:
            item = self._out.get()
            if isinstance(item, BaseException):
                raise item
            if item is None:
                return
            self._credits.put(True)
            yield from item

    def close(self) -> None:
        """Stop both threads (the encoder finishes the frame it has) and wait for them."""
        self._stop = True
        self._credits.put(False)
        self._thread.join()
        self._frames.close()
