"""A small ISO-BMFF (MP4) box reader: top-level order, mvex, moof sequence numbers and fragment times.

The suite keeps its own reader (it judges deployments over HTTP and imports no emulator or engine code).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field

CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"edts", b"dinf", b"mfra"}
FILLER = frozenset({"free", "skip", "wide", "uuid"})
"""Boxes a file may carry anywhere at the top level (ISO/IEC 14496-12 8.1.2 free space, 4.2 uuid)."""
BEFORE_MOOV = frozenset({"pdin", "meta"})
"""Top-level boxes allowed between ftyp and moov (8.1.3 progressive download info, 8.11.1 meta)."""
SEGMENT_BOXES = frozenset({"styp", "sidx", "ssix", "prft", "emsg"})
"""Boxes that may precede a fragment's moof: segment type (8.16.2), segment indexes (8.16.3, 8.16.4),
producer reference time (8.16.5) and DASH event messages (ISO/IEC 23009-1 5.10.3.3)."""
STRUCTURAL = frozenset({"ftyp", "moov", "moof", "mdat", "mfra"}) | SEGMENT_BOXES


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


def fragmented_layout_problems(types: list[str]) -> list[str]:
    """Why a top-level box sequence is not a fragmented MP4 as ISO/IEC 14496-12 lays one out (empty: it is).

    ftyp first; only pdin/meta (and free space) before the one moov; then fragments, each optionally led by
    styp/sidx/ssix/prft/emsg, made of a moof and the mdat(s) after it; an mfra only after the last fragment
    (8.8.9: "usually placed at or near the end of the file"). Free space, uuid and unknown boxes may appear
    anywhere (readers skip boxes they do not know).
    """
    problems: list[str] = []
    if not types or types[0] != "ftyp":
        problems.append(f"the first box is {types[0] if types else 'missing'}, not ftyp")
    if types.count("moov") != 1:
        problems.append(f"{types.count('moov')} moov boxes (want exactly one)")
    state = "header"  # header -> between -> need_mdat -> in_fragment -> between ... (mfra ends it)
    fragments = 0
    for index, kind in enumerate(types[1:], start=1):
        where = f"box {index} ({kind})"
        if kind in FILLER or kind not in STRUCTURAL | BEFORE_MOOV:
            continue
        if state == "mfra":
            problems.append(f"{where} after mfra: mfra must follow the last fragment")
        elif state == "header":
            if kind == "moov":
                state = "between"
            elif kind not in BEFORE_MOOV:
                problems.append(f"{where} before moov")
        elif kind in BEFORE_MOOV or kind in ("ftyp", "moov"):
            problems.append(f"{where} after moov")
        elif kind in SEGMENT_BOXES:
            if state == "need_mdat":
                problems.append(f"{where} between a moof and its mdat")
            state = "between"
        elif kind == "moof":
            if state == "need_mdat":
                problems.append(f"{where}: the moof before it has no mdat")
            state = "need_mdat"
            fragments += 1
        elif kind == "mdat":
            if state == "between":
                problems.append(f"{where}: an mdat with no moof before it")
            state = "in_fragment"
        elif kind == "mfra":
            if state == "need_mdat":
                problems.append(f"{where}: the last moof has no mdat")
            state = "mfra"
    if state == "need_mdat":
        problems.append("the last moof has no mdat")
    if fragments == 0:
        problems.append("no moof/mdat fragment")
    return problems


def mfra_problem(mfra: Box) -> str | None:
    """Why an mfra box is malformed (8.8.9-8.8.11: its last child is mfro, which states mfra's size), or None."""
    if not mfra.children or mfra.children[-1].type != "mfro":
        return f"mfra does not end with mfro (children {[c.type for c in mfra.children]})"
    payload = mfra.children[-1].payload
    if len(payload) < 8:
        return "mfro is truncated"
    size = struct.unpack(">I", payload[4:8])[0]
    return None if size == mfra.size else f"mfro says mfra is {size} bytes; it is {mfra.size}"
