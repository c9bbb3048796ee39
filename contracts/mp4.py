"""A small ISO-BMFF (MP4) box reader: top-level order, mvex, moof sequence numbers and fragment times."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"edts", b"dinf"}


@dataclass
class Box:
    type: str
    offset: int
    size: int
    payload: bytes = b""
    children: list[Box] = field(default_factory=list)

    def find(self, path: str) -> list[Box]:
        """Descendants matching a slash path such as 'trak/mdia/mdhd'."""
        head, _, rest = path.partition("/")
        hits = [c for c in self.children if c.type == head]
        if not rest:
            return hits
        return [d for h in hits for d in h.find(rest)]


class BoxError(ValueError):
    """The bytes are not a well-formed box sequence."""


def iter_boxes(data: bytes, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """Boxes in data[start:end]; containers get their children parsed."""
    end = len(data) if end is None else end
    pos = start
    while pos < end:
        if end - pos < 8:
            raise BoxError(f"truncated box header at offset {pos}")
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            if end - pos < 16:
                raise BoxError(f"truncated largesize header at offset {pos}")
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise BoxError(f"box {kind!r} at offset {pos} claims {size} bytes, {end - pos} left")
        name = kind.decode("latin-1")
        box = Box(name, pos, size)
        if kind in CONTAINERS:
            box.children = list(iter_boxes(data, pos + header, pos + size))
        elif kind != b"mdat":
            box.payload = data[pos + header : pos + size]
        yield box
        pos += size


def top_level(data: bytes) -> list[Box]:
    """The top-level boxes of a complete byte string."""
    return list(iter_boxes(data))


def complete_prefix_boxes(data: bytes) -> tuple[list[Box], int]:
    """Top-level boxes fully contained in a growing buffer, and how many bytes they span."""
    boxes: list[Box] = []
    pos = 0
    while len(data) - pos >= 8:
        size, _ = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            if len(data) - pos < 16:
                break
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        if size < 8 or pos + size > len(data):
            break
        boxes.extend(iter_boxes(data, pos, pos + size))
        pos += size
    return boxes, pos


def _full_box(payload: bytes) -> tuple[int, bytes]:
    return payload[0], payload[4:]


def mfhd_sequence(moof: Box) -> int | None:
    hits = moof.find("mfhd")
    if not hits or len(hits[0].payload) < 8:
        return None
    _, body = _full_box(hits[0].payload)
    return int(struct.unpack(">I", body[:4])[0])


def track_timescales(moov: Box) -> dict[int, tuple[str, int]]:
    """track_ID -> (handler type such as 'vide'/'soun', media timescale)."""
    out: dict[int, tuple[str, int]] = {}
    for trak in moov.find("trak"):
        tkhd = trak.find("tkhd")
        mdhd = trak.find("mdia/mdhd")
        hdlr = trak.find("mdia/hdlr")
        if not (tkhd and mdhd and hdlr):
            continue
        version, body = _full_box(tkhd[0].payload)
        track_id = struct.unpack(">I", body[16:20] if version == 1 else body[8:12])[0]
        version, body = _full_box(mdhd[0].payload)
        timescale = struct.unpack(">I", body[16:20] if version == 1 else body[8:12])[0]
        handler = hdlr[0].payload[8:12].decode("latin-1")
        out[int(track_id)] = (handler, int(timescale))
    return out


def fragment_times(moof: Box) -> dict[int, int]:
    """track_ID -> baseMediaDecodeTime (tfdt) of each traf in this moof."""
    out: dict[int, int] = {}
    for traf in moof.find("traf"):
        tfhd = traf.find("tfhd")
        tfdt = traf.find("tfdt")
        if not (tfhd and tfdt):
            continue
        _, body = _full_box(tfhd[0].payload)
        track_id = struct.unpack(">I", body[:4])[0]
        version, body = _full_box(tfdt[0].payload)
        time = struct.unpack(">Q", body[:8])[0] if version == 1 else struct.unpack(">I", body[:4])[0]
        out[int(track_id)] = int(time)
    return out
