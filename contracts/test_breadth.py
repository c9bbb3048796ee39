"""Breadth layer: Schemathesis drives openapi/<provider>.yaml (positive everywhere, negative on loopback only)."""

from __future__ import annotations

import pytest

from contracts.breadth import record, run_breadth
from contracts.client import Client
from contracts.evidence import Evidence
from contracts.spec import spec_path
from contracts.target import NotApplicable, Target


@pytest.mark.clause("BOSON-SCHEMA-RESPONSES", "BOSON-SCHEMA-STATUS-CODES", "BOSON-SCHEMA-NO-5XX")
def test_positive_breadth(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: every operation in openapi/boson.yaml with schema-valid generated requests
    (operations that create something only on loopback or with a budget).
    Requirement: MUST answer documented status codes, schemas, content types and headers, and never 5xx.
    """
    if spec_path(target.provider) is None:
        raise NotApplicable(f"openapi/{target.provider}.yaml is not available")
    headers = client.auth_headers()
    examples = {"smoke": 8, "core": 15, "full": 60}[target.tier] if target.loopback else 3
    include_creating = target.loopback
    result = run_breadth(target, headers, negative=False, max_examples=examples, include_creating=include_creating)
    client.breadth_operations.update(result.operations)
    record(ev, result, ["SCHEMA-RESPONSES", "SCHEMA-STATUS-CODES", "SCHEMA-NO-5XX"])


@pytest.mark.tier("core")
@pytest.mark.clause("BOSON-SCHEMA-NEGATIVE-REJECTED", "BOSON-SCHEMA-NO-5XX")
def test_negative_breadth(client: Client, target: Target, ev: Evidence) -> None:
    """Operation: every operation in openapi/boson.yaml with schema-violating generated requests (loopback only).
    Requirement: MUST reject invalid data with a 4xx and never answer 5xx.
    """
    if not target.loopback:
        raise NotApplicable("negative generation runs against loopback targets only")
    headers = client.auth_headers()
    examples = 60 if target.tier == "full" else 15
    result = run_breadth(target, headers, negative=True, max_examples=examples, include_creating=True)
    client.breadth_operations.update(result.operations)
    record(ev, result, ["SCHEMA-NEGATIVE-REJECTED", "SCHEMA-NO-5XX"])
    statuses = result.statuses
    ev.check("BOSON-SCHEMA-NO-5XX", not any(code >= 500 for code in statuses), f"negative-mode statuses {statuses}")
