"""Drive a running emulator's control plane (/_emulator) from Python.

    from mockserver import EmulatorControl

    with EmulatorControl("http://127.0.0.1:8000", tenant="my-test") as emu:
        emu.faults.add("createVideo", error=429, times=2)
        emu.clock.freeze()
        ...
        emu.clock.advance(120)
        emu.journal.assert_called("createVideo", times=3)

The pytest fixtures (`emulator`, `boson_emulator`, `heygen_emulator`) expose the same objects.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx

from ..core.matching import Entry, Where, check_called
from ..http.names import CONTROL_PREFIX, TENANT_HEADER

__all__ = ["ClockControl", "ControlError", "EmulatorControl", "FaultsControl", "JournalControl", "StateControl"]


class _Part:
    def __init__(self, control: EmulatorControl) -> None:
        self._control = control

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self._control.request(method, path, **kwargs)


class FaultsControl(_Part):
    """Fault rules of this tenant (see openapi/control.yaml for every field)."""

    def add(
        self,
        operation_id: str,
        *,
        error: int | dict[str, Any] | None = None,
        network: str | dict[str, Any] | None = None,
        job_error: str | None = None,
        worker_crash: str | None = None,
        latency: float | None = None,
        times: int | None = 1,
        after: int = 0,
        probability: float | None = None,
        id: str | None = None,
    ) -> dict[str, Any]:
        """Add one rule; return it (with its id). `times=None` fires on every call after `after`."""
        rule: dict[str, Any] = {"operation_id": operation_id, "times": times, "after": after}
        for key, value in (("error", error), ("network", network), ("job_error", job_error),
                           ("worker_crash", worker_crash), ("latency", latency),
                           ("probability", probability), ("id", id)):
            if value is not None:
                rule[key] = value
        added: list[dict[str, Any]] = self._call("POST", "/faults", json=rule)["rules"]
        return added[0]

    def add_rules(self, rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Add several rules at once (all or none)."""
        added: list[dict[str, Any]] = self._call("POST", "/faults", json={"rules": rules})["rules"]
        return added

    def list(self) -> list[dict[str, Any]]:
        rules: list[dict[str, Any]] = self._call("GET", "/faults")["rules"]
        return rules

    def remove(self, rule_id: str) -> None:
        self._call("DELETE", f"/faults/{rule_id}")

    def clear(self) -> None:
        self._call("DELETE", "/faults")


class ClockControl(_Part):
    """This tenant's clock, pace and progression."""

    def get(self) -> dict[str, Any]:
        clock: dict[str, Any] = self._call("GET", "/clock")
        return clock

    def set(self, **fields: Any) -> dict[str, Any]:
        """POST /_emulator/clock with any of mode, scale, advance, pace, polls."""
        clock: dict[str, Any] = self._call("POST", "/clock", json=fields)
        return clock

    def now(self) -> float:
        return float(self.get()["now"])

    def freeze(self) -> dict[str, Any]:
        return self.set(mode="frozen")

    def real(self) -> dict[str, Any]:
        return self.set(mode="real")

    def scale(self, factor: float) -> dict[str, Any]:
        return self.set(mode="scaled", scale=factor)

    def advance(self, seconds: float) -> dict[str, Any]:
        return self.set(advance=seconds)

    def pace(self, pace: str | float) -> dict[str, Any]:
        """fast, realtime, or N x real time: how long renders take in emulated time."""
        return self.set(pace=pace)

    def polls(self, n: int | None) -> dict[str, Any]:
        """New jobs complete on their n-th status read (None: they follow the clock)."""
        return self.set(polls=n)


class JournalControl(_Part):
    """What this tenant's clients sent and got back."""

    def entries(
        self, operation_id: str | None = None, *, status: int | None = None, fault: str | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        params = {k: v for k, v in (("operation_id", operation_id), ("status", status), ("fault", fault),
                                    ("limit", limit)) if v is not None}
        entries: list[Entry] = self._call("GET", "/journal", params=params)["entries"]
        return entries

    def clear(self) -> None:
        self._call("DELETE", "/journal")

    def assert_called(self, operation_id: str, *, times: int | None = None, where: Where = None) -> list[Entry]:
        """Assert `operation_id` was called (`times` times, if given) matching `where`; return the matches.

        `where` maps journal fields to wanted values (dotted keys reach into `request_json`), or is a
        predicate on an entry. The failure message lists the near-misses.
        """
        return check_called(self.entries(), operation_id, times=times, where=where, tenant=self._control.tenant)

    def assert_not_called(self, operation_id: str, *, where: Where = None) -> None:
        check_called(self.entries(), operation_id, times=0, where=where, tenant=self._control.tenant)


class StateControl(_Part):
    """Inspect and seed this tenant's jobs, avatars and voices."""

    def get(self) -> dict[str, Any]:
        state: dict[str, Any] = self._call("GET", "/state")
        return state

    def jobs(self) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = self.get()["jobs"]
        return jobs

    def job(self, job_id: str) -> dict[str, Any]:
        for job in self.jobs():
            if job["id"] == job_id:
                return job
        raise KeyError(job_id)

    def seed(self, *, jobs: Sequence[dict[str, Any]] = (), avatars: Sequence[dict[str, Any]] = (),
             voices: Sequence[dict[str, Any]] = ()) -> dict[str, Any]:
        seeded: dict[str, Any] = self._call("POST", "/state", json={"jobs": list(jobs), "avatars": list(avatars),
                                                                     "voices": list(voices)})
        return seeded

    def seed_job(self, provider: str, status: str = "completed", **fields: Any) -> dict[str, Any]:
        job: dict[str, Any] = self.seed(jobs=[{"provider": provider, "status": status, **fields}])["jobs"][0]
        return job

    def failures(self) -> list[dict[str, Any]]:
        """Unexpected exceptions inside the emulator while serving this tenant."""
        failures: list[dict[str, Any]] = self._call("GET", "/failures")["failures"]
        return failures


class EmulatorControl:
    """A client for one tenant of a running emulator's control plane."""

    def __init__(
        self,
        base_url: str,
        tenant: str = "default",
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tenant = tenant
        self._transport = transport
        self._http = httpx.Client(base_url=self.base_url + CONTROL_PREFIX, headers={TENANT_HEADER: tenant},
                                  transport=transport, timeout=timeout)
        self.faults = FaultsControl(self)
        self.clock = ClockControl(self)
        self.journal = JournalControl(self)
        self.state = StateControl(self)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._http.request(method, path, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = response.text
            raise ControlError(response.status_code, message)
        return response.json()

    def for_tenant(self, tenant: str) -> EmulatorControl:
        """Another client on the same emulator, for another tenant."""
        return EmulatorControl(self.base_url, tenant, transport=self._transport)

    def reset(self) -> None:
        """Forget this tenant: its jobs, faults, clock, journal and seeded state."""
        self.request("POST", "/reset")

    def reset_all(self) -> None:
        self.request("POST", "/reset", json={"all": True})

    def drop_tenant(self, tenant: str | None = None) -> None:
        self.request("DELETE", f"/tenants/{tenant or self.tenant}")

    def health(self) -> dict[str, Any]:
        health: dict[str, Any] = self.request("GET", "/health")
        return health

    def routes(self) -> list[dict[str, Any]]:
        routes: list[dict[str, Any]] = self.request("GET", "/routes")["routes"]
        return routes

    def wait_ready(self, timeout: float = 30.0) -> dict[str, Any]:
        """Poll /_emulator/health until the emulator answers (for service containers)."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                return self.health()
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EmulatorControl:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ControlError(Exception):
    """The control plane refused a request (the message is its explanation)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
