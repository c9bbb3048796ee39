"""The HeyGen video-generation API emulator (v1/v2 legacy API, webhooks, assets)."""

from .provider import HeyGenProvider

__all__ = ["HeyGenProvider"]
