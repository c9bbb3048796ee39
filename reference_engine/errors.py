from __future__ import annotations

from typing import Literal


class MediaError(ValueError):
    """Input media that cannot be used: unsupported, undecodable, too large or too long.

    `kind` says which input is at fault; `reason` is a short machine-readable tag that callers
    may map to their own error codes (e.g. ``unsupported``, ``undecodable``, ``too_long``).
    """

    def __init__(self, kind: Literal["image", "audio", "video"], reason: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.reason = reason
        self.message = message
