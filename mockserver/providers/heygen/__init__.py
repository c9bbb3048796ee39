"""The HeyGen video-generation API emulator (v1/v2 legacy API, webhooks, assets)."""

from . import lifecycle  # noqa: F401  (registers the --data-dir restorer before any job is read back)
from .provider import HeyGenProvider

__all__ = ["HeyGenProvider"]
