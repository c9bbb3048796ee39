"""What Boson sends to worker processes: decode inputs, render videos, speak. Runs in the children.

Every function takes the child's `TaskContext` first, and paths (never arrays) for media.
Anything wrong with the user's media is raised as `TaskRefused`, with a message for the user.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from reference_engine import SAMPLE_RATE
from reference_engine.audio import AudioInfo, decode_audio
from reference_engine.audio_formats import encode_audio, pcm_s16le
from reference_engine.errors import MediaError
from reference_engine.faststart import FaststartCopy, remux_faststart
from reference_engine.image import decode_image
from reference_engine.render import RenderJob, render_fmp4
from reference_engine.tts import synthesize, synthesize_chunks
from reference_engine.video import FragmentedMP4Writer

from ...core.workers import TaskContext, TaskRefused

MAX_CHANNELS = 8
SAMPLE_RATES = (8_000, 192_000)
ANNOUNCE_EVERY_S = 0.02
"""A render announces its new fragments (and its progress) at most this often, the first one at once:
every message wakes the server, which then takes a core from the render. A 60 s video renders about
300 fragments of 0.2 s in 1-2 s; one message each cost the render 3-4% (one a percent of progress
besides)."""


@dataclass(frozen=True)
class SpeechSpec:
    text: str
    voice: str = "default"
    ref_audio: str | None = None
    """A decoded reference voice (.npy float32 24 kHz), for voice cloning."""


@dataclass(frozen=True)
class RenderSpec:
    image: str
    """The decoded portrait (.npy, RGB uint8)."""
    width: int
    height: int
    fmp4: str
    mp4: str
    seed: int = 0
    audio: str | None = None
    """The decoded speech (.npy float32 24 kHz); None: speak `tts`."""
    tts: SpeechSpec | None = None
    pipeline: bool = False
    """Draw frames on a thread of their own beside x264 (`render.render_cores` >= 2)."""


def _refuse(exc: MediaError) -> TaskRefused:
    return TaskRefused(exc.message, reason=exc.reason)


def decode_image_file(ctx: TaskContext, source: str, target: str) -> tuple[int, int]:
    """Decode an uploaded image (its size checked from the header first); save it as RGB .npy."""
    ctx.reached("probe")
    try:
        rgb = decode_image(Path(source).read_bytes())
    except MediaError as exc:
        raise _refuse(exc) from None
    except MemoryError:
        raise
    except Exception as exc:  # whatever a hostile file makes a decoder raise is still the file's fault
        raise TaskRefused(f"the image could not be decoded ({type(exc).__name__})", reason="undecodable") from None
    np.save(target, rgb, allow_pickle=False)
    return rgb.shape[1], rgb.shape[0]


def decode_audio_file(ctx: TaskContext, source: str, target: str, max_seconds: float) -> int:
    """Check an uploaded audio's header (channels, rate, duration), decode it to 24 kHz mono .npy;
    returns the number of samples."""
    ctx.reached("probe")
    data = Path(source).read_bytes()

    def accept(info: AudioInfo) -> None:
        if info.channels > MAX_CHANNELS:
            raise TaskRefused(f"the audio has {info.channels} channels; at most {MAX_CHANNELS} are accepted",
                              reason="channels")
        if not SAMPLE_RATES[0] <= info.sample_rate <= SAMPLE_RATES[1]:
            raise TaskRefused(f"the audio's sample rate is {info.sample_rate} Hz; "
                              f"{SAMPLE_RATES[0]}-{SAMPLE_RATES[1]} Hz are accepted", reason="sample_rate")
        if info.duration is not None and info.duration > max_seconds + 0.05:
            raise TaskRefused(f"the audio lasts {info.duration:.1f} s; at most {max_seconds:g} s is allowed",
                              reason="too_long")

    try:
        samples = decode_audio(data, max_seconds=max_seconds, accept=accept)
    except MediaError as exc:
        raise _refuse(exc) from None
    except TaskRefused:
        raise
    except MemoryError:
        raise
    except Exception as exc:
        raise TaskRefused(f"the audio could not be decoded ({type(exc).__name__})", reason="undecodable") from None
    np.save(target, samples.astype(np.float32, copy=False), allow_pickle=False)
    return int(samples.shape[0])


def _speech(spec: SpeechSpec, seed: int) -> np.ndarray:
    ref = None if spec.ref_audio is None else np.load(spec.ref_audio)
    return synthesize(spec.text, spec.voice, seed=seed, ref_audio=ref)


def render_video(ctx: TaskContext, spec: RenderSpec) -> float:
    """Speak (if text), render and store the fMP4 (fragment by fragment) and the MP4; returns seconds."""
    ctx.reached("render")
    if spec.audio is not None:
        audio = np.load(spec.audio)
    else:
        assert spec.tts is not None
        audio = _speech(spec.tts, spec.seed)
    seconds = audio.shape[0] / SAMPLE_RATE
    ctx.emit(media_seconds=seconds)
    image = np.load(spec.image)
    job = RenderJob(image=image, audio=audio, width=spec.width, height=spec.height, seed=spec.seed)
    # A render with a core to spare copies its MP4 beside it: ready as soon as the last fragment is.
    copy = FaststartCopy(spec.mp4) if spec.pipeline else None
    try:
        _write_fmp4(ctx, job, spec, seconds, copy)
        if ctx.cancel.is_set():
            raise TaskRefused("the render was cancelled")
    except BaseException:
        if copy is not None:
            copy.abort()
        raise
    if copy is not None:
        copy.finish()
    else:
        remux_faststart(spec.fmp4, spec.mp4)
    return seconds


def _write_fmp4(ctx: TaskContext, job: RenderJob, spec: RenderSpec, seconds: float, copy: FaststartCopy | None) -> None:
    """Render `job` into spec.fmp4 (and `copy`), announcing the fragments written to the server:
    the init segment and the first fragment at once, the rest in batches (ANNOUNCE_EVERY_S)."""
    written: list[tuple[int, float]] = []  # fragments not announced yet: (end offset, media end)
    announced = 0.0

    def announce() -> None:
        nonlocal written, announced
        ctx.emit(fragments=written, progress=0.97 * min(1.0, written[-1][1] / seconds) if seconds else 0.0)
        written, announced = [], time.monotonic()

    with open(spec.fmp4, "wb") as out:
        for fragment in render_fmp4(job, cancel=ctx.cancel, on_note=lambda note: ctx.emit(note=note),
                                    pipeline=spec.pipeline):
            out.write(fragment.data)
            out.flush()
            if copy is not None:
                copy.feed(fragment.data)
            written.append((out.tell(), fragment.media_end))
            if fragment.index <= 1 or time.monotonic() - announced >= ANNOUNCE_EVERY_S:
                announce()
            if fragment.index:
                ctx.reached("fragment")
    if written:
        announce()


def init_segment(ctx: TaskContext, width: int, height: int) -> bytes:
    """The fMP4 init segment (ftyp+moov) of a video of this size: it depends on nothing else."""
    writer = FragmentedMP4Writer(width, height, np.zeros(SAMPLE_RATE // 25, np.float32))
    try:
        return writer.header()
    finally:
        writer.abort()


def speech_file(ctx: TaskContext, spec: SpeechSpec, seed: int, fmt: str, target: str) -> None:
    """Speak `spec` and write it encoded as `fmt`."""
    ctx.reached("render")
    Path(target).write_bytes(encode_audio(_speech(spec, seed), fmt))


def speech_pcm(ctx: TaskContext, spec: SpeechSpec, seed: int) -> None:
    """Speak `spec` as 24 kHz s16le PCM, sent as events ({"pcm": bytes}) while it is synthesized."""
    ctx.reached("render")
    ref = None if spec.ref_audio is None else np.load(spec.ref_audio)
    for piece in synthesize_chunks(spec.text, spec.voice, seed=seed, ref_audio=ref):
        ctx.emit(pcm=pcm_s16le(piece))
