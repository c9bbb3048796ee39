"""The Boson AI higgs-avatar and higgs-tts emulator."""

from .provider import BosonProvider

__all__ = ["BosonProvider"]
