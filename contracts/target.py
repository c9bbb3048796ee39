"""The target under test: base URL, key (from the environment only), loopback detection and the spend budget."""

from __future__ import annotations

import ipaddress
import os
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

TIERS = ("smoke", "core", "full")
DEFAULT_KEY_ENV = {"boson": "BOSON_API_KEY", "heygen": "HEYGEN_API_KEY"}


class NotApplicable(Exception):
    """Raised when a check cannot run against this target (no budget, no key...); reported as NA."""


def is_loopback(base_url: str) -> bool:
    """True for localhost, *.localhost and loopback IP addresses."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Target:
    """Where the suite points and how much it may spend there."""

    provider: str
    base_url: str
    api_key_env: str
    tier: str = "core"
    budget_videos: int | None = None
    name: str = ""
    spent_videos: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        if self.tier not in TIERS:
            raise ValueError(f"tier must be one of {TIERS}")
        if not self.name:
            self.name = "loopback" if self.loopback else (urlsplit(self.base_url).hostname or self.base_url)

    @property
    def loopback(self) -> bool:
        return is_loopback(self.base_url)

    @property
    def may_create(self) -> bool:
        """Whether tests that create videos may run at all."""
        return self.loopback or self.budget_videos is not None

    @property
    def remaining(self) -> int | None:
        """Videos left to create; None means unlimited (loopback without --budget-videos)."""
        if self.budget_videos is None:
            return None if self.loopback else 0
        return max(self.budget_videos - self.spent_videos, 0)

    def spend(self, n: int = 1) -> None:
        """Reserve n video creations or raise NotApplicable; call before every create request."""
        with self._lock:
            if not self.may_create:
                raise NotApplicable("creates videos; the target is not loopback and no --budget-videos was given")
            remaining = self.remaining
            if remaining is not None and remaining < n:
                raise NotApplicable(f"--budget-videos {self.budget_videos} is spent ({self.spent_videos} created)")
            self.spent_videos += n

    def count(self, n: int = 1) -> None:
        """Record creations that were not planned (a request the target should have refused was accepted)."""
        with self._lock:
            self.spent_videos += n

    def require_budget(self, n: int) -> None:
        """Raise NotApplicable unless n more videos could be created (does not spend)."""
        if not self.may_create:
            raise NotApplicable("creates videos; the target is not loopback and no --budget-videos was given")
        remaining = self.remaining
        if remaining is not None and remaining < n:
            raise NotApplicable(f"needs {n} video creations; --budget-videos leaves {remaining}")

    def api_key(self) -> str:
        """The key from the environment; never print it."""
        key = os.environ.get(self.api_key_env, "")
        if not key:
            raise NotApplicable(f"environment variable {self.api_key_env} is not set")
        return key

    def tier_at_least(self, tier: str) -> bool:
        return TIERS.index(self.tier) >= TIERS.index(tier)

    def redact(self, text: str) -> str:
        """Remove the key from text that may be printed or reported."""
        key = os.environ.get(self.api_key_env, "")
        return text.replace(key, "***REDACTED***") if key else text
