"""`avatar-emulator render`: portrait + speech (audio file or text) -> talking-head MP4."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import numpy as np

from .errors import MediaError


class UsageError(Exception):
    """A bad command line (reported on one line, exit status 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line instead of usage + message
        raise UsageError(message)


def _size(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"size must look like 640x640, got {text!r}")
    w, h = int(m.group(1)), int(m.group(2))
    if w % 2 or h % 2 or not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise argparse.ArgumentTypeError(f"size must be even numbers between 16 and 4096, got {w}x{h}")
    return w, h


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `render` command (also usable as a subcommand parser)."""
    parser = _Parser(
        prog="avatar-emulator render",
        description="Render a talking-head MP4 from a face image and speech (an audio file or text).",
    )
    parser.add_argument("--image", required=True, type=Path, help="portrait: PNG, JPEG or WEBP")
    speech = parser.add_mutually_exclusive_group(required=True)
    speech.add_argument("--audio", type=Path, help="speech: WAV, MP3, AAC/M4A, FLAC or OPUS")
    speech.add_argument("--text", help="text to speak with the built-in synthetic voice")
    parser.add_argument("--voice", default="default", help="voice for --text (default: %(default)s)")
    parser.add_argument("-o", "--output", required=True, type=Path, help="output .mp4 path")
    parser.add_argument("--size", type=_size, default=(640, 640), help="WIDTHxHEIGHT, even (default: 640x640)")
    parser.add_argument("--seed", type=int, default=0, help="animation seed (default: 0)")
    parser.add_argument("--fragmented", action="store_true", help="write the streamable fMP4 instead of faststart MP4")
    return parser


def _speech(args: argparse.Namespace) -> np.ndarray:
    if args.audio is not None:
        from .audio import decode_audio

        return decode_audio(args.audio.read_bytes())
    from . import tts  # owned by the audio engine; imported only when text is given

    return np.asarray(tts.synthesize(args.text, args.voice, seed=args.seed), dtype=np.float32)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `render` with `argv` (without the subcommand name); returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list[:1] == ["render"]:
        args_list = args_list[1:]
    try:
        args = build_parser().parse_args(args_list)
    except UsageError as exc:
        print(f"avatar-emulator render: error: {exc} (see --help)", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return 0 if exc.code in (0, None) else 2
    try:
        from .image import decode_image
        from .render import RenderJob, render_fmp4, render_mp4

        image = decode_image(args.image.read_bytes())
        audio = _speech(args)
        job = RenderJob(image, audio, args.size[0], args.size[1], seed=args.seed)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        notes: list[str] = []
        if args.fragmented:
            with args.output.open("wb") as out:
                for fragment in render_fmp4(job, on_note=notes.append):
                    out.write(fragment.data)
        else:
            render_mp4(job, args.output, on_note=notes.append)
    except MediaError as exc:
        print(f"avatar-emulator render: error: {exc.message}", file=sys.stderr)
        return 2
    except (OSError, ValueError, ImportError, LookupError) as exc:
        print(f"avatar-emulator render: error: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"avatar-emulator render: note: {note}", file=sys.stderr)
    seconds = job.n_frames / 25
    print(f"wrote {args.output} ({args.size[0]}x{args.size[1]}, {job.n_frames} frames, {seconds:.2f} s)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
