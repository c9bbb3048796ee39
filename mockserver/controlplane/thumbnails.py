"""The first frame of a job's video as a JPEG, made in a worker process (a task of the probe pool)."""

from __future__ import annotations

import io
from pathlib import Path

import av
from PIL import Image

from ..core.workers import TaskContext

THUMBNAIL_WIDTH = 320


def frame_jpeg(ctx: TaskContext, source: Path | bytes, width: int = THUMBNAIL_WIDTH) -> bytes | None:
    """The first video frame of an MP4 (a path, or fMP4 bytes) as a JPEG at most `width` wide."""
    try:
        with av.open(io.BytesIO(source) if isinstance(source, bytes) else str(source), mode="r") as container:
            if not container.streams.video:
                return None
            frame = next(container.decode(video=0), None)
            if frame is None:
                return None
            image: Image.Image = frame.to_image()
    except av.FFmpegError:
        return None
    image.thumbnail((width, width * 4))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=82)
    return out.getvalue()
