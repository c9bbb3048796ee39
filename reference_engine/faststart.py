"""Copy a fragmented MP4 into a regular one (moov before mdat), packet for packet, without re-encoding.

`FaststartCopy` takes the fMP4's bytes while they are written and copies them on a thread of its own,
so a render's MP4 is ready moments after its last fragment; `remux_faststart` copies a finished file.
Both read the fMP4 as a stream (never seeking back), so they write the same bytes.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from pathlib import Path
from typing import BinaryIO

import av

READ_SIZE = 1 << 20
"""Bytes `remux_faststart` reads from the fMP4 at a time."""


def _copy_packets(source: object, target: str) -> None:
    """Demux the fMP4 that `source` (a file-like object with `read` only) holds, and mux its packets
    into a faststart MP4 at `target`."""
    with av.open(source, mode="r", format="mp4") as src, av.open(
        target, mode="w", format="mp4", options={"movflags": "faststart"}
    ) as dst:
        dst.metadata["encoder"] = "avatar-emulator"
        mapping = {}
        for stream in (*src.streams.video, *src.streams.audio):
            mapping[stream.index] = dst.add_stream_from_template(stream)
        for packet in src.demux(*[src.streams[i] for i in mapping]):
            if packet.dts is None:  # the demuxer's flush packets
                continue
            packet.stream = mapping[packet.stream.index]
            dst.mux(packet)


class _Stream:
    """`read` of a file, and nothing else: the demuxer then treats it as a stream, as it does a
    `FaststartCopy`'s input."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def read(self, size: int) -> bytes:
        return self._file.read(min(size, READ_SIZE))


def remux_faststart(fmp4_path: str | Path, mp4_path: str | Path) -> None:
    """Copy the packets of a finished fMP4 file into a regular MP4 with moov before mdat."""
    with open(fmp4_path, "rb") as file:
        _copy_packets(_Stream(file), str(mp4_path))


class _Chunks:
    """A byte stream fed in chunks from another thread; `read` waits for the next one."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._buffer = b""
        self._ended = False

    def put(self, data: bytes | None) -> None:
        """Add `data`, or end the stream (None)."""
        self._queue.put(data)

    def read(self, size: int) -> bytes:
        while not self._buffer and not self._ended:
            item = self._queue.get()
            if item is None:
                self._ended = True
            else:
                self._buffer = item
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out


class FaststartCopy:
    """Copies an fMP4, fed piece by piece as it is written (`feed`), into a faststart MP4 at `target`
    on a thread of its own. `finish()` once the fMP4 is complete, or `abort()` to drop the copy."""

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target)
        self._chunks = _Chunks()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._copy, name="mp4", daemon=True)
        self._thread.start()

    def _copy(self) -> None:
        try:
            _copy_packets(self._chunks, str(self.target))
        except BaseException as exc:  # handed to finish()
            self._error = exc

    def feed(self, data: bytes) -> None:
        """The next bytes of the fMP4 (the init segment first)."""
        if self._error is None:
            self._chunks.put(data)

    def finish(self) -> None:
        """The fMP4 is complete: wait until the MP4 is too (raises what the copy raised)."""
        self._chunks.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        """Stop the copy and remove what it wrote."""
        self._chunks.put(None)
        self._thread.join()
        with contextlib.suppress(OSError):
            self.target.unlink()
