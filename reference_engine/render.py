"""Render a talking-head video: portrait + speech -> fragmented MP4 (streamable) or regular MP4."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import FPS, SAMPLE_RATE
from .animate import FaceAnimator, frame_count
from .face import locate_face
from .faststart import remux_faststart
from .image import fit_cover
from .pipeline import EncodedFrames
from .video import FragmentedMP4Writer, encode_yuv_frames_plain

__all__ = [
    "Fragment",
    "RenderJob",
    "encode_yuv_frames_plain",
    "iter_yuv_frames",
    "make_animator",
    "remux_faststart",
    "render_fmp4",
    "render_mp4",
]

PIPELINE = True  # draw, encode and mux on three threads (PyAV and OpenCV drop the GIL in their C work)


@dataclass(frozen=True)
class RenderJob:
    """One render: an RGB portrait (any size), float32 mono 24 kHz speech, the output size and a seed."""

    image: np.ndarray
    audio: np.ndarray
    width: int
    height: int
    seed: int = 0

    def __post_init__(self) -> None:
        if self.width % 2 or self.height % 2 or self.width < 16 or self.height < 16:
            raise ValueError(f"output size must be even and at least 16x16, got {self.width}x{self.height}")
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"image must be RGB uint8 HxWx3, got {self.image.shape} {self.image.dtype}")

    @property
    def n_frames(self) -> int:
        """round(audio seconds * 25), at least 1."""
        return frame_count(len(self.audio))


@dataclass(frozen=True)
class Fragment:
    """A piece of the fMP4 stream: index 0 is the init segment, then one moof+mdat per fragment."""

    data: bytes
    index: int
    media_end: float  # seconds of video (frames / 25) in all fragments up to and including this one


def make_animator(job: RenderJob) -> FaceAnimator:
    """Fit the portrait to the output size, centred on its face, and prepare the animation."""
    face = locate_face(job.image)
    fitted, scale, crop_x, crop_y = fit_cover(job.image, job.width, job.height, center=face.center)
    return FaceAnimator(fitted, _audio(job), seed=job.seed, face=face.scaled(scale, crop_x, crop_y))


def _audio(job: RenderJob) -> np.ndarray:
    return np.ascontiguousarray(job.audio, dtype=np.float32).reshape(-1)


def iter_yuv_frames(job: RenderJob) -> Iterator[np.ndarray]:
    """The exact frames render_fmp4 encodes, as independent yuv420p (H*3//2, W) uint8 arrays."""
    yield from make_animator(job).yuv_frames()


def render_fmp4(
    job: RenderJob,
    *,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | None = None,
    on_note: Callable[[str], None] | None = None,
    pipeline: bool = PIPELINE,
) -> Generator[Fragment, None, None]:
    """Render `job` as a fragmented MP4 (H.264 + AAC), yielding the init segment and each fragment as muxed.

    pipeline=True draws frames and runs x264 on threads of their own while this one muxes and
    encodes the audio (fastest for one render: see `pipeline`); pipeline=False does it all in turn
    on this thread (what several renders at once, one per process, want: each then uses one core).
    The bytes are the same either way.

    progress(f) is called with non-decreasing f in 0..1; setting `cancel` stops the render promptly
    (the generator simply ends); on_note(text) is told what a user should know about the result,
    such as that no face was found.
    """
    # open the muxer first: the init segment leaves before the face is located
    writer = FragmentedMP4Writer(job.width, job.height, _audio(job))
    try:
        yield Fragment(writer.header(), 0, 0.0)
        animator = make_animator(job)
        for note in animator.notes:
            if on_note is not None:
                on_note(note)
    except BaseException:
        writer.abort()
        raise
    index = 0
    stages = EncodedFrames(animator, writer) if pipeline else None
    encoded = iter(stages) if stages is not None else (writer.encode(f) for f in animator.yuv_frames(ring=2))
    total = animator.n_frames
    done = False
    try:
        for muxed, packets in enumerate(encoded, start=1):
            if cancel is not None and cancel.is_set():
                return
            for data in writer.mux(packets):
                index += 1
                yield Fragment(data, index, writer.video_frames_out / FPS)
            if progress is not None:
                progress(0.99 * muxed / total)
        if cancel is not None and cancel.is_set():
            return
        if stages is not None:
            stages.close()  # the encoder's thread is done before the flush
        for data in writer.close():
            index += 1
            yield Fragment(data, index, writer.video_frames_out / FPS)
        done = True
        if progress is not None:
            progress(1.0)
    finally:
        if stages is not None:
            stages.close()
        if not done:
            writer.abort()


def render_mp4(
    job: RenderJob,
    path: str | Path,
    *,
    progress: Callable[[float], None] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> None:
    """Render `job` to a regular (faststart) MP4 at `path`: fMP4 to a temp file, then a packet-copy remux."""
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(suffix=".fmp4", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as tmp:
            for fragment in render_fmp4(job, progress=progress, on_note=on_note):
                tmp.write(fragment.data)
        remux_faststart(tmp_name, path)
    finally:
        os.unlink(tmp_name)


assert SAMPLE_RATE % FPS == 0  # the audio/video frame arithmetic relies on it
