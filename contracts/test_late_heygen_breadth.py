"""Breadth layer, HeyGen (runs after the other HeyGen tests: its generated videos must not disturb the quota check).

Schemathesis drives openapi/heygen.yaml without the emulator-only routes (tag Emulator): positive everywhere
(GET-only off loopback), negative on loopback only.
"""

from __future__ import annotations

import pytest

from contracts.breadth import record, run_breadth
from contracts.client import Client
from contracts.evidence import Evidence
from contracts.spec import spec_path
from contracts.target import NotApplicable, Target


@pytest.mark.clause("HEYGEN-SCHEMA-RESPONSES", "HEYGEN-SCHEMA-STATUS-CODES", "HEYGEN-SCHEMA-NO-5XX")
def test_heygen_positive_breadth(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: every operation in openapi/heygen.yaml (emulator-only routes excluded) with schema-valid generated
    requests (on a remote target only GET operations).
    Requirement: MUST answer documented status codes, schemas, content types and headers, and never 5xx.
    """
    if spec_path(target.provider) is None:
        raise NotApplicable(f"openapi/{target.provider}.yaml is not available")
    headers = client.auth_headers()
    examples = {"smoke": 5, "core": 10, "full": 60}[target.tier] if target.loopback else 3
    result = run_breadth(target, headers, negative=False, max_examples=examples, include_creating=target.loopback)
    client.breadth_operations.update(result.operations)
    record(ev, result, ["SCHEMA-RESPONSES", "SCHEMA-STATUS-CODES", "SCHEMA-NO-5XX"], prefix="HEYGEN")


@pytest.mark.tier("core")
@pytest.mark.clause("HEYGEN-SCHEMA-NEGATIVE-REJECTED", "HEYGEN-SCHEMA-NO-5XX")
def test_heygen_negative_breadth(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: every operation in openapi/heygen.yaml (emulator-only routes excluded) with schema-violating
    generated requests (loopback only).
    Requirement: MUST reject invalid data with a 4xx and never answer 5xx.
    """
    if not target.loopback:
        raise NotApplicable("negative generation runs against loopback targets only")
    headers = client.auth_headers()
    examples = 60 if target.tier == "full" else 10
    result = run_breadth(target, headers, negative=True, max_examples=examples, include_creating=True)
    client.breadth_operations.update(result.operations)
    record(ev, result, ["SCHEMA-NEGATIVE-REJECTED", "SCHEMA-NO-5XX"], prefix="HEYGEN")
    statuses = result.statuses
    ev.check("HEYGEN-SCHEMA-NO-5XX", not any(code >= 500 for code in statuses), f"negative-mode statuses {statuses}")
