"""How long an emulated render takes, separate from how long the real compute takes."""

from __future__ import annotations

from dataclasses import dataclass

from .settings import Pace

REALTIME_FIRST_FRAME_S = 2.0
"""The real service shows its first frame about 2 s after a job starts."""


@dataclass(frozen=True)
class Pacing:
    """`fast`: as fast as the machine renders. `realtime`: first frame after ~2 s, then 1x.

    A number N: N times real time (the first-frame delay shrinks by N too).
    """

    pace: Pace = "fast"

    @property
    def speed(self) -> float | None:
        if self.pace == "fast":
            return None
        if self.pace == "realtime":
            return 1.0
        return float(self.pace)

    def first_frame_delay(self) -> float:
        speed = self.speed
        return 0.0 if speed is None else REALTIME_FIRST_FRAME_S / speed

    def media_time_at(self, media_seconds: float) -> float:
        """Emulated seconds after the start at which `media_seconds` of video exist."""
        speed = self.speed
        if speed is None:
            return 0.0
        return self.first_frame_delay() + media_seconds / speed

    def describe(self) -> str:
        return str(self.pace)
