"""Fragmented MP4 (H.264 + AAC) encoding with PyAV, emitted box by box as the muxer writes.

The writer takes yuv420p frames shaped (H*3//2, W) and returns the complete top-level boxes each
call produced: first the init segment (ftyp+moov with mvex), then one moof+mdat pair per fragment.
"""

from __future__ import annotations

import contextlib
import fractions
import os
import sys
import threading
from collections.abc import Generator, Iterable

import av
import numpy as np

from . import FPS, SAMPLE_RATE
from .mp4box import BoxSplitter, top_level, track_runs

GOP = 25
FRAG_DURATION_US = 200_000  # fragments of at most 0.2 s: the first playable bytes leave early
AUDIO_LEAD_FRAMES = 5  # keep AAC this far ahead of video so the interleaver never waits for it
AUDIO_CHUNK = SAMPLE_RATE // 5  # samples per AudioFrame fed to the encoder (PyAV re-chunks to 1024)
AAC_PRIMING = 1024  # samples of encoder delay FFmpeg's AAC encoder puts before the first input sample
MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof+skip_trailer"
X264_OPTIONS = {
    "preset": "ultrafast",
    "tune": "zerolatency",
    "crf": "23",
    "x264-params": f"keyint={GOP}:min-keyint={GOP}:scenecut=0",
}
AAC_OPTIONS = {"aac_coder": "fast", "aac_tns": "0", "aac_pns": "0"}
"""FFmpeg's AAC encoder at its cheapest: no temporal noise shaping or noise substitution, which
speech at 64 kbit/s does not need (12% less CPU beside the video encoder)."""
X264_THREADS = 1
"""One encoder thread (a fixed count gives identical bytes on any machine). A render's other work
runs beside it on threads of its own (`pipeline`), and the emulator renders several videos at once
in worker processes."""


HELPER_NICENESS = 5
"""How much lower than the encoder the drawing thread beside it runs: on a busy machine the
scheduler then preempts x264 less often to run it (make bench: about +3% render+encode speed)."""


def yield_to_encoder() -> None:
    """Lower the calling thread's CPU priority by HELPER_NICENESS (Linux, where a thread has its own
    niceness; elsewhere, and where the process is already at the lowest priority, nothing changes)."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + HELPER_NICENESS))


def configure_x264(stream: av.video.stream.VideoStream, width: int, height: int) -> None:
    """The project's libx264 settings: ultrafast/zerolatency, GOP 25, one thread, yuv420p."""
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    cc = stream.codec_context
    cc.gop_size = GOP
    cc.thread_count = X264_THREADS
    cc.thread_type = "SLICE"
    cc.options = dict(X264_OPTIONS)


