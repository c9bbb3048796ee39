"""Probe and decode supported audio files to the engine's float32 mono 24 kHz signal."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

from . import SAMPLE_RATE
from .errors import MediaError

SUPPORTED_AUDIO = ("aac", "wav", "mp3", "flac", "opus", "ogg", "m4a")

_SUPPORTED_TEXT = "AAC (ADTS or M4A/MP4), WAV, MP3, FLAC or Opus (Ogg)"
_CODECS = {"aac", "mp3", "mp2", "flac", "opus", "vorbis"}  # plus every pcm_* (WAV)
_PADDING_ALLOWANCE = 0.1  # seconds of codec priming/padding tolerated over max_seconds
_ESTIMATED = {"adts", "mp3"}  # their header durations may be bitrate estimates: refuse early only when far over
_CONTAINER_NAMES = {"mov": "mp4", "aac": "adts"}

_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}
_MPEG_KBPS = {
    (3, 3): (0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    (3, 2): (0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    (3, 1): (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    (2, 3): (0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    (2, 2): (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}

# (magic prefix, offset, what it is) for the non-audio files people most often send by mistake.
_NOT_AUDIO = (
    (b"\x89PNG\r\n\x1a\n", 0, "a PNG image"),
    (b"\xff\xd8\xff", 0, "a JPEG image"),
    (b"GIF8", 0, "a GIF image"),
    (b"WEBP", 8, "a WebP image"),
    (b"BM", 0, "a BMP image"),
    (b"%PDF", 0, "a PDF document"),
    (b"PK\x03\x04", 0, "a ZIP archive"),
    (b"\x1f\x8b", 0, "a gzip archive"),
    (b"\x1a\x45\xdf\xa3", 0, "a WebM/Matroska file (not a supported audio container)"),
    (b"AVI ", 8, "an AVI video"),
    (b"MThd", 0, "a MIDI file"),
)


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file's headers say, read without decoding it."""

    codec: str  # FFmpeg codec name: aac, mp3, flac, opus, vorbis, pcm_s16le, ...
    container: str  # wav, mp3, flac, ogg, adts or mp4
    duration: float | None  # seconds, from the container/stream header; None if unknown
    sample_rate: int
    channels: int


def _id3_end(data: bytes) -> int:
    """Offset just past a leading ID3v2 tag (0 if there is none)."""
    if len(data) >= 10 and data[:3] == b"ID3":
        size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
        return 10 + size + (10 if data[5] & 0x10 else 0)
    return 0


def _frame_length(head: bytes) -> tuple[str, int] | None:
    """('aac' | 'mp3', frame length in bytes) if `head` starts with an ADTS or MPEG-audio frame header."""
    if len(head) < 7 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    if head[1] & 0xF6 == 0xF0:  # ADTS: 12-bit sync, layer 00
        length = (head[3] & 0x03) << 11 | head[4] << 3 | head[5] >> 5
        return ("aac", length) if (head[2] >> 2) & 0x0F < 13 and length >= 7 else None
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    bitrate_index, rate_index, padding = head[2] >> 4, (head[2] >> 2) & 3, (head[2] >> 1) & 1
    if version == 1 or layer == 0 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    key = (3, layer) if version == 3 else (2, 3 if layer == 3 else 2)
    kbps, rate = _MPEG_KBPS[key][bitrate_index], _MPEG_RATES[version][rate_index]
    if layer == 3:  # layer I
        return "mp3", (12 * kbps * 1000 // rate + padding) * 4
    per_frame = 72 if layer == 1 and version != 3 else 144
    return "mp3", per_frame * kbps * 1000 // rate + padding


def _frame_sequence(data: bytes, pos: int) -> str | None:
    """'aac' or 'mp3' if a frame header at `pos` is followed by another one (or by the end of the file)."""
    found = _frame_length(data[pos : pos + 8])
    if found is None:
        return None
    kind, length = found
    following = pos + length
    if following > len(data):
        return None  # truncated inside its first frame
    tail = data[following : following + 8]
    if len(tail) < 7 or tail[:3] == b"TAG" or _frame_length(tail) is not None:
        return kind
    return None


def _sniff(data: bytes) -> str:
    """Pick the FFmpeg demuxer from the file's magic bytes; never let FFmpeg guess."""
    if not data:
        raise MediaError("audio", "empty", "the audio is empty (0 bytes)")
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:4] == b"RIFF" and len(data) < 12:
        raise MediaError("audio", "undecodable", "the WAV audio is truncated inside its header")
    if data[:4] == b"OggS":
        return "ogg"
    if data[4:8] == b"ftyp":
        return "mov"
    start = _id3_end(data)
    if data[start : start + 4] == b"fLaC":
        return "flac"
    # After an ID3 tag some writers leave padding: look a little further for the first frame.
    window = data[start : start + 4096] if start else data[:1]
    for pos in [i for i, byte in enumerate(window) if byte == 0xFF][:64]:
        kind = _frame_sequence(data, start + pos)
        if kind is not None:
            return kind
    if start or _frame_length(data[:8]) is not None:
        message = "the file looks like MP3/AAC but holds no valid frame sequence (truncated or corrupt)"
        raise MediaError("audio", "undecodable", message)
    for magic, offset, what in _NOT_AUDIO:
        if data[offset : offset + len(magic)] == magic:
            raise MediaError("audio", "unsupported", f"the file is {what}, not audio; send {_SUPPORTED_TEXT}")
    raise MediaError("audio", "unsupported", f"unrecognised audio format ({_describe(data)}); send {_SUPPORTED_TEXT}")


