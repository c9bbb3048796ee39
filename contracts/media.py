"""Decode MP4 bytes with PyAV and measure what the media clauses need: size, duration, audio, blankness, lip-sync."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import av
import cv2
import numpy as np

ANALYSIS_WIDTH = 160


@dataclass
class Decoded:
    width: int
    height: int
    fps: float
    frames: list[np.ndarray]
    """Grayscale frames, downscaled to ANALYSIS_WIDTH wide (float32)."""
    first_frame: np.ndarray
    """The first frame in full resolution, grayscale uint8."""
    video_duration: float
    """First frame start to last frame end, on the container timeline."""
    audio: np.ndarray | None
    """Mono float32 samples of the first audio track, or None."""
    audio_rate: int

    @property
    def frame_duration(self) -> float:
        """Frame count / nominal frame rate."""
        return len(self.frames) / self.fps

    @property
    def has_audio(self) -> bool:
        return self.audio is not None


class DecodeError(ValueError):
    """PyAV could not decode the bytes."""


def decode(data: bytes) -> Decoded:
    """Decode all video frames (gray, downscaled) and the first audio track."""
    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError) as exc:
        raise DecodeError(f"not a decodable MP4: {exc}") from exc
    try:
        if not container.streams.video:
            raise DecodeError("no video track")
        vstream = container.streams.video[0]
        width, height = vstream.codec_context.width, vstream.codec_context.height
        rate = vstream.codec_context.framerate or vstream.guessed_rate or vstream.average_rate or 25
        fps = float(rate)
        frames: list[np.ndarray] = []
        first: np.ndarray | None = None
        pts: list[float] = []
        for frame in container.decode(vstream):
            gray = frame.to_ndarray(format="gray")
            if first is None:
                first = gray
            h = max(1, round(gray.shape[0] * ANALYSIS_WIDTH / gray.shape[1]))
            frames.append(cv2.resize(gray, (ANALYSIS_WIDTH, h), interpolation=cv2.INTER_AREA).astype(np.float32))
            if frame.pts is not None and frame.time_base is not None:
                pts.append(float(frame.pts * frame.time_base))
        if first is None:
            raise DecodeError("the video track has no frames")
        if len(pts) == len(frames) and len(pts) > 1:
            ordered = sorted(pts)
            video_duration = ordered[-1] - ordered[0] + (ordered[-1] - ordered[-2])
        else:
            video_duration = len(frames) / fps
        audio, audio_rate = _decode_audio(data)
        return Decoded(width, height, fps, frames, first, video_duration, audio, audio_rate)
    except av.error.FFmpegError as exc:
        raise DecodeError(f"decode failed: {exc}") from exc
    finally:
        container.close()


def rgb_video(data: bytes) -> tuple[list[np.ndarray], float]:
    """Every frame in full resolution as RGB (uint8), and the nominal frame rate."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = container.streams.video[0]
            rate = stream.codec_context.framerate or stream.guessed_rate or stream.average_rate or 25
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
    except (av.error.FFmpegError, ValueError, IndexError) as exc:
        raise DecodeError(f"not a decodable MP4 with video: {exc}") from exc
    if not frames:
        raise DecodeError("the video track has no frames")
    return frames, float(rate)


def rgb_frames(data: bytes, fractions: tuple[float, ...]) -> list[np.ndarray]:
    """Full-resolution RGB frames (uint8) at the given fractions of the clip's frame count."""
    frames, _ = rgb_video(data)
    return [frames[min(len(frames) - 1, int(f * len(frames)))] for f in fractions]


