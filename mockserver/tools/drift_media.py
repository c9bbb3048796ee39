"""Media properties `drift` compares, decoded with PyAV: codec, size, duration (within one frame), audio track."""

from __future__ import annotations

import io
from dataclasses import dataclass

import av

from .drift_compare import ABSENT, Difference, Rules


@dataclass(frozen=True)
class MediaFacts:
    video_codec: str | None
    width: int | None
    height: int | None
    fps: float | None
    frames: int
    audio_codec: str | None
    audio_rate: int | None
    audio_channels: int | None

    @property
    def duration(self) -> float | None:
        return self.frames / self.fps if self.fps else None


def probe(data: bytes) -> MediaFacts | None:
    """Decode every video frame (and look at the first audio track); None if PyAV cannot read it."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            video = container.streams.video[0] if container.streams.video else None
            audio = container.streams.audio[0] if container.streams.audio else None
            if video is None and audio is None:
                return None
            frames = sum(1 for _ in container.decode(video)) if video is not None else 0
            rate = (video.codec_context.framerate or video.guessed_rate or video.average_rate) if video else None
            return MediaFacts(
                video_codec=video.codec_context.name if video else None,
                width=video.codec_context.width if video else None,
                height=video.codec_context.height if video else None,
                fps=float(rate) if rate else None,
                frames=frames,
                audio_codec=audio.codec_context.name if audio else None,
                audio_rate=audio.codec_context.sample_rate if audio else None,
                audio_channels=audio.codec_context.channels if audio else None,
            )
    except (av.error.FFmpegError, ValueError, IndexError):
        return None


def compare_media(recorded: bytes, target: bytes, rules: Rules) -> list[Difference]:
    """Differences in what a player would notice; nothing when the recorded body is not media."""
    mine = probe(recorded)
    if mine is None:
        return []
    theirs = probe(target)
    if theirs is None:
        return [Difference("media", "media", "decodable", "not decodable")]
    out: list[Difference] = []
    pairs = {
        "media.video.codec": (mine.video_codec, theirs.video_codec),
        "media.video.size": (f"{mine.width}x{mine.height}" if mine.width else None,
                             f"{theirs.width}x{theirs.height}" if theirs.width else None),
        "media.audio.codec": (mine.audio_codec, theirs.audio_codec),
        "media.audio.rate": (mine.audio_rate, theirs.audio_rate),
        "media.audio.channels": (mine.audio_channels, theirs.audio_channels),
    }  # fmt: skip
    for path, (a, b) in pairs.items():
        if a != b and not rules.ignored(path):
            out.append(Difference("media", path, ABSENT if a is None else a, ABSENT if b is None else b))
    one_frame = 1 / (mine.fps or 25)
    if (mine.duration is not None and theirs.duration is not None and not rules.ignored("media.video.duration")
            and abs(mine.duration - theirs.duration) > one_frame + 1e-6):
        out.append(Difference("media", "media.video.duration", f"{mine.duration:.3f} s", f"{theirs.duration:.3f} s"))
    return out