def _describe(data: bytes) -> str:
    head = data[:512]
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        text = ""
    if text and all(c.isprintable() or c in "\r\n\t" for c in text):
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            return "it looks like JSON text"
        if stripped[:1] == "<":
            return "it looks like HTML/XML text"
        return "it looks like plain text"
    return "first bytes " + data[:8].hex(" ")


_HEADER_ONLY = {"probesize": "32", "analyzeduration": "0"}
"""A WAV's header says all there is (codec, rate, channels, length): FFmpeg's stream analysis, which
reads and decodes packets for a few MB, cost 6 ms of a 10 s file and added nothing."""


def _open(data: bytes) -> tuple[av.container.InputContainer, AudioInfo]:
    demuxer = _sniff(data)
    try:
        options = _HEADER_ONLY if demuxer == "wav" else {}
        container = av.open(io.BytesIO(data), mode="r", format=demuxer, options=dict(options))
    except (av.FFmpegError, ValueError, OSError) as exc:
        name = _CONTAINER_NAMES.get(demuxer, demuxer).upper()
        raise MediaError("audio", "undecodable", f"the {name} audio cannot be read: {exc}") from None
    try:
        info = _info(container, demuxer)
    except BaseException:
        container.close()
        raise
    return container, info


def _info(container: av.container.InputContainer, demuxer: str) -> AudioInfo:
    name = _CONTAINER_NAMES.get(demuxer, demuxer)
    if not container.streams.audio:
        raise MediaError("audio", "unsupported", f"the {name.upper()} file holds no audio stream")
    stream = container.streams.audio[0]
    codec = stream.codec_context.codec.canonical_name
    if codec not in _CODECS and not codec.startswith("pcm_"):
        raise MediaError("audio", "unsupported", f"the {name.upper()} file holds {codec} audio; send {_SUPPORTED_TEXT}")
    rate, channels = int(stream.sample_rate or 0), int(stream.codec_context.channels or 0)
    if rate <= 0 or channels <= 0:
        raise MediaError("audio", "undecodable", f"the {name.upper()} header has no valid sample rate/channels")
    duration: float | None = None
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None and container.duration > 0:
        duration = container.duration / av.time_base
    return AudioInfo(codec=codec, container=name, duration=duration, sample_rate=rate, channels=channels)


def probe_audio(data: bytes) -> AudioInfo:
    """Read codec, container, duration, rate and channels from the headers, without decoding.

    Raises MediaError (reason ``empty``, ``unsupported`` or ``undecodable``) for anything that is not
    one of the supported audio formats.
    """
    container, info = _open(bytes(data))
    container.close()
    return info