def lead_in_trimmed(audio: np.ndarray) -> np.ndarray:
    """What the AAC encoder is fed: `audio` less the samples its priming stands for, with a 2 ms fade-in.

    At least one sample is kept, so a clip shorter than the priming still gets an audio track.
    """
    skip = min(AAC_PRIMING, max(0, audio.size - 1))
    fed = np.array(audio[skip:], dtype=np.float32)
    if skip:
        ramp = min(fed.size, SAMPLE_RATE // 500)
        fed[:ramp] *= np.linspace(0.0, 1.0, ramp + 1, dtype=np.float32)[1:]
    return fed


def video_samples(moof: bytes, track_id: int = 1) -> int:
    """Samples of `track_id` in one complete moof box."""
    return sum(run.samples for box in top_level(moof) for run in track_runs(box) if run.track_id == track_id)


class FragmentedMP4Writer:
    """Streamable fMP4 writer: libx264 video (25 fps) and AAC mono 24 kHz audio known up front.

    ``header()`` returns the init segment; ``write(yuv)`` returns the fragments (moof+mdat bytes)
    completed by that frame; ``close()`` flushes and returns the rest; ``abort()`` drops the output.
    ``video_frames_out`` counts the video samples in the fragments returned so far. AAC is encoded
    on the muxing thread, just as far as the muxer needs it. (On a thread of its own it was no faster
    beside a pipelined render, and slower when the second core was busy: in 18 alternating pairs of
    60 s renders, render+encode / bare x264 had a median of 0.87 with the thread, 0.90 without.)
    """

    def __init__(self, width: int, height: int, audio: np.ndarray, *, frag_duration_us: int = FRAG_DURATION_US):
        if width % 2 or height % 2 or width < 16 or height < 16:
            raise ValueError(f"video size must be even and at least 16x16, got {width}x{height}")
        self.width, self.height = width, height
        self.audio = np.ascontiguousarray(audio, dtype=np.float32).reshape(-1)
        self._sink = BoxSplitter()
        options = {"movflags": MOVFLAGS, "frag_duration": str(frag_duration_us)}
        self._out = av.open(self._sink, mode="w", format="mp4", options=options)
        self._vs = self._out.add_stream("libx264", rate=FPS)
        configure_x264(self._vs, width, height)
        self._as = self._out.add_stream("aac", rate=SAMPLE_RATE, layout="mono")
        self._as.bit_rate = 64_000
        self._as.codec_context.options = dict(AAC_OPTIONS)
        self._tb_v = fractions.Fraction(1, FPS)
        self._tb_a = fractions.Fraction(1, SAMPLE_RATE)
        self._n = 0  # video frames encoded
        self._v_muxed = 0  # video packets muxed (x264 with zerolatency: one per frame, at once)
        self._closed = False
        self.video_frames_out = 0
        self._a_packets: list[av.Packet] = []  # encoded, not muxed yet
        self._a_done = False
        self._a_chunks = self._audio_chunks()
        self._out.start_encoding()  # writes ftyp+moov now
        self._init = b"".join(self._take())

    def header(self) -> bytes:
        """The init segment: ftyp + moov (with mvex)."""
        return self._init

    @property
    def frames_in(self) -> int:
        """Video frames encoded so far."""
        return self._n

    def _take(self) -> list[bytes]:
        """Whole boxes written since the last call, paired into ftyp+moov or moof+mdat units."""
        boxes = self._sink.boxes
        out: list[bytes] = []
        while boxes:
            kind, data = boxes[0]
            if kind in ("ftyp", "moof"):
                if len(boxes) < 2:
                    break
                if kind == "moof":
                    self.video_frames_out += video_samples(data)
                out.append(data + boxes[1][1])
                del boxes[:2]
            else:  # anything else (free, mfra) rides along on its own
                out.append(data)
                del boxes[0]
        return out

    def _audio_chunks(self) -> Generator[list[av.Packet], None, None]:
        """AAC-encode the whole signal, AUDIO_CHUNK samples at a time: yields the packets each chunk
        completed, then the flushed ones.

        The encoder's priming takes the place of the first AAC_PRIMING input samples: they are not fed,
        and the rest is fed from pts AAC_PRIMING, so the first packet starts at 0 and the track lasts
        exactly as long as the input (no edit list, which fragmented readers such as ffprobe ignore).
        """
        audio = lead_in_trimmed(self.audio)
        offset = self.audio.size - audio.size
        for start in range(0, audio.size, AUDIO_CHUNK):
            chunk = audio[None, start : start + AUDIO_CHUNK]
            frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
            frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, offset + start, self._tb_a
            yield self._as.encode(frame)
        yield self._as.encode(None)

    def _push_audio(self, upto: int | None) -> None:
        """Mux the audio packets that start before sample `upto` (all of them for None), encoding
        just as far as that needs."""
        while not self._a_done and (upto is None or not self._a_packets or (self._a_packets[-1].pts or 0) < upto):
            packets = next(self._a_chunks, None)
            if packets is None:
                self._a_done = True
            else:
                self._a_packets.extend(packets)
        count = 0
        for packet in self._a_packets:
            if upto is not None and (packet.pts or 0) >= upto:
                break
            count += 1
        ready = self._a_packets[:count]
        del self._a_packets[:count]
        for packet in ready:
            self._out.mux(packet)

    def write(self, yuv: np.ndarray) -> list[bytes]:
        """Encode one yuv420p frame ((H*3//2, W) uint8, C-contiguous); returns completed fragments.

        The array is handed to the encoder without a copy and may be reused once this returns.
        """
        return self.mux(self.encode(yuv))

    def encode(self, yuv: np.ndarray) -> list[av.Packet]:
        """The first half of `write`: x264 only, so it may run on a thread of its own while another
        thread muxes the packets of earlier frames (in order) with `mux`."""
        if self._closed:
            raise ValueError("the writer is closed")
        frame = av.VideoFrame.from_numpy_buffer(yuv, format="yuv420p")
        frame.pts, frame.time_base = self._n, self._tb_v
        self._n += 1
        return self._vs.encode(frame)

    def mux(self, packets: list[av.Packet]) -> list[bytes]:
        """The second half of `write`: mux video packets from `encode`, with the audio that goes
        before them; returns completed fragments."""
        self._out.mux(packets)
        self._v_muxed += len(packets)
        self._push_audio((self._v_muxed + AUDIO_LEAD_FRAMES) * (SAMPLE_RATE // FPS))
        return self._take()

    def close(self) -> list[bytes]:
        """Flush both encoders and the muxer; returns the remaining fragments."""
        if self._closed:
            return []
        self._closed = True
        self._out.mux(self._vs.encode(None))
        self._push_audio(None)
        self._out.close()
        out = self._take()
        if self._sink.pending:
            raise ValueError(f"the muxer left {self._sink.pending} bytes outside any box")
        return out

    def abort(self) -> None:
        """Drop the output without flushing (after a cancel or an error)."""
        if self._closed:
            return
        self._closed = True
        self._a_chunks.close()
        with contextlib.suppress(av.FFmpegError, ValueError, OSError):
            self._out.close()


def encode_yuv_frames_plain(frames: Iterable[np.ndarray], width: int, height: int) -> int:
    """Encode yuv420p frames with bare libx264 (same settings, no audio, no muxing); returns the count.

    The benchmark's baseline for the cost of the encoder alone.
    """
    cc = av.CodecContext.create("libx264", "w")
    cc.width, cc.height, cc.pix_fmt = width, height, "yuv420p"
    cc.time_base = fractions.Fraction(1, FPS)
    cc.framerate = fractions.Fraction(FPS, 1)
    cc.gop_size = GOP
    cc.thread_count = X264_THREADS
    cc.thread_type = "SLICE"
    cc.options = dict(X264_OPTIONS)
    n = 0
    for i, yuv in enumerate(frames):
        frame = av.VideoFrame.from_numpy_buffer(yuv, format="yuv420p")
        frame.pts = i
        cc.encode(frame)
        n += 1
    cc.encode(None)
    return n
