"""Schemathesis over openapi/<provider>.yaml: generated requests, each check mapped to a clause."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from contracts.evidence import Evidence
from contracts.spec import EXCLUDED_TAGS, spec_path
from contracts.target import Target

CHECKS: dict[str, list[Callable[..., Any]]] = {
    "SCHEMA-RESPONSES": [response_schema_conformance, content_type_conformance, response_headers_conformance],
    "SCHEMA-STATUS-CODES": [status_code_conformance],
    "SCHEMA-NO-5XX": [not_a_server_error],
}
NEGATIVE_CHECKS: dict[str, list[Callable[..., Any]]] = {
    "SCHEMA-NEGATIVE-REJECTED": [negative_data_rejection],
    "SCHEMA-NO-5XX": [not_a_server_error],
}
CREATING = {
    # Boson
    "createVideo",
    "streamVideo",
    "createSpeech",
    # HeyGen: creations, and calls that change or delete the account's state
    "generateVideo",
    "generateVideoV1",
    "uploadAsset",
    "addWebhookEndpoint",
    "deleteVideo",
    "deleteWebhookEndpoint",
    "deleteWebhookEndpointByPath",
}


@dataclass
class BreadthResult:
    """Per clause suffix (SCHEMA-...): how many responses were checked and the first few failures."""

    checked: dict[str, int] = field(default_factory=dict)
    failures: dict[str, list[str]] = field(default_factory=dict)
    operations: list[str] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)


def run_breadth(
    target: Target,
    headers: dict[str, str],
    *,
    negative: bool,
    max_examples: int,
    include_creating: bool,
) -> BreadthResult:
    """Generate requests for every (allowed) operation and run the mapped checks on each response.

    Without include_creating (remote targets) only GET operations that create nothing are driven.
    """
    path = spec_path(target.provider)
    if path is None:
        raise FileNotFoundError(f"openapi/{target.provider}.yaml not found")
    schema = schemathesis.openapi.from_path(path)
    result = BreadthResult()
    mode = schemathesis.GenerationMode.NEGATIVE if negative else schemathesis.GenerationMode.POSITIVE
    checks = NEGATIVE_CHECKS if negative else CHECKS
    for op_result in schema.get_all_operations():
        operation = op_result.ok()  # type: ignore[union-attr]
        raw = operation.definition.raw
        op_id = raw.get("operationId", operation.label)
        if EXCLUDED_TAGS.intersection(raw.get("tags") or ()):
            continue
        if not include_creating and (op_id in CREATING or operation.method.upper() != "GET"):
            continue
        result.operations.append(op_id)
        _run_operation(operation, mode, target, headers, checks, max_examples, result)
    return result


def _run_operation(
    operation: Any,
    mode: Any,
    target: Target,
    headers: dict[str, str],
    checks: dict[str, list[Callable[..., Any]]],
    max_examples: int,
    result: BreadthResult,
) -> None:
    try:
        strategy = operation.as_strategy(generation_mode=mode)
    except Exception:  # an operation with nothing to negate in this mode
        return

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        phases=(Phase.explicit, Phase.generate),
    )
    @given(data=st.data())
    def explore(data: st.DataObject) -> None:
        case = data.draw(strategy)
        if _auth_header_negated(case, headers) or _undeclared_query(case):
            return
        response = case.call(base_url=target.base_url, headers=headers, timeout=60)
        result.statuses[response.status_code] = result.statuses.get(response.status_code, 0) + 1
        for clause, fns in checks.items():
            result.checked[clause] = result.checked.get(clause, 0) + 1
            for fn in fns:
                try:
                    case.validate_response(response, checks=[fn], headers=headers)
                except (Exception, BaseExceptionGroup) as exc:  # FailureGroup is a BaseExceptionGroup
                    text = " ".join(str(exc).split())[:300]
                    failures = result.failures.setdefault(clause, [])
                    if len(failures) < 5:
                        failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {text}")

    explore()


def _auth_header_negated(case: Any, headers: dict[str, str]) -> bool:
    """A negative case that only breaks a header the suite sends itself (the API key, e.g. HeyGen's x-api-key
    security header): the caller's header replaces it, so the invalid part never reaches the server."""
    meta = getattr(case, "meta", None)
    components = getattr(meta, "components", None) or {}
    sent = {k.lower() for k in headers}
    for location, component in components.items():
        if getattr(location, "name", "") == "HEADER" and component.mode.is_negative:
            case_headers = {k.lower() for k in (case.headers or {})}
            return not case_headers or case_headers <= sent
    return False


def _undeclared_query(case: Any) -> bool:
    """A case sending query parameters the operation does not declare: servers ignore unknown parameters and no
    contract says otherwise, so such a case (Schemathesis' `additionalProperties` negation) judges nothing."""
    declared = {p.name for p in case.operation.query}
    return any(name not in declared for name in case.query or {})


def record(ev: Evidence, result: BreadthResult, clauses: list[str], prefix: str = "BOSON") -> None:
    """Turn a BreadthResult into verdicts of the clauses <prefix>-<suffix>."""
    for suffix in clauses:
        clause = f"{prefix}-{suffix}"
        failures = result.failures.get(suffix, [])
        checked = result.checked.get(suffix, 0)
        if failures:
            for failure in failures:
                ev.check(clause, False, failure)
        elif checked:
            ops = ", ".join(result.operations)
            ev.check(clause, True, f"{checked} responses over {ops}; statuses {result.statuses}")
        else:
            ev.na(clause, "no response was checked")
