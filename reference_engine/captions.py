"""Captions for spoken text: timed cues, SubRip (.srt) and ASS (.ass) files, burned-in sprites."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .compose import Sprite, text_sprite

MAX_CUE_CHARS = 42
_SENTENCE = re.compile(r"[^.!?;\n]+[.!?;]*")


@dataclass(frozen=True)
class Cue:
    start: float
    end: float
    text: str


def _chunks(text: str) -> list[str]:
    """Sentences, each split further into pieces of at most MAX_CUE_CHARS (at word boundaries)."""
    out: list[str] = []
    for sentence in _SENTENCE.findall(text):
        words = sentence.split()
        line = ""
        for word in words:
            if line and len(line) + 1 + len(word) > MAX_CUE_CHARS:
                out.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        if line:
            out.append(line)
    return out


def cues_for_text(text: str, start: float, duration: float) -> list[Cue]:
    """Spread the text's chunks over [start, start + duration] in proportion to their length."""
    chunks = _chunks(text)
    if not chunks or duration <= 0:
        return []
    total = sum(len(c) for c in chunks)
    cues: list[Cue] = []
    t = start
    for chunk in chunks:
        span = duration * len(chunk) / total
        cues.append(Cue(round(t, 3), round(t + span, 3), chunk))
        t += span
    return cues


def _clock(seconds: float, sep: str, frac_digits: int) -> str:
    total_ms = round(seconds * 1000)
    h, rem = divmod(total_ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    frac = f"{ms:03d}"[:frac_digits]
    if frac_digits == 2:
        return f"{h:d}:{m:02d}:{s:02d}{sep}{frac}"
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{frac}"


def to_srt(cues: list[Cue]) -> str:
    blocks = [f"{i}\n{_clock(c.start, ',', 3)} --> {_clock(c.end, ',', 3)}\n{c.text}\n" for i, c in enumerate(cues, 1)]
    return "\n".join(blocks)


def to_ass(cues: list[Cue], width: int, height: int) -> str:
    """An ASS v4+ script with one bottom-centred style; one Dialogue line per cue."""
    size = max(12, height // 18)
    header = (
        "[Script Info]\nScriptType: v4.00+\n"
        f"PlayResX: {width}\nPlayResY: {height}\nWrapStyle: 0\n\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, "
        "Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, "
        "MarginR, MarginV, Encoding\n"
        f"Style: Default,Arial,{size},&H00FFFFFF,&H000000FF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,2,0,2,"
        f"20,20,{max(10, height // 20)},1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
    )
    newline = "\\N"
    lines = [
        f"Dialogue: 0,{_clock(c.start, '.', 2)},{_clock(c.end, '.', 2)},Default,,0,0,0,,"
        + c.text.replace(chr(10), newline)
        for c in cues
    ]
    return header + "\n".join(lines) + "\n"


def cue_at(cues: list[Cue], t: float) -> Cue | None:
    for cue in cues:
        if cue.start <= t < cue.end:
            return cue
    return None


def caption_sprite(text: str, width: int, height: int) -> Sprite | None:
    """The burned-in look: white text with a dark outline on a translucent plate, bottom-centred."""
    size = max(12, height // 12)
    return text_sprite(
        text, width, height, size=size, color=(255, 255, 255), x=0.5,
        y=1.0 - (size * 1.2 + max(8, height // 20) + 2 * max(2, size // 6)) / height,
        align="center", stroke=(0, 0, 0), box=(0, 0, 0, 140),
    )  # fmt: skip
