"""The emulator's test control plane: /_emulator routes, fault rules, the journal, seeded state."""

from __future__ import annotations

from .inject import FAULT_HEADER, EmulatedNetworkError
from .journal import JournalMiddleware
from .routes import control_routes

__all__ = ["FAULT_HEADER", "EmulatedNetworkError", "JournalMiddleware", "control_routes"]
