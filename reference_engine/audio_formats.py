"""Encode the engine's float32 mono 24 kHz signal to the speech endpoint's response formats."""

from __future__ import annotations

import io

import av
import numpy as np
from av.audio.stream import AudioStream

from . import SAMPLE_RATE

AUDIO_FORMATS: dict[str, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/ogg",
    "wav": "audio/wav",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "pcm": "audio/pcm",
}
"""Response format name -> content type. ``pcm`` is raw s16le, 24 kHz, mono, headerless."""

# format -> (muxer, encoder, encoder sample rate, bit rate or 0 for lossless)
_MUXING: dict[str, tuple[str, str, int, int]] = {
    "mp3": ("mp3", "libmp3lame", SAMPLE_RATE, 64_000),
    "opus": ("ogg", "libopus", 48_000, 48_000),
    "wav": ("wav", "pcm_s16le", SAMPLE_RATE, 0),
    "aac": ("adts", "aac", SAMPLE_RATE, 64_000),
    "flac": ("flac", "flac", SAMPLE_RATE, 0),
}


def _as_mono_float(samples: np.ndarray) -> np.ndarray:
    arr = np.asarray(samples, dtype=np.float32)
    if arr.ndim != 1:
        raise ValueError(f"expected a 1-D mono signal, got shape {arr.shape}")
    return np.nan_to_num(arr, nan=0.0, posinf=1.0, neginf=-1.0)


def pcm_s16le(samples: np.ndarray) -> bytes:
    """Clip float samples to [-1, 1] and return them as raw signed 16-bit little-endian PCM."""
    arr = np.clip(_as_mono_float(samples), -1.0, 1.0)
    return np.round(arr * 32767.0).astype("<i2").tobytes()


def encode_audio(samples: np.ndarray, fmt: str) -> bytes:
    """Encode float32 mono 24 kHz `samples` as `fmt` (a key of AUDIO_FORMATS) and return the file's bytes."""
    if fmt not in AUDIO_FORMATS:
        raise ValueError(f"unknown audio format {fmt!r}; expected one of {', '.join(AUDIO_FORMATS)}")
    arr = _as_mono_float(samples)
    if fmt == "pcm":
        return pcm_s16le(arr)
    muxer, encoder, rate, bit_rate = _MUXING[fmt]
    # Lossy encoders would clip on overs anyway; clip first so every format sees the same signal.
    arr = np.clip(arr, -1.0, 1.0)
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=muxer) as container:
        stream = container.add_stream(encoder, rate=rate, layout="mono")
        assert isinstance(stream, AudioStream)
        if bit_rate:
            stream.bit_rate = bit_rate
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=rate)
        frame = av.AudioFrame.from_ndarray(arr.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = 0
        converted = [*resampler.resample(frame), *resampler.resample(None)] if arr.size else []
        for out in converted:
            out.pts = None  # let the encoder's own resampler/fifo number the frames
            for packet in stream.encode(out):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
        container.start_encoding()  # a header even for an empty signal (no-op once muxing began)
    return buf.getvalue()
