"""Fault rules: deterministic, per operation id, kept per tenant.

A rule lets the first `after` calls to its operation through, then fires `times` times (every
later call when `times` is None). Each rule counts the calls to its operation on its own; when
several rules are due on one call, the oldest fires and the others wait for the next call.
Rules arrive validated against `FaultRuleIn` in openapi/control.yaml; this module adds what a
schema cannot say.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from ..core.tenants import Tenant, TenantSlot
from .bodies import RuleError, check

NetworkKind = Literal["reset", "truncate", "cut", "stall"]

ERROR_DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "The request was rejected (injected fault)."),
    401: ("invalid_api_key", "Invalid API key."),
    403: ("forbidden", "This key may not call this operation."),
    404: ("not_found", "Not found."),
    429: ("all_replicas_busy", "All replicas are busy; retry after the number of seconds in Retry-After."),
    500: ("internal_error", "The server failed (injected fault)."),
    502: ("bad_gateway", "Bad gateway (injected fault)."),
    503: ("service_unavailable", "The service is temporarily unavailable."),
    504: ("gateway_timeout", "Gateway timeout (injected fault)."),
}
EFFECTS = ("error", "network", "job_error", "worker_crash")


@dataclass
class ErrorFault:
    status: int
    code: str
    message: str
    retry_after: int | None = None


@dataclass
class NetworkFault:
    kind: NetworkKind
    bytes: int | None = None
    fragments: int | None = None
    seconds: float | None = None


@dataclass
class FaultRule:
    id: str
    operation_id: str
    times: int | None = 1
    after: int = 0
    probability: float | None = None
    latency: float | None = None
    error: ErrorFault | None = None
    network: NetworkFault | None = None
    job_error: str | None = None
    worker_crash: str | None = None
    """"probe" or "render": the worker process serving this call dies there (SIGKILL)."""
    seen: int = 0
    fired: int = 0
    seed: str = field(default="", repr=False)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def due(self) -> bool:
        """Whether the rule may fire on the call just counted in `seen`."""
        if self.seen <= self.after or self.exhausted:
            return False
        # Seeded by the rule and the call's count: the same calls fire on every run and every front-end.
        if self.probability is None:
            return True
        return random.Random(f"{self.seed}:{self.id}:{self.seen}").random() < self.probability

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("seed")
        return {key: value for key, value in data.items() if value is not None}

    def record(self) -> dict[str, Any]:
        """Everything, for a shared state store (see `from_record`)."""
        return asdict(self)

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> FaultRule:
        error, network = data.get("error"), data.get("network")
        return cls(**{**data, "error": ErrorFault(**error) if error else None,
                      "network": NetworkFault(**network) if network else None})


def _error(raw: int | Mapping[str, Any]) -> ErrorFault:
    fields: Mapping[str, Any] = {"status": raw} if isinstance(raw, int) else raw
    status = int(fields["status"])
    default_code, default_message = ERROR_DEFAULTS.get(status, ("error", "Injected error."))
    code = fields.get("code", fields.get("type", default_code))
    message = fields.get("message", default_message)
    if not code:
        raise RuleError("'error.type' (or 'error.code') must be a non-empty string.")
    retry_after = fields.get("retry_after", 1 if status in (429, 503) else None)
    return ErrorFault(status, str(code), str(message), retry_after)


def _network(raw: str | Mapping[str, Any]) -> NetworkFault:
    fields: Mapping[str, Any] = {"kind": raw} if isinstance(raw, str) else raw
    fault = NetworkFault(fields["kind"], fields.get("bytes"), fields.get("fragments"), fields.get("seconds"))
    if fault.kind == "cut" and fault.bytes is None and fault.fragments is None:
        raise RuleError("a 'cut' needs 'network.fragments' or 'network.bytes'.")
    if fault.bytes is not None and fault.fragments is not None:
        raise RuleError("give 'network.bytes' or 'network.fragments', not both.")
    return fault


def parse_rule(raw: object, rule_id: str, known_operations: Iterable[str], seed: str, *, where: str = "") -> FaultRule:
    """One rule as sent to POST /_emulator/faults: checked against the spec, then for sense."""
    check("FaultRuleIn", raw, prefix=where)
    assert isinstance(raw, Mapping)
    op = raw["operation_id"]
    if op not in set(known_operations):
        raise RuleError(f"unknown operation_id {op!r}; GET /_emulator/routes lists them.")
    effects = [name for name in EFFECTS if raw.get(name) is not None]
    if len(effects) > 1:
        raise RuleError(f"a rule does one thing: give only one of {', '.join(effects)} (plus 'latency' if wanted).")
    if not effects and raw.get("latency") is None:
        raise RuleError("a rule needs one of 'error', 'network', 'job_error', 'worker_crash' or 'latency'.")
    if raw.get("job_error") == "":
        raise RuleError("'job_error' must be a non-empty string (the job's error message).")
    rule = FaultRule(
        id=str(raw.get("id") or rule_id),
        operation_id=str(op),
        times=raw.get("times", 1),
        after=raw.get("after", 0),
        probability=raw.get("probability"),
        latency=raw.get("latency"),
        job_error=raw.get("job_error"),
        worker_crash=raw.get("worker_crash"),
    )
    rule.seed = seed
    if raw.get("error") is not None:
        rule.error = _error(raw["error"])
    if raw.get("network") is not None:
        rule.network = _network(raw["network"])
    return rule


class FaultBook:
    """One tenant's fault rules."""

    def __init__(self, seed: str) -> None:
        self.rules: list[FaultRule] = []
        self._seed = seed
        self.made = 0
        """Rules made so far (the next gets `fault-{made + 1}`)."""

    @classmethod
    def for_tenant(cls, tenant: Tenant) -> FaultBook:
        return cls(f"{tenant.settings.seed}:{tenant.name}")

    def add(self, raw: object, known_operations: Iterable[str], *, where: str = "") -> FaultRule:
        self.made += 1
        rule = parse_rule(raw, f"fault-{self.made}", known_operations, self._seed, where=where)
        if any(existing.id == rule.id for existing in self.rules):
            raise RuleError(f"a rule with id {rule.id!r} exists already.")
        self.rules.append(rule)
        return rule

    def remove(self, rule_id: str) -> bool:
        before = len(self.rules)
        self.rules = [rule for rule in self.rules if rule.id != rule_id]
        return len(self.rules) < before

    def clear(self) -> None:
        self.rules.clear()

    def match(self, operation_id: str) -> FaultRule | None:
        """Count a call to `operation_id`; the rule that fires on it, if any."""
        fired: FaultRule | None = None
        for rule in self.rules:
            if rule.operation_id != operation_id:
                continue
            rule.seen += 1
            if fired is None and rule.due():
                fired = rule
        if fired is not None:
            fired.fired += 1
        return fired


def _dump(book: FaultBook) -> dict[str, Any]:
    return {"made": book.made, "rules": [rule.record() for rule in book.rules]}


def _load(tenant: Tenant, data: dict[str, Any]) -> FaultBook:
    book = FaultBook.for_tenant(tenant)
    book.made = int(data["made"])
    book.rules = [FaultRule.from_record(rule) for rule in data["rules"]]
    return book


FAULTS: TenantSlot[FaultBook] = TenantSlot("faults", FaultBook.for_tenant, dump=_dump, load=_load)
"""Each tenant's fault rules."""
