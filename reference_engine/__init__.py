"""A small, deterministic talking-head renderer. It knows nothing of HTTP."""

from __future__ import annotations

SAMPLE_RATE = 24_000
"""Every audio signal inside the engine is float32 mono at this rate."""

FPS = 25
"""Every video the engine makes runs at this frame rate."""
