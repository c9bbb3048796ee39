"""The one ISO-BMFF (MP4) box reader of the engine, the emulator, its tools and its tests.

`contracts/` keeps its own (it must not import this package).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

CONTAINERS = frozenset({"moov", "trak", "mdia", "minf", "stbl", "mvex", "moof", "traf", "edts", "dinf", "mfra"})


class BoxError(ValueError):
    """The bytes are not a well-formed box sequence."""


@dataclass
class Box:
    """One box: its type, where it starts, its full size; payload for leaves, children for containers."""

    type: str
    offset: int
    size: int
    header: int = 8
    payload: bytes = b""
    children: list[Box] = field(default_factory=list)

    @property
    def end(self) -> int:
        return self.offset + self.size

    def find(self, path: str) -> list[Box]:
        """Descendants matching a slash path such as 'trak/mdia/mdhd'."""
        head, _, rest = path.partition("/")
        hits = [c for c in self.children if c.type == head]
        if not rest:
            return hits
        return [d for h in hits for d in h.find(rest)]

    def first(self, path: str) -> Box | None:
        hits = self.find(path)
        return hits[0] if hits else None


def box_header(
    data: bytes | bytearray | memoryview, pos: int, end: int, *, growing: bool = False
) -> tuple[str, int, int] | None:
    """(type, size, header length) of the box at `pos`, or None while its header is incomplete.

    Size 0 ("to the end") is resolved against `end`, unless the data is still `growing`: then such
    a box is never complete. Raises BoxError for an impossible size.
    """
    if end - pos < 8:
        return None
    size, kind = struct.unpack_from(">I4s", data, pos)
    header = 8
    if size == 1:
        if end - pos < 16:
            return None
        size = struct.unpack_from(">Q", data, pos + 8)[0]
        header = 16
    elif size == 0:
        if growing:
            return None
        size = end - pos
    if size < header:
        raise BoxError(f"box {kind!r} at offset {pos} has an impossible size {size}")
    return kind.decode("latin-1"), size, header


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """Boxes in data[start:end]; containers get their children parsed, `mdat` keeps no payload."""
    end = len(data) if end is None else end
    pos = start
    while pos < end:
        head = box_header(data, pos, end)
        if head is None:
            raise BoxError(f"truncated box header at offset {pos}")
        kind, size, header = head
        if pos + size > end:
            raise BoxError(f"box {kind!r} at offset {pos} claims {size} bytes, {end - pos} left")
        box = Box(kind, pos, size, header)
        if kind in CONTAINERS:
            box.children = list(iter_boxes(data, pos + header, pos + size))
        elif kind != "mdat":
            box.payload = bytes(data[pos + header : pos + size])
        yield box
        pos += size


def top_level(data: bytes) -> list[Box]:
    """The top-level boxes of a complete byte string (BoxError on trailing or truncated bytes)."""
    return list(iter_boxes(data))


def complete_prefix(data: bytes | bytearray) -> tuple[list[Box], int]:
    """Top-level boxes fully contained in a growing buffer, and how many bytes they span."""
    boxes: list[Box] = []
    pos = 0
    while True:
        head = box_header(data, pos, len(data), growing=True)
        if head is None or pos + head[1] > len(data):
            return boxes, pos
        boxes.extend(iter_boxes(bytes(data[pos : pos + head[1]])))
        boxes[-1].offset = pos
        pos += head[1]


class BoxSplitter:
    """A file-like sink that collects a muxer's byte stream and hands back whole top-level boxes."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self.boxes: list[tuple[str, bytes]] = []

    def write(self, data: bytes | memoryview) -> int:
        self._buf += data
        while True:
            head = box_header(self._buf, 0, len(self._buf), growing=True)
            if head is None or len(self._buf) < head[1]:
                break
            kind, size, _ = head
            self.boxes.append((kind, bytes(self._buf[:size])))
            del self._buf[:size]
        return len(data)

    @property
    def pending(self) -> int:
        return len(self._buf)


def full_box(payload: bytes) -> tuple[int, int, bytes]:
    """(version, flags, body) of a full box's payload."""
    return payload[0], int.from_bytes(payload[1:4], "big"), payload[4:]


def mfhd_sequence(moof: Box) -> int | None:
    hit = moof.first("mfhd")
    if hit is None or len(hit.payload) < 8:
        return None
    return int(struct.unpack(">I", full_box(hit.payload)[2][:4])[0])


def track_timescales(moov: Box) -> dict[int, tuple[str, int]]:
    """track_ID -> (handler type such as 'vide'/'soun', media timescale)."""
    out: dict[int, tuple[str, int]] = {}
    for trak in moov.find("trak"):
        tkhd, mdhd, hdlr = trak.first("tkhd"), trak.first("mdia/mdhd"), trak.first("mdia/hdlr")
        if tkhd is None or mdhd is None or hdlr is None:
            continue
        version, _, body = full_box(tkhd.payload)
        track_id = struct.unpack(">I", body[16:20] if version == 1 else body[8:12])[0]
        version, _, body = full_box(mdhd.payload)
        timescale = struct.unpack(">I", body[16:20] if version == 1 else body[8:12])[0]
        out[int(track_id)] = (hdlr.payload[8:12].decode("latin-1"), int(timescale))
    return out


@dataclass(frozen=True)
class TrackRun:
    """What one traf of a moof says about its track: decode time, sample count and total duration."""

    track_id: int
    base_decode_time: int | None
    samples: int
    duration: int
    """In the track's timescale: the sum of trun sample durations (or tfhd's default)."""


def track_runs(moof: Box) -> list[TrackRun]:
    """One TrackRun per traf in `moof`."""
    out: list[TrackRun] = []
    for traf in moof.find("traf"):
        tfhd = traf.first("tfhd")
        if tfhd is None:
            continue
        _, flags, body = full_box(tfhd.payload)
        track_id = int(struct.unpack(">I", body[:4])[0])
        pos = 4 + (8 if flags & 0x1 else 0) + (4 if flags & 0x2 else 0)
        default_duration = int(struct.unpack(">I", body[pos : pos + 4])[0]) if flags & 0x8 else 0
        decode_time = None
        tfdt = traf.first("tfdt")
        if tfdt is not None:
            version, _, tbody = full_box(tfdt.payload)
            decode_time = int(struct.unpack(">Q", tbody[:8])[0] if version == 1 else struct.unpack(">I", tbody[:4])[0])
        samples = duration = 0
        for trun in traf.find("trun"):
            _, tflags, tbody = full_box(trun.payload)
            count = int(struct.unpack(">I", tbody[:4])[0])
            p = 4 + (4 if tflags & 0x1 else 0) + (4 if tflags & 0x4 else 0)
            stride = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if tflags & bit)
            samples += count
            if tflags & 0x100:
                duration += sum(struct.unpack_from(">I", tbody, p + i * stride)[0] for i in range(count))
            else:
                duration += count * default_duration
        out.append(TrackRun(track_id, decode_time, samples, duration))
    return out


def fragment_times(moof: Box) -> dict[int, int]:
    """track_ID -> baseMediaDecodeTime (tfdt) of each traf in this moof."""
    return {run.track_id: run.base_decode_time for run in track_runs(moof) if run.base_decode_time is not None}