def _too_long(max_seconds: float, seconds: float | None) -> MediaError:
    found = "" if seconds is None else f" ({seconds:.2f} s)"
    return MediaError("audio", "too_long", f"the audio is longer than {max_seconds:g} s{found}")


def _mono(frame: av.AudioFrame) -> np.ndarray:
    planes = frame.to_ndarray()
    return np.asarray(planes[0] if planes.shape[0] == 1 else planes.mean(axis=0, dtype=np.float32))


def decode_audio(data: bytes, *, max_seconds: float | None = None,
                 accept: Callable[[AudioInfo], None] | None = None) -> np.ndarray:  # fmt: skip
    """Decode `data` (AAC/WAV/MP3/FLAC/OPUS) to float32 mono samples at SAMPLE_RATE.

    Raises MediaError when the bytes are not audio (``empty``/``unsupported``/``undecodable``) or when the
    audio is longer than `max_seconds` (``too_long``: from the header when it tells, else while decoding).
    `accept(info)` sees what `probe_audio` would report before anything is decoded, and may raise to
    refuse the audio (one open of the file instead of two).
    """
    container, info = _open(bytes(data))
    with container:
        if accept is not None:
            accept(info)
        allowed = None if max_seconds is None else max_seconds + _PADDING_ALLOWANCE
        if allowed is not None and max_seconds is not None and info.duration is not None:
            margin = 1.25 if info.container in _ESTIMATED else 1.0
            if info.duration > allowed * margin:
                raise _too_long(max_seconds, info.duration)
        limit = None if allowed is None else math.ceil(allowed * SAMPLE_RATE)
        # Keep the channels through the resampler and average them: swresample's own downmix adds
        # channels at -3 dB each, which takes identical full-scale channels to 1.41.
        resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)
        pieces: list[np.ndarray] = []
        total = 0
        try:
            for frame in container.decode(container.streams.audio[0]):
                for out in resampler.resample(frame):
                    pieces.append(_mono(out))
                    total += out.samples
                if limit is not None and max_seconds is not None and total > limit:
                    raise _too_long(max_seconds, None)
            pieces.extend(_mono(out) for out in resampler.resample(None))
        except MediaError:
            raise
        except (av.FFmpegError, ValueError) as exc:
            message = f"the {info.container.upper()} audio cannot be decoded: {exc}"
            raise MediaError("audio", "undecodable", message) from None
    samples = np.concatenate(pieces).astype(np.float32, copy=False) if pieces else np.zeros(0, np.float32)
    if samples.shape[0] == 0:
        raise MediaError("audio", "empty", f"the {info.container.upper()} audio holds no samples")
    if limit is not None and max_seconds is not None and samples.shape[0] > limit:
        raise _too_long(max_seconds, samples.shape[0] / SAMPLE_RATE)
    return np.nan_to_num(samples, copy=False)


def loudness_envelope(samples: np.ndarray, fps: int = 25) -> np.ndarray:
    """Per-video-frame RMS loudness (float32, ceil(len / (SAMPLE_RATE / fps)) values), lightly smoothed."""
    arr = np.asarray(samples, dtype=np.float32).reshape(-1)
    hop = SAMPLE_RATE / fps
    n_frames = math.ceil(arr.shape[0] / hop)
    if n_frames == 0:
        return np.zeros(0, np.float32)
    edges = np.minimum(np.round(np.arange(n_frames + 1) * hop).astype(np.int64), arr.shape[0])
    energy = np.concatenate(([0.0], np.cumsum(arr.astype(np.float64) ** 2)))
    counts = np.maximum(edges[1:] - edges[:-1], 1)
    rms = np.sqrt((energy[edges[1:]] - energy[edges[:-1]]) / counts)
    padded = np.concatenate((rms[:1], rms, rms[-1:]))
    smoothed = 0.25 * padded[:-2] + 0.5 * padded[1:-1] + 0.25 * padded[2:]
    return smoothed.astype(np.float32)
