"""The state interface (`Tenants`) and its two implementations: embedded and Redis."""

from __future__ import annotations

from .base import DEFAULT_TENANT, LiveJob, ReadOnly, RecordLog, StateUnavailable, Tenants
from .embedded import EmbeddedTenants

__all__ = ["DEFAULT_TENANT", "EmbeddedTenants", "LiveJob", "ReadOnly", "RecordLog", "StateUnavailable", "Tenants"]
