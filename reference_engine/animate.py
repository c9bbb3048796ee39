"""Talking-head animation by cheap ROI edits on YUV 4:2:0 planes (no neural model).

The still portrait is converted to I420 once. Each frame starts as a copy of that base and rewrites
only small regions: the face region shifted by a few pixels (head motion, feathered into the base),
the lower face stretched down (jaw), a dark inner-mouth ellipse whose height follows the loudness,
and eyelids closed on a seeded blink schedule.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from . import FPS, SAMPLE_RATE
from .face import FaceBox, locate_face

SPF = SAMPLE_RATE // FPS  # audio samples per video frame (960)
BLINK_PROFILE = (0.45, 0.9, 1.0, 0.75, 0.35)  # eyelid closure over a blink's frames
_MOUTH_YUV = (38, 120, 146)  # inner mouth: dark, slightly red


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
    ref = float(np.percentile(db[voiced], 95))
    level = np.clip((db - (ref - 26.0)) / 22.0, 0.0, 1.0) * voiced
    out = np.empty(n_frames, dtype=np.float32)
    prev = 0.0
    for i, v in enumerate(level):  # fast attack, slower release
        prev = prev + (0.75 if v > prev else 0.45) * (v - prev)
        out[i] = prev
    return out


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


def _span(lo: float, hi: float, limit: int) -> tuple[int, int]:
    """Even-aligned [lo, hi) clipped to 0..limit."""
    a = max(0, int(lo) & ~1)
    b = min(limit, (int(np.ceil(hi)) + 1) & ~1)
    return a, max(a, b)


Planes = tuple[np.ndarray, np.ndarray, np.ndarray]
Stamp = tuple[str, int, int, int, np.ndarray] | tuple[str, int, int, int, np.ndarray, np.ndarray]
"""A cached edit of one plane at (row, col): ("gather", p, r, c, flat_index) or ("paint", p, r, c, keep, add)."""


def _paint(p: int, r: int, c: int, alpha: np.ndarray, value: int) -> Stamp:
    """A stamp that blends a constant `value` with weight `alpha` (out = plane * keep + add)."""
    alpha = alpha.astype(np.float32)
    return ("paint", p, r, c, 1.0 - alpha, alpha * np.float32(value) + np.float32(0.5))


def _apply(planes: Planes, stamps: list[Stamp], dx: int, dy: int) -> None:
    """Apply cached stamps moved by an even (dx, dy)."""
    for stamp in stamps:
        p, r, c = stamp[1], stamp[2], stamp[3]
        sub = 1 if p == 0 else 2
        r, c = r + dy // sub, c + dx // sub
        arr = stamp[4]
        roi = planes[p][r : r + arr.shape[0], c : c + arr.shape[1]]
        if stamp[0] == "gather":
            roi[...] = np.take(roi, arr)
        else:
            roi[...] = (roi * arr + stamp[5]).astype(np.uint8)  # type: ignore[misc]


class FaceAnimator:
    """Animate a portrait (RGB uint8, even width and height) to `audio` (float32 mono 24 kHz)."""

    def __init__(self, rgb: np.ndarray, audio: np.ndarray, *, seed: int = 0, face: FaceBox | None = None) -> None:
        h, w = rgb.shape[:2]
        if h % 2 or w % 2 or rgb.ndim != 3 or rgb.shape[2] != 3:
            raise ValueError(f"FaceAnimator needs an RGB image with even sides, got {rgb.shape}")
        self.width, self.height = w, h
        self.face = face if face is not None else locate_face(rgb)
        self.base = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2YUV_I420)
        self.n_frames = frame_count(len(audio))
        self.openness = mouth_openness(audio, self.n_frames)
        self.blinks = blink_schedule(self.n_frames, seed)
        fw, fh = self.face.w, self.face.h
        amplitude = int(np.clip(fw * 0.012, 1.0, 6.0))
        self.shifts = head_path(self.n_frames, seed, amplitude, self.openness)
        self._jaw_max = max(2.0, fh * 0.075)
        # head region: the face box grown to take in forehead, hair and chin
        self._head = (*_span(self.face.x - 0.2 * fw, self.face.x + 1.2 * fw, w),
                      *_span(self.face.y - 0.3 * fh, self.face.y + 1.25 * fh, h))  # fmt: skip
        self._margin = int(np.abs(self.shifts).max(initial=0)) + 2
        self._dirty = self._dirty_box()
        self._head_cache: dict[tuple[int, int], Planes] = {}
        self._mouth_cache: dict[int, list[Stamp]] = {}
        self._lid_cache: dict[int, list[Stamp]] = {}
        self._skin = self._sample_skin()

    # ------------------------------------------------------------------ planes and caches

    def planes(self, buf: np.ndarray) -> Planes:
        """Y, U and V views of an I420 buffer shaped (H*3//2, W)."""
        h, w = self.height, self.width
        flat = buf.reshape(-1)
        y = flat[: h * w].reshape(h, w)
        u = flat[h * w : h * w * 5 // 4].reshape(h // 2, w // 2)
        v = flat[h * w * 5 // 4 :].reshape(h // 2, w // 2)
        return y, u, v

    def _dirty_box(self) -> tuple[int, int, int, int]:
        """(x0, x1, y0, y1): every pixel any frame may change lies inside (head, jaw, mouth, eyes, shifts)."""
        f, m = self.face, self._margin + 4
        mcx, mcy = f.mouth[0], f.mouth[1]
        xs = [self._head[0], self._head[1], mcx - 0.5 * f.w, mcx + 0.5 * f.w]
        ys = [self._head[2], self._head[3], mcy - 0.1 * f.h, f.y + 1.25 * f.h]
        for ecx, ecy, ew, eh in f.eyes:
            xs += [ecx - ew, ecx + ew]
            ys += [ecy - eh, ecy + eh]
        return (*_span(min(xs) - m, max(xs) + m, self.width), *_span(min(ys) - m, max(ys) + m, self.height))

    def _restore(self, buf: np.ndarray) -> None:
        """Copy the base back over the region that frames change (the rest of `buf` is already base)."""
        x0, x1, y0, y1 = self._dirty
        for dst, src, sub in zip(self.planes(buf), self.planes(self.base), (1, 2, 2), strict=True):
            dst[y0 // sub : y1 // sub, x0 // sub : x1 // sub] = src[y0 // sub : y1 // sub, x0 // sub : x1 // sub]

    def _sample_skin(self) -> tuple[int, int, int]:
        """Median YUV of the cheeks, used to paint eyelids."""
        y, u, v = self.planes(self.base)
        f = self.face
        x0, x1 = _span(f.x + 0.25 * f.w, f.x + 0.75 * f.w, self.width)
        y0, y1 = _span(f.y + 0.52 * f.h, f.y + 0.62 * f.h, self.height)
        if x1 <= x0 or y1 <= y0:
            return 160, 110, 150
        return (int(np.median(y[y0:y1, x0:x1])), int(np.median(u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2])),
                int(np.median(v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2])))  # fmt: skip

    def _shifted_head(self, dx: int, dy: int) -> Planes:
        """The head region moved by (dx, dy), feathered into the still background (cached)."""
        key = (dx, dy)
        if key not in self._head_cache:
            x0, x1, y0, y1 = self._head
            parts = []
            for plane, sub in zip(self.planes(self.base), (1, 2, 2), strict=True):
                a0, a1, b0, b1 = x0 // sub, x1 // sub, y0 // sub, y1 // sub
                sx, sy = dx // sub, dy // sub
                ph, pw = plane.shape
                rows = np.clip(np.arange(b0, b1) - sy, 0, ph - 1)
                cols = np.clip(np.arange(a0, a1) - sx, 0, pw - 1)
                moved = plane[rows[:, None], cols[None, :]].astype(np.float32)
                still = plane[b0:b1, a0:a1].astype(np.float32)
                gy = (np.arange(b0, b1) + 0.5 - (b0 + b1) / 2) / max(1.0, (b1 - b0) / 2)
                gx = (np.arange(a0, a1) + 0.5 - (a0 + a1) / 2) / max(1.0, (a1 - a0) / 2)
                r = np.sqrt(gy[:, None] ** 2 + gx[None, :] ** 2)
                alpha = np.clip((1.0 - r) / 0.3, 0.0, 1.0).astype(np.float32)
                parts.append((still + alpha * (moved - still) + 0.5).astype(np.uint8))
            self._head_cache[key] = (parts[0], parts[1], parts[2])
        return self._head_cache[key]

    # ------------------------------------------------------------------ drawing

    def _draw_head(self, planes: Planes, dx: int, dy: int) -> None:
        if dx == 0 and dy == 0:
            return
        x0, x1, y0, y1 = self._head
        for plane, part, sub in zip(planes, self._shifted_head(dx, dy), (1, 2, 2), strict=True):
            plane[y0 // sub : y1 // sub, x0 // sub : x1 // sub] = part

    def _grid(self, x0: int, x1: int, y0: int, y1: int, sub: int) -> tuple[np.ndarray, np.ndarray]:
        """Pixel-centre coordinates (full-resolution units) of a plane's rows and columns."""
        rr = (np.arange(y0 // sub, y1 // sub, dtype=np.float32) + 0.5) * sub
        cc = (np.arange(x0 // sub, x1 // sub, dtype=np.float32) + 0.5) * sub
        return rr, cc

    def _box(self, lo_x: float, hi_x: float, lo_y: float, hi_y: float) -> tuple[int, int, int, int]:
        """Even box kept `margin` pixels inside the frame, so every head shift stays in bounds."""
        m = self._margin
        x0, x1 = _span(lo_x, hi_x, self.width - m)
        y0, y1 = _span(lo_y, hi_y, self.height - m)
        return max(x0, m), x1, max(y0, m), y1

    def _mouth_stamps(self, jaw: int) -> list[Stamp]:
        """Jaw dropped by `jaw` pixels, then a dark inner-mouth ellipse in the gap (cached per jaw)."""
        if jaw in self._mouth_cache:
            return self._mouth_cache[jaw]
        f = self.face
        mcx, mcy, mw, _mh = f.mouth
        a = jaw / self._jaw_max
        chin, taper = f.y + 1.02 * f.h, 0.18 * f.h
        half = 0.5 * f.w
        stamps: list[Stamp] = []
        x0, x1, y0, y1 = self._box(mcx - half, mcx + half, mcy - 2, chin + taper)
        if x1 - x0 >= 4 and y1 - y0 >= 4:
            for p, sub in enumerate((1, 2, 2)):
                rr, cc = self._grid(x0, x1, y0, y1, sub)
                # vertical weight: 0 above the lip line, 1 down to the chin, back to 0 below it
                ramp = np.clip((rr - mcy + 1.0) / max(1.0, 0.3 * jaw), 0.0, 1.0)
                ramp = np.minimum(ramp, np.clip((chin + taper - rr) / taper, 0.0, 1.0))
                colw = np.maximum(np.cos(np.clip((cc - mcx) / half, -1.0, 1.0) * (np.pi / 2)), 0.0) ** 0.7
                shift = np.rint(jaw / sub * ramp[:, None] * colw[None, :]).astype(np.int32)
                rows = np.clip(np.arange(len(rr), dtype=np.int32)[:, None] - shift, 0, len(rr) - 1)
                idx = rows * len(cc) + np.arange(len(cc), dtype=np.int32)[None, :]
                stamps.append(("gather", p, y0 // sub, x0 // sub, idx))
        ey, ex = mcy + 0.5 * jaw, float(mcx)
        ry, rx = 0.5 * jaw + 0.6, mw * 0.44 * (0.85 + 0.15 * a)
        x0, x1, y0, y1 = self._box(ex - rx - 2, ex + rx + 2, ey - ry - 2, ey + ry + 2)
        if x1 > x0 and y1 > y0:
            for p, sub in enumerate((1, 2, 2)):
                rr, cc = self._grid(x0, x1, y0, y1, sub)
                d = np.sqrt(((rr[:, None] - ey) / ry) ** 2 + ((cc[None, :] - ex) / rx) ** 2)
                alpha = np.clip((1.0 - d) * min(rx, ry) / (1.2 * sub), 0.0, 1.0)
                stamps.append(_paint(p, y0 // sub, x0 // sub, alpha, _MOUTH_YUV[p]))
        self._mouth_cache[jaw] = stamps
        return stamps

    def _eyelid_stamps(self, level: int) -> list[Stamp]:
        """Both eyes closed by level/20: skin-coloured lids with a dark lash line (cached per level)."""
        if level in self._lid_cache:
            return self._lid_cache[level]
        b = level / 20.0
        stamps: list[Stamp] = []
        for ecx, ecy, ew, eh in self.face.eyes:
            rx, ry = ew * 0.55, eh * 0.6
            lid = ecy - ry + b * 2.0 * ry  # lid edge height
            x0, x1, y0, y1 = self._box(ecx - rx, ecx + rx, ecy - ry, ecy + ry)
            if x1 <= x0 or y1 <= y0:
                continue
            for p, sub in enumerate((1, 2, 2)):
                rr, cc = self._grid(x0, x1, y0, y1, sub)
                d = np.sqrt(((rr[:, None] - ecy) / ry) ** 2 + ((cc[None, :] - ecx) / rx) ** 2)
                inside = np.clip((1.0 - d) * min(rx, ry) / sub, 0.0, 1.0)
                above = np.clip((lid - rr) / sub + 0.5, 0.0, 1.0)[:, None]
                stamps.append(_paint(p, y0 // sub, x0 // sub, inside * above, self._skin[p]))
                if p == 0:
                    line = np.clip(1.0 - np.abs(rr - lid) / max(1.0, ry * 0.15), 0.0, 1.0)[:, None]
                    stamps.append(_paint(0, y0, x0, inside * line * 0.8, 40))
        self._lid_cache[level] = stamps
        return stamps

    # ------------------------------------------------------------------ frames

    def render_into(self, i: int, buf: np.ndarray, *, reused: bool = False) -> np.ndarray:
        """Draw frame i (I420, (H*3//2, W) uint8) into `buf` and return it.

        reused=True promises that `buf` holds an earlier frame of this animator, so only the region
        that frames change is reset instead of the whole picture.
        """
        if reused:
            self._restore(buf)
        else:
            np.copyto(buf, self.base)
        planes = self.planes(buf)
        dx, dy = (int(v) for v in self.shifts[i])
        self._draw_head(planes, dx, dy)
        jaw = round(float(self.openness[i]) * self._jaw_max)
        if jaw > 0:
            _apply(planes, self._mouth_stamps(jaw), dx, dy)
        lid = round(float(self.blinks[i]) * 20)
        if lid > 0:
            _apply(planes, self._eyelid_stamps(lid), dx, dy)
        return buf

    def yuv_frames(self, *, ring: int = 0) -> Iterator[np.ndarray]:
        """Every frame as a yuv420p (H*3//2, W) uint8 array.

        ring=0 yields a fresh array per frame; ring=N reuses N buffers in turn (a yielded frame stays
        valid until N more have been yielded), which is what the encoder pipeline uses.
        """
        buffers = [np.empty_like(self.base) for _ in range(ring)]
        for i in range(self.n_frames):
            if ring:
                yield self.render_into(i, buffers[i % ring], reused=i >= ring)
            else:
                yield self.render_into(i, np.empty_like(self.base))

    def rgb_frame(self, i: int) -> np.ndarray:
        """Frame i as RGB uint8 HxWx3 (slower: for compositing onto other backgrounds)."""
        if not 0 <= i < self.n_frames:
            raise IndexError(f"frame {i} out of range 0..{self.n_frames - 1}")
        yuv = self.render_into(i, np.empty_like(self.base))
        return cv2.cvtColor(yuv, cv2.COLOR_YUV2RGB_I420)
