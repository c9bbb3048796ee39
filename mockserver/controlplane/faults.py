"""Fault rules: deterministic, per operation id, kept per tenant.

A rule lets the first `after` calls to its operation through, then fires `times` times (every
later call when `times` is None). Each rule counts the calls to its operation on its own; when
several rules are due on one call, the oldest fires and the others wait for the next call.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ..core.tenants import Tenant

NetworkKind = Literal["reset", "truncate", "cut", "stall"]
NETWORK_KINDS: tuple[str, ...] = ("reset", "truncate", "cut", "stall")

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


class RuleError(ValueError):
    """A fault rule that cannot be accepted; the message names the field."""


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
    seen: int = 0
    fired: int = 0
    _random: random.Random | None = field(default=None, repr=False)

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.fired >= self.times

    def due(self) -> bool:
        """Whether the rule may fire on the call just counted in `seen`."""
        if self.seen <= self.after or self.exhausted:
            return False
        return self.probability is None or self._random is None or self._random.random() < self.probability

    def describe(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_random")
        return {key: value for key, value in data.items() if value is not None}


def _int(value: object, name: str, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise RuleError(f"'{name}' must be an integer >= {minimum}.")
    return value


def _number(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise RuleError(f"'{name}' must be a number >= 0.")
    return float(value)


def _error(raw: object) -> ErrorFault:
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = {"status": raw}
    if not isinstance(raw, Mapping):
        raise RuleError("'error' must be a status code or an object {status, type|code, message, retry_after}.")
    status = _int(raw.get("status"), "error.status", minimum=400)
    if status > 599:
        raise RuleError("'error.status' must be a 4xx or 5xx code.")
    default_code, default_message = ERROR_DEFAULTS.get(status, ("error", "Injected error."))
    code = raw.get("code", raw.get("type", default_code))
    message = raw.get("message", default_message)
    if not isinstance(code, str) or not code or not isinstance(message, str):
        raise RuleError("'error.type'/'error.code' and 'error.message' must be non-empty strings.")
    retry_after = raw.get("retry_after", 1 if status in (429, 503) else None)
    if retry_after is not None:
        retry_after = _int(retry_after, "error.retry_after")
    return ErrorFault(status, code, message, retry_after)


def _network(raw: object) -> NetworkFault:
    if isinstance(raw, str):
        raw = {"kind": raw}
    if not isinstance(raw, Mapping) or raw.get("kind") not in NETWORK_KINDS:
        raise RuleError(f"'network.kind' must be one of {', '.join(NETWORK_KINDS)}.")
    fault = NetworkFault(kind=raw["kind"])
    if raw.get("bytes") is not None:
        fault.bytes = _int(raw["bytes"], "network.bytes")
    if raw.get("fragments") is not None:
        fault.fragments = _int(raw["fragments"], "network.fragments")
    if raw.get("seconds") is not None:
        fault.seconds = _number(raw["seconds"], "network.seconds")
    if fault.kind == "cut" and fault.bytes is None and fault.fragments is None:
        raise RuleError("a 'cut' needs 'network.fragments' or 'network.bytes'.")
    if fault.bytes is not None and fault.fragments is not None:
        raise RuleError("give 'network.bytes' or 'network.fragments', not both.")
    return fault


KNOWN_FIELDS = {"id", "operation_id", "times", "after", "probability", "latency", "error", "network", "job_error"}


def parse_rule(raw: object, rule_id: str, known_operations: Iterable[str], seed: str) -> FaultRule:
    """Validate one rule as sent to POST /_emulator/faults."""
    if not isinstance(raw, Mapping):
        raise RuleError("a fault rule must be a JSON object.")
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    if unknown:
        raise RuleError(f"unknown field(s) {', '.join(map(repr, unknown))} in a fault rule.")
    op = raw.get("operation_id")
    known = set(known_operations)
    if op not in known:
        raise RuleError(f"unknown operation_id {op!r}; GET /_emulator/routes lists them.")
    rule = FaultRule(id=str(raw.get("id") or rule_id), operation_id=str(op))
    if "times" in raw:
        rule.times = None if raw["times"] is None else _int(raw["times"], "times", minimum=1)
    rule.after = _int(raw.get("after", 0), "after")
    if raw.get("probability") is not None:
        probability = _number(raw["probability"], "probability")
        if probability > 1:
            raise RuleError("'probability' must be between 0 and 1.")
        rule.probability = probability
        rule._random = random.Random(f"{seed}:{rule.id}")
    if raw.get("latency") is not None:
        rule.latency = _number(raw["latency"], "latency")
    effects = [name for name in ("error", "network", "job_error") if raw.get(name) is not None]
    if len(effects) > 1:
        raise RuleError(f"a rule does one thing: give only one of {', '.join(effects)} (plus 'latency' if wanted).")
    if not effects and rule.latency is None:
        raise RuleError("a rule needs one of 'error', 'network', 'job_error' or 'latency'.")
    if raw.get("error") is not None:
        rule.error = _error(raw["error"])
    if raw.get("network") is not None:
        rule.network = _network(raw["network"])
    if raw.get("job_error") is not None:
        if not isinstance(raw["job_error"], str) or not raw["job_error"]:
            raise RuleError("'job_error' must be a non-empty string (the job's error message).")
        rule.job_error = raw["job_error"]
    return rule


class FaultBook:
    """One tenant's fault rules."""

    def __init__(self, seed: str) -> None:
        self.rules: list[FaultRule] = []
        self._seed = seed
        self._ids = itertools.count(1)

    def add(self, raw: object, known_operations: Iterable[str]) -> FaultRule:
        rule = parse_rule(raw, f"fault-{next(self._ids)}", known_operations, self._seed)
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


def faults_of(tenant: Tenant, seed: int = 0) -> FaultBook:
    """The tenant's fault rules (made on first use)."""
    return tenant.extension("faults", lambda t: FaultBook(f"{seed}:{t.name}"))
