"""Header names and the control prefix, shared by the server and the test kit (written once)."""

from __future__ import annotations

TENANT_HEADER = "X-Emulator-Tenant"
"""Names the tenant a request belongs to; without it, the `default` tenant."""
CONTROL_PREFIX = "/_emulator"
"""Where the control plane lives."""
CONTROL_TOKEN_HEADER = "X-Emulator-Control-Token"
FAULT_HEADER = "X-Emulator-Fault"
"""Carried by every response that a fault rule produced or disturbed: the rule's id."""
REQUEST_ID_HEADER = "X-Request-Id"
