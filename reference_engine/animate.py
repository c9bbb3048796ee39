"""Talking-head animation by cheap ROI edits on YUV 4:2:0 planes, placed by the face's landmarks.

The still portrait is converted to I420 once. Each frame starts as a copy of that base and rewrites
only small regions: the head shifted by a few pixels (feathered into the base), the jaw and lower lip
warped down with a dark inner mouth whose opening follows the loudness (`facerig.MouthRig`), and both
eyelids closed together on a seeded blink schedule (`facerig.EyelidRig`). The warps are `cv2.remap`
maps cached per level. Without a face nothing moves, and `notes` says so.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from . import FPS, SAMPLE_RATE
from .face import LIPS_OUTER_LOWER, LIPS_OUTER_UPPER, FaceBox, locate_face, with_landmarks
from .facerig import EyelidRig, MouthRig
from .warp import Planes, apply_edits

SPF = SAMPLE_RATE // FPS  # audio samples per video frame (960)
BLINK_PROFILE = (0.45, 0.9, 1.0, 0.75, 0.35)  # eyelid closure over a blink's frames
NO_FACE_NOTE = "no face found in the image: the video shows it still, with no facial animation"


def frame_count(n_samples: int) -> int:
    """Video frames for `n_samples` of 24 kHz audio: round(seconds * 25), at least 1."""
    return max(1, round(n_samples / SAMPLE_RATE * FPS))


def mouth_openness(audio: np.ndarray, n_frames: int) -> np.ndarray:
    """Mouth openness 0..1 per video frame from a smoothed RMS envelope (dB, relative to the clip's peak)."""
    padded = np.zeros(n_frames * SPF, dtype=np.float32)
    m = min(len(audio), len(padded))
    padded[:m] = audio[:m]
    rms = np.sqrt(np.mean(np.square(padded.reshape(n_frames, SPF), dtype=np.float64), axis=1))
    db = 20.0 * np.log10(rms + 1e-9)
    voiced = rms > 10 ** (-50 / 20)  # gate: quieter than -50 dBFS is silence
    if not voiced.any():
        return np.zeros(n_frames, dtype=np.float32)
    ref = _percentile(db[voiced], 0.95)
    level = np.clip((db - (ref - 26.0)) / 22.0, 0.0, 1.0) * voiced
    out = np.empty(n_frames, dtype=np.float32)
    prev = 0.0
    for i, v in enumerate(level.tolist()):  # fast attack, slower release
        prev = prev + (0.75 if v > prev else 0.45) * (v - prev)
        out[i] = prev
    return out


def _percentile(values: np.ndarray, q: float) -> float:
    """The q-quantile (0..1) of `values`, linearly interpolated (np.percentile's default method; that
    one imports numpy.ma on its first call, 30 ms of a render's start-up)."""
    ordered = np.sort(values)
    pos = q * (ordered.size - 1)
    lo = int(pos)
    hi = min(lo + 1, ordered.size - 1)
    return float(ordered[lo] + (pos - lo) * (ordered[hi] - ordered[lo]))


def blink_schedule(n_frames: int, seed: int) -> np.ndarray:
    """Eyelid closure 0..1 per frame: a blink every 3-5 s, placed deterministically from `seed`."""
    rng = np.random.default_rng([seed, 0xB11C])
    out = np.zeros(n_frames, dtype=np.float32)
    t = rng.uniform(0.8, 2.5)
    while (start := int(t * FPS)) < n_frames:
        for k, v in enumerate(BLINK_PROFILE):
            if start + k < n_frames:
                out[start + k] = v
        t += rng.uniform(3.0, 5.0)
    return out


def head_path(n_frames: int, seed: int, amplitude: int, openness: np.ndarray) -> np.ndarray:
    """(n, 2) even-pixel (dx, dy) offsets: slow sway plus a small nod with the speech."""
    rng = np.random.default_rng([seed, 0x4EAD])
    ph = rng.uniform(0, 2 * np.pi, 4)
    t = np.arange(n_frames) / FPS
    dx = amplitude * (0.7 * np.sin(2 * np.pi * 0.21 * t + ph[0]) + 0.3 * np.sin(2 * np.pi * 0.53 * t + ph[1]))
    dy = amplitude * (0.5 * np.sin(2 * np.pi * 0.29 * t + ph[2]) + 0.2 * np.sin(2 * np.pi * 0.71 * t + ph[3]))
    dy = dy + 0.5 * amplitude * openness
    return (2 * np.rint(np.stack([dx, dy], axis=1) / 2)).astype(np.int64)


Rect = tuple[int, int, int, int]
"""(x0, x1, y0, y1) in full-resolution pixels."""


def _frame_strips(outer: Rect, inner: Rect) -> list[Rect]:
    """The (x0, x1, y0, y1) boxes that cover `outer` less `inner` (which lies inside it)."""
    ox0, ox1, oy0, oy1 = outer
    ix0, ix1, iy0, iy1 = inner
    strips = [(ox0, ox1, oy0, iy0), (ox0, ox1, iy1, oy1), (ox0, ix0, iy0, iy1), (ix1, ox1, iy0, iy1)]
    return [(x0, x1, y0, y1) for x0, x1, y0, y1 in strips if x1 > x0 and y1 > y0]


def _span(lo: float, hi: float, limit: int) -> tuple[int, int]:
    """Even-aligned [lo, hi) clipped to 0..limit."""
    a = max(0, int(lo) & ~1)
    b = min(limit, (int(np.ceil(hi)) + 1) & ~1)
    return a, max(a, b)


_EDGE = 8  # head offsets up to this many plane pixels are sliced from an edge-padded copy


class FaceAnimator:
    """Animate a portrait (RGB uint8, even width and height) to `audio` (float32 mono 24 kHz).

    `face` is where the face is in `rgb` (found with locate_face when None; its landmarks are located
    when only its box is known). `notes` lists what a user should be told about the result.
    """

    def __init__(self, rgb: np.ndarray, audio: np.ndarray, *, seed: int = 0, face: FaceBox | None = None) -> None:
        h, w = rgb.shape[:2]
        if h % 2 or w % 2 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"FaceAnimator needs an RGB image with even sides, got {rgb.shape}")
        self.width, self.height = w, h
        self.notes: list[str] = []
        self.face = with_landmarks(rgb, face if face is not None else locate_face(rgb))
        self.base = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2YUV_I420)
        self._base_planes = self.planes(self.base)
        self.n_frames = frame_count(len(audio))
        self.openness = mouth_openness(audio, self.n_frames)
        self.blinks = blink_schedule(self.n_frames, seed)
        self.mouth: MouthRig | None = None
        self.lids: EyelidRig | None = None
        self._head_cache: dict[tuple[int, int], Planes] = {}
        self._feather: list[tuple[np.ndarray, np.ndarray]] | None = None
        self._padded: list[np.ndarray] | None = None
        if not self.face.detected or self.face.points is None:
            self.notes.append(NO_FACE_NOTE)
            self.shifts = np.zeros((self.n_frames, 2), np.int64)
            self._head = self._dirty = (0, 0, 0, 0)
            self._strips = []
            return
        fw, fh = self.face.w, self.face.h
        amplitude = int(np.clip(fw * 0.012, 1.0, 6.0))
        self.shifts = head_path(self.n_frames, seed, amplitude, self.openness)
        margin = int(np.abs(self.shifts).max(initial=0)) + 2
        self.mouth = MouthRig(self.face, w, h, margin, self._lips_uv())
        self.lids = EyelidRig(self.face, w, h, margin)
        # head region: the face grown to take in hair, ears and chin
        self._head = (*_span(self.face.x - 0.2 * fw, self.face.x + 1.2 * fw, w),
                      *_span(self.face.y - 0.3 * fh, self.face.y + 1.25 * fh, h))  # fmt: skip
        self._dirty = self._dirty_box(margin)
        self._strips = _frame_strips(self._dirty, self._head)

    def _lips_uv(self) -> tuple[float, float]:
        """Median chroma of the picture under the outer lip landmarks."""
        assert self.face.points is not None
        pts = self.face.points[list(LIPS_OUTER_UPPER + LIPS_OUTER_LOWER)] / 2
        cols = np.clip(np.round(pts[:, 0]).astype(int), 0, self.width // 2 - 1)
        rows = np.clip(np.round(pts[:, 1]).astype(int), 0, self.height // 2 - 1)
        _, u, v = self._base_planes
        return float(np.median(u[rows, cols])), float(np.median(v[rows, cols]))

    @property
    def animated(self) -> bool:
        """Whether a face moves at all (False: every frame is the still portrait)."""
        return self.mouth is not None

    # ------------------------------------------------------------------ planes and caches

    def planes(self, buf: np.ndarray) -> Planes:
        """Y, U and V views of an I420 buffer shaped (H*3//2, W)."""
        h, w = self.height, self.width
        flat = buf.reshape(-1)
        y = flat[: h * w].reshape(h, w)
        u = flat[h * w : h * w * 5 // 4].reshape(h // 2, w // 2)
        v = flat[h * w * 5 // 4 :].reshape(h // 2, w // 2)
        return y, u, v

    def _dirty_box(self, margin: int) -> tuple[int, int, int, int]:
        """(x0, x1, y0, y1): every pixel any frame may change lies inside (head, mouth, eyes, shifts)."""
        boxes = [b for b in (self.mouth.box if self.mouth else None,
                             *(e[-1] for e in (self.lids.eyes if self.lids else []))) if b is not None]  # fmt: skip
        x0, x1, y0, y1 = self._head
        for b in boxes:
            x0, x1, y0, y1 = min(x0, b.x0), max(x1, b.x1), min(y0, b.y0), max(y1, b.y1)
        m = margin + 2
        return (*_span(x0 - m, x1 + m, self.width), *_span(y0 - m, y1 + m, self.height))

    def _restore(self, buf: np.ndarray) -> None:
        """Copy the base back over the parts of the region that frames change that lie outside the
        head (the rest of `buf` is already base, and every frame writes the whole head)."""
        for x0, x1, y0, y1 in self._strips:
            for dst, src, sub in zip(self.planes(buf), self._base_planes, (1, 2, 2), strict=True):
                dst[y0 // sub : y1 // sub, x0 // sub : x1 // sub] = src[y0 // sub : y1 // sub, x0 // sub : x1 // sub]

    def _head_feather(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per plane: the still head region (float32) and the feather that blends a moved head into
        it (1 inside, fading to 0 at the region's edge); the same for every offset, made once."""
        if self._feather is None:
            x0, x1, y0, y1 = self._head
            self._feather = []
            for plane, sub in zip(self._base_planes, (1, 2, 2), strict=True):
                a0, a1, b0, b1 = x0 // sub, x1 // sub, y0 // sub, y1 // sub
                still = plane[b0:b1, a0:a1].astype(np.float32)
                gy = (np.arange(b0, b1) + 0.5 - (b0 + b1) / 2) / max(1.0, (b1 - b0) / 2)
                gx = (np.arange(a0, a1) + 0.5 - (a0 + a1) / 2) / max(1.0, (a1 - a0) / 2)
                r = np.sqrt(gy[:, None] ** 2 + gx[None, :] ** 2)
                self._feather.append((still, np.clip((1.0 - r) / 0.3, 0.0, 1.0).astype(np.float32)))
        return self._feather

    def _padded_planes(self) -> list[np.ndarray]:
        """The base planes with _EDGE pixels of their edge repeated around them (made once)."""
        if self._padded is None:
            self._padded = [np.pad(plane, _EDGE, mode="edge") for plane in self._base_planes]
        return self._padded

    def _shifted_head(self, dx: int, dy: int) -> Planes:
        """The head region moved by (dx, dy), feathered into the still background (cached)."""
        key = (dx, dy)
        if key not in self._head_cache:
            x0, x1, y0, y1 = self._head
            parts: list[np.ndarray] = []
            planes = zip(self._base_planes, self._padded_planes(), (1, 2, 2), self._head_feather(), strict=True)
            for plane, padded, sub, (still, alpha) in planes:
                a0, a1, b0, b1 = x0 // sub, x1 // sub, y0 // sub, y1 // sub
                sx, sy = dx // sub, dy // sub
                if max(abs(sx), abs(sy)) <= _EDGE:  # a slice of the edge-padded plane (head motion is small)
                    moved = padded[b0 - sy + _EDGE : b1 - sy + _EDGE, a0 - sx + _EDGE : a1 - sx + _EDGE]
                else:
                    ph, pw = plane.shape
                    rows = np.clip(np.arange(b0, b1) - sy, 0, ph - 1)
                    cols = np.clip(np.arange(a0, a1) - sx, 0, pw - 1)
                    moved = plane[rows[:, None], cols[None, :]]
                moved = moved.astype(np.float32)
                parts.append((still + alpha * (moved - still) + 0.5).astype(np.uint8))
            self._head_cache[key] = (parts[0], parts[1], parts[2])
        return self._head_cache[key]

    # ------------------------------------------------------------------ frames

    def state(self, i: int) -> tuple[int, int, int, int]:
        """What frame i is drawn from: (head dx, head dy, mouth level, eyelid level). Two frames of
        the same state are the same picture."""
        dx, dy = (int(v) for v in self.shifts[i])
        return (dx, dy, *self.levels(i))

    def repeats(self, i: int) -> bool:
        """Whether frame i is the same picture as frame i - 1 (the same state)."""
        return i > 0 and self.state(i) == self.state(i - 1)

    def levels(self, i: int) -> tuple[int, int]:
        """(mouth level, eyelid level) of frame i: 0 is at rest."""
        if self.mouth is None or self.lids is None:
            return 0, 0
        return round(float(self.openness[i]) * self.mouth.levels), round(float(self.blinks[i]) * self.lids.levels)

    def render_into(self, i: int, buf: np.ndarray, *, reused: bool = False) -> np.ndarray:
        """Draw frame i (I420, (H*3//2, W) uint8) into `buf` and return it.

        reused=True promises that `buf` holds an earlier frame of this animator, so only the region
        that frames change is reset instead of the whole picture.
        """
        if reused:
            self._restore(buf)
        else:
            np.copyto(buf, self.base)
        if self.mouth is None or self.lids is None:
            return buf
        planes = self.planes(buf)
        dx, dy = (int(v) for v in self.shifts[i])
        if dx or dy or reused:  # the head: moved, or put back still over an earlier frame's
            x0, x1, y0, y1 = self._head
            parts = self._shifted_head(dx, dy) if dx or dy else self._base_planes
            for plane, part, sub in zip(planes, parts, (1, 2, 2), strict=True):
                rows, cols = slice(y0 // sub, y1 // sub), slice(x0 // sub, x1 // sub)
                plane[rows, cols] = part if dx or dy else part[rows, cols]
        mouth, lid = self.levels(i)
        if mouth > 0:
            apply_edits(planes, self.mouth.edits(mouth), dx, dy)
        if lid > 0:
            apply_edits(planes, self.lids.edits(lid), dx, dy)
        return buf

    def yuv_frames(self, *, ring: int = 0) -> Iterator[np.ndarray]:
        """Every frame as a yuv420p (H*3//2, W) uint8 array.

        ring=0 yields a fresh array per frame; ring=N reuses N buffers in turn (a yielded frame stays
        valid until N more different ones have been yielded), which is what the encoder uses: a frame
        like the one before it is then not drawn again, its buffer is yielded once more.
        """
        buffers = [np.empty_like(self.base) for _ in range(ring)]
        drawn = 0
        for i in range(self.n_frames):
            if not ring:
                yield self.render_into(i, np.empty_like(self.base))
            elif self.repeats(i):
                yield buffers[(drawn - 1) % ring]
            else:
                yield self.render_into(i, buffers[drawn % ring], reused=drawn >= ring)
                drawn += 1

    def pose(self, mouth: float, eyes: float) -> np.ndarray:
        """The portrait as RGB with the mouth open by `mouth` and the eyes closed by `eyes` (0..1), head still."""
        buf = self.base.copy()
        if self.mouth is not None and self.lids is not None:
            planes = self.planes(buf)
            if (m := round(np.clip(mouth, 0.0, 1.0) * self.mouth.levels)) > 0:
                apply_edits(planes, self.mouth.edits(m), 0, 0)
            if (e := round(np.clip(eyes, 0.0, 1.0) * self.lids.levels)) > 0:
                apply_edits(planes, self.lids.edits(e), 0, 0)
        return cv2.cvtColor(buf, cv2.COLOR_YUV2RGB_I420)

    def rgb_frame(self, i: int) -> np.ndarray:
        """Frame i as RGB uint8 HxWx3 (slower: for compositing onto other backgrounds)."""
        if not 0 <= i < self.n_frames:
            raise IndexError(f"frame {i} out of range 0..{self.n_frames - 1}")
        yuv = self.render_into(i, np.empty_like(self.base))
        return cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)