def region_mean(frame: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Mean RGB of the region (x0, y0, x1, y1), given as fractions of the frame."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = box
    region = frame[int(y0 * h) : max(int(y1 * h), int(y0 * h) + 1), int(x0 * w) : max(int(x1 * w), int(x0 * w) + 1)]
    return region.reshape(-1, 3).astype(np.float64).mean(axis=0)


def colour_distance(rgb: np.ndarray, want: tuple[int, int, int]) -> float:
    """The largest per-channel difference between a mean colour and the wanted one."""
    return float(np.abs(rgb - np.asarray(want, dtype=np.float64)).max())


def _decode_audio(data: bytes) -> tuple[np.ndarray | None, int]:
    with av.open(io.BytesIO(data), mode="r") as container:
        if not container.streams.audio:
            return None, 0
        astream = container.streams.audio[0]
        rate = astream.codec_context.sample_rate or 0
        chunks = []
        for frame in container.decode(astream):
            arr = frame.to_ndarray().astype(np.float32)
            if frame.format.is_planar:
                arr = arr.mean(axis=0)
            else:
                arr = arr.reshape(-1, len(frame.layout.channels)).mean(axis=1)
            if np.issubdtype(frame.to_ndarray().dtype, np.integer):
                arr = arr / 32768.0
            chunks.append(arr.ravel())
        samples = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
        return samples, rate


def envelope(samples: np.ndarray, rate: int, hop_s: float, n: int | None = None) -> np.ndarray:
    """RMS loudness per hop_s window (n windows, or as many as fit)."""
    hop = max(1, round(rate * hop_s))
    count = n if n is not None else len(samples) // hop
    out = np.zeros(count, np.float64)
    for i in range(count):
        chunk = samples[i * hop : (i + 1) * hop]
        out[i] = float(np.sqrt(np.mean(np.square(chunk, dtype=np.float64)))) if len(chunk) else 0.0
    return out


def best_correlation(a: np.ndarray, b: np.ndarray, max_lag: int) -> float:
    """Highest Pearson r between a and b shifted by up to max_lag samples either way (0 if either is constant)."""
    best = -1.0
    for lag in range(-max_lag, max_lag + 1):
        x = a[max(lag, 0) : len(a) + min(lag, 0)]
        y = b[max(-lag, 0) : len(b) + min(-lag, 0)]
        m = min(len(x), len(y))
        x, y = x[:m], y[:m]
        if m < 4 or np.std(x) < 1e-9 or np.std(y) < 1e-9:
            continue
        best = max(best, float(np.corrcoef(x, y)[0, 1]))
    return best if best > -1.0 else 0.0


@cache
def _cascade() -> cv2.CascadeClassifier:
    return cv2.CascadeClassifier(str(cv2.data.haarcascades) + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]


def find_face(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest frontal face (x, y, w, h) in a full-resolution gray frame, or None."""
    faces = _cascade().detectMultiScale(gray, scaleFactor=1.1, minNeighbors=4, minSize=(40, 40))
    if len(faces) == 0:
        return None
    best = max((tuple(int(v) for v in f) for f in faces), key=lambda f: f[2] * f[3])
    return best[0], best[1], best[2], best[3]


@dataclass
class LipSync:
    r: float
    region: tuple[int, int, int, int]
    """(x0, y0, x1, y1) in analysis coordinates."""
    face_found: bool
    motion_peak: float


def lipsync(decoded: Decoded, speech_samples: np.ndarray, speech_rate: int) -> LipSync:
    """Correlate motion in the mouth region with the driving audio's loudness, frame by frame.

    The mouth region: the lower-middle of the Haar face box in the first frame (or of the frame when no face is
    found), narrowed to the window of highest temporal variance inside it.
    """
    frames = np.stack(decoded.frames)
    n, fh, fw = frames.shape
    scale = fw / decoded.first_frame.shape[1]
    face = find_face(decoded.first_frame)
    if face is not None:
        x, y, w, h = (v * scale for v in face)
        search = (int(x + 0.15 * w), int(y + 0.55 * h), int(x + 0.85 * w), int(min(fh, y + 1.1 * h)))
    else:
        search = (int(fw * 0.2), int(fh * 0.35), int(fw * 0.8), int(fh * 0.95))
    x0, y0, x1, y1 = search
    std = frames[:, y0:y1, x0:x1].std(axis=0)
    win_w, win_h = max(4, (x1 - x0) // 2), max(4, (y1 - y0) // 2)
    summed = cv2.blur(std, (win_w, win_h))
    flat = int(np.argmax(summed))
    cy, cx = divmod(flat, int(summed.shape[1]))
    rx0, ry0 = max(x0, x0 + cx - win_w // 2), max(y0, y0 + cy - win_h // 2)
    region = (int(rx0), int(ry0), int(min(x1, rx0 + win_w)), int(min(y1, ry0 + win_h)))
    roi = frames[:, region[1] : region[3], region[0] : region[2]]
    motion = np.abs(np.diff(roi, axis=0)).mean(axis=(1, 2))
    loud = envelope(speech_samples, speech_rate, 1.0 / decoded.fps, n)
    quiet = roi[loud <= np.quantile(loud, 0.2)]
    reference = np.median(quiet, axis=0) if len(quiet) else roi[0]
    openness = np.abs(roi - reference).mean(axis=(1, 2))
    smooth = np.ones(3) / 3
    r_motion = best_correlation(np.convolve(motion, smooth, "same"), np.convolve(loud[1:], smooth, "same"), 2)
    r_open = best_correlation(openness, loud, 2)
    return LipSync(max(r_motion, r_open), region, face is not None, float(motion.max(initial=0.0)))
